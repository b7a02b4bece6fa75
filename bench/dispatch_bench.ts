// deno-lint-ignore-file require-await -- every contender runs in an async bench function on purpose (see below)
/**
 * Groups 2 to 4: dispatching to one synchronous handler, to ten, and a
 * publish chain of depth 3, side by side with the peers.
 *
 * Every bench function is async and runs {@linkcode BATCH} operations per
 * iteration, the synchronous emitters too, so that the harness's per
 * iteration await is spread over 100 operations for every contender alike.
 * Where a peer cannot create events, it is given the same event object on
 * every iteration. Every handler is {@linkcode bump} (one increment).
 *
 * - `async function` (baseline of groups 2 and 3): `await` of an async
 *   function that calls the handlers: the floor for any awaitable API.
 * - `InProcessEventDispatcher`: `await dispatcher.dispatch(event)`, default
 *   options (sequential, fail-fast), the event validated (it is trusted, as
 *   createEvent made it) and a context given to the handler; "typed by a
 *   definition": the handlers registered with a definition, the event made by
 *   its `create` (known good without a schema call).
 * - emittery: `await emitter.emit(name, event)`, its awaitable API.
 * - mitt, eventemitter3, tseep, ts-bus: their synchronous `emit`/`publish`,
 *   not awaited (they cannot be): the handler has run when it returns, but
 *   an async handler's promise would be dropped.
 * - @nestjs/cqrs EventBus (only when `@nestjs/cqrs`, `@nestjs/common`,
 *   `@nestjs/core`, `rxjs` and `reflect-metadata` are in deno.json's
 *   imports; see `_nestjs.ts`): `publish`, fire-and-forget.
 *
 * The chain (group 4): a handler of `chain.a` publishes `chain.b`, whose
 * handler publishes `chain.c`, whose handler publishes `chain.d` (depth 3),
 * handled by {@linkcode bump}. Each link creates a traced event: ours with
 * `context.publish` (validated, deep frozen), the baseline and the peers
 * with {@linkcode naiveEvent} and `causedBy` (correlation and causation
 * ids, shallow frozen). The baseline is hand-written async functions that
 * call and await each other.
 *
 * @module
 */
import Emittery from "emittery";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import mittModule from "mitt";
import { EventBus } from "ts-bus";
import { EventEmitter as Tseep } from "tseep";
import {
  createEvent,
  defineEvent,
  type DomainEvent,
  type EventHandler,
  InProcessEventDispatcher,
} from "../mod.ts";
import { loadNestEventBus, type NestMessageClass } from "./_nestjs.ts";
import {
  BATCH,
  bench,
  bump,
  type NaiveEvent,
  naiveEvent,
  PAYLOAD_3,
} from "./_shared.ts";

// Deno reads mitt's types as CommonJS and runs its ESM build: the default
// export is the function itself.
const mitt = mittModule as unknown as typeof mittModule.default;
const nest = await loadNestEventBus();

const EVENT: DomainEvent = createEvent("invite.created", PAYLOAD_3);
const InviteCreated = defineEvent("invite.created").withPayload<
  typeof PAYLOAD_3
>();
const TYPED_EVENT = InviteCreated.create(PAYLOAD_3);
const BUS_EVENT = { type: "invite.created", payload: EVENT };

function fanOut(handlers: number): void {
  const plural = handlers > 1 ? "s" : "";
  const group =
    `dispatch to ${handlers} sync handler${plural} (${BATCH} per iteration)`;
  const bumps = Array.from({ length: handlers }, () => () => bump());

  const callAll = async (_event: unknown): Promise<void> => {
    for (const handler of bumps) handler();
  };
  bench({
    name: "await async function (the limit)",
    group,
    baseline: true,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) await callAll(EVENT);
    },
  });

  const dispatcher = new InProcessEventDispatcher();
  for (const handler of bumps) dispatcher.register(EVENT.eventType, handler);
  bench({
    name: "InProcessEventDispatcher, await dispatch",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) await dispatcher.dispatch(EVENT);
    },
  });
  bench({
    name: "InProcessEventDispatcher, dispatch not awaited",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) dispatcher.dispatch(EVENT);
    },
  });

  const typed = new InProcessEventDispatcher();
  for (const handler of bumps) typed.register(InviteCreated, handler);
  bench({
    name: "InProcessEventDispatcher, await dispatch, typed by a definition",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) await typed.dispatch(TYPED_EVENT);
    },
  });

  const emittery = new Emittery();
  for (const handler of bumps) emittery.on(EVENT.eventType, handler);
  bench({
    name: "emittery, await emit",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) {
        await emittery.emit(EVENT.eventType, EVENT);
      }
    },
  });

  const emitter = mitt<Record<string, DomainEvent>>();
  for (const handler of bumps) emitter.on(EVENT.eventType, handler);
  bench({
    name: "mitt, emit (sync)",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) emitter.emit(EVENT.eventType, EVENT);
    },
  });

  const ee3 = new EventEmitter3();
  for (const handler of bumps) ee3.on(EVENT.eventType, handler);
  bench({
    name: "eventemitter3, emit (sync)",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) ee3.emit(EVENT.eventType, EVENT);
    },
  });

  const tseep = new Tseep<Record<string, (event: DomainEvent) => void>>();
  for (const handler of bumps) tseep.on(EVENT.eventType, handler);
  bench({
    name: "tseep, emit (sync)",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) tseep.emit(EVENT.eventType, EVENT);
    },
  });

  const bus = new EventBus();
  for (const handler of bumps) bus.subscribe(EVENT.eventType, handler);
  bench({
    name: "ts-bus, publish (sync)",
    group,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) bus.publish(BUS_EVENT);
    },
  });

  if (nest) {
    const nestBus = nest.create();
    const Message = nest.messageClass();
    const message = new Message(EVENT);
    for (const handler of bumps) nest.on(nestBus, Message, handler);
    bench({
      name: "@nestjs/cqrs EventBus, publish (fire-and-forget)",
      group,
      fn: async () => {
        for (let i = 0; i < BATCH; i++) nestBus.publish(message);
      },
    });
  }
}

fanOut(1);
fanOut(10);

// Group 4: a publish chain of depth 3.
const CHAIN = `publish chain of depth 3 (${BATCH} per iteration)`;
const ROOT: DomainEvent = createEvent("chain.a", PAYLOAD_3);
const NAIVE_ROOT: NaiveEvent = naiveEvent("chain.a", PAYLOAD_3);
const STEP_1 = { step: 1 };
const STEP_2 = { step: 2 };
const STEP_3 = { step: 3 };

async function handAD(event: NaiveEvent): Promise<void> {
  await handB(naiveEvent("chain.b", STEP_1, event));
}
async function handB(event: NaiveEvent): Promise<void> {
  await handC(naiveEvent("chain.c", STEP_2, event));
}
async function handC(event: NaiveEvent): Promise<void> {
  await handD(naiveEvent("chain.d", STEP_3, event));
}
async function handD(_event: NaiveEvent): Promise<void> {
  bump();
}
bench({
  name: "async functions awaiting each other",
  group: CHAIN,
  baseline: true,
  fn: async () => {
    for (let i = 0; i < BATCH; i++) await handAD(NAIVE_ROOT);
  },
});

const chained = new InProcessEventDispatcher();
const publishNext =
  (type: string, payload: { step: number }): EventHandler =>
  async (_event, context) => {
    await context.publish(type, payload);
  };
chained.register("chain.a", publishNext("chain.b", STEP_1));
chained.register("chain.b", publishNext("chain.c", STEP_2));
chained.register("chain.c", publishNext("chain.d", STEP_3));
chained.register("chain.d", bump);
bench({
  name: "InProcessEventDispatcher, await context.publish",
  group: CHAIN,
  fn: async () => {
    for (let i = 0; i < BATCH; i++) await chained.dispatch(ROOT);
  },
});

const chainedEmittery = new Emittery<Record<string, NaiveEvent>>();
const emitNext =
  (type: string, payload: { step: number }) =>
  async ({ data }: { data: NaiveEvent }): Promise<void> => {
    await chainedEmittery.emit(type, naiveEvent(type, payload, data));
  };
chainedEmittery.on("chain.a", emitNext("chain.b", STEP_1));
chainedEmittery.on("chain.b", emitNext("chain.c", STEP_2));
chainedEmittery.on("chain.c", emitNext("chain.d", STEP_3));
chainedEmittery.on("chain.d", bump);
bench({
  name: "emittery, await emit",
  group: CHAIN,
  fn: async () => {
    for (let i = 0; i < BATCH; i++) {
      await chainedEmittery.emit("chain.a", NAIVE_ROOT);
    }
  },
});

/** The sync emitters' chain: `emit(type, event)` and `on(type, handler)`. */
function syncChain(
  name: string,
  on: (type: string, handler: (event: NaiveEvent) => void) => void,
  emit: (type: string, event: NaiveEvent) => void,
): void {
  const next =
    (type: string, payload: { step: number }) => (event: NaiveEvent): void =>
      emit(type, naiveEvent(type, payload, event));
  on("chain.a", next("chain.b", STEP_1));
  on("chain.b", next("chain.c", STEP_2));
  on("chain.c", next("chain.d", STEP_3));
  on("chain.d", bump);
  bench({
    name,
    group: CHAIN,
    fn: async () => {
      for (let i = 0; i < BATCH; i++) emit("chain.a", NAIVE_ROOT);
    },
  });
}

const chainedMitt = mitt<Record<string, NaiveEvent>>();
syncChain(
  "mitt, emit (sync)",
  (type, handler) => chainedMitt.on(type, handler),
  (type, event) => chainedMitt.emit(type, event),
);
const chainedEE3 = new EventEmitter3();
syncChain(
  "eventemitter3, emit (sync)",
  (type, handler) => chainedEE3.on(type, handler),
  (type, event) => chainedEE3.emit(type, event),
);
const chainedTseep = new Tseep<Record<string, (event: NaiveEvent) => void>>();
syncChain(
  "tseep, emit (sync)",
  (type, handler) => chainedTseep.on(type, handler),
  (type, event) => chainedTseep.emit(type, event),
);
const chainedBus = new EventBus();
syncChain(
  "ts-bus, publish (sync)",
  (type, handler) =>
    chainedBus.subscribe(
      type,
      (event) => handler((event as { payload: NaiveEvent }).payload),
    ),
  (type, event) => chainedBus.publish({ type, payload: event }),
);
if (nest) {
  const { create, messageClass, on } = nest;
  const chainedNest = create();
  const classes = new Map<string, NestMessageClass>();
  const classOf = (type: string): NestMessageClass => {
    let Message = classes.get(type);
    if (!Message) classes.set(type, Message = messageClass());
    return Message;
  };
  syncChain(
    "@nestjs/cqrs EventBus, publish (fire-and-forget)",
    (type, handler) =>
      on(
        chainedNest,
        classOf(type),
        (message) => handler(message.event as NaiveEvent),
      ),
    (type, event) => chainedNest.publish(new (classOf(type))(event)),
  );
}
