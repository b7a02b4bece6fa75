import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
import {
  type CheckedDefinition,
  isCheckable,
  refusal,
} from "../_shared/_definition_check.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import {
  DispatchError,
  DomainEventError,
  type HandlerError,
  MaxDepthExceededError,
} from "../event/errors.ts";
import { sealedBy } from "../_shared/_envelope.ts";
import { assertDomainEvent } from "../event/guards.ts";
import type { EventHandler, Middleware, Unsubscribe } from "./handler.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import { makeDisposable } from "../_shared/_disposable.ts";
import {
  abortable,
  callHandler,
  Context,
  Dispatch,
  DONE,
  type Entry,
  isThenable,
  NO_HANDLERS,
  type Run,
} from "./_dispatch.ts";

/**
 * Options for {@linkcode InProcessEventDispatcher}.
 *
 * @example Usage
 * ```ts
 * import { InProcessEventDispatcher, type DispatcherOptions } from "@seedwork/domain-events";
 *
 * const options: DispatcherOptions = {
 *   concurrency: "parallel",
 *   errorMode: "isolate",
 *   onHandlerError: (error) => console.error(error),
 * };
 * const dispatcher = new InProcessEventDispatcher(options);
 * ```
 */
export interface DispatcherOptions {
  /**
   * `"sequential"` awaits one handler after the other; `"parallel"` starts
   * them all, then waits for all to settle.
   *
   * @default {"sequential"}
   */
  concurrency?: "sequential" | "parallel";
  /**
   * What a failing handler does to its dispatch. `"fail-fast"`: the dispatch
   * rejects with the first {@linkcode HandlerError} (sequential: the later
   * handlers do not run; parallel: once all have settled, the first failure
   * in registration order, the others go to `onHandlerError` if given).
   * `"collect"`: every handler runs, then the dispatch rejects with a
   * {@linkcode DispatchError} of them all, in registration order.
   * `"isolate"`: every handler runs, the dispatch resolves, and each failure
   * goes to `onHandlerError` as it happens.
   *
   * @default {"fail-fast"}
   */
  errorMode?: "fail-fast" | "collect" | "isolate";
  /**
   * Receives the failures the dispatch does not reject with; required in
   * `"isolate"` mode.
   *
   * If it throws, the dispatch goes on as if it had returned, and once every
   * handler has settled it rejects with the first error `onHandlerError`
   * threw.
   *
   * (In `"fail-fast"` parallel mode that error takes the place of the first
   * {@linkcode HandlerError}, which is then passed to `onHandlerError` too,
   * after the others. `"collect"` mode and sequential `"fail-fast"`
   * dispatches never call it; `dispatchAll` in `"collect"` mode calls it with
   * the failures it collected when something else stops it, and rejects with
   * what stopped it.)
   *
   * @default {undefined}
   */
  onHandlerError?: (error: HandlerError) => void;
  /**
   * How deep `context.publish` and `context.dispatch` may nest: an event
   * published at depth `maxDepth + 1` is refused with
   * {@linkcode MaxDepthExceededError}.
   *
   * @default {32}
   */
  maxDepth?: number;
  /**
   * Called with an event that no handler (typed or any) is registered for.
   *
   * @default {undefined}
   */
  onUnhandled?: (event: DomainEvent) => void;
  /**
   * How long, in milliseconds, an async handler may take to settle: past it,
   * the handler fails with a {@linkcode HandlerError} whose `cause` is a
   * `DOMException` named `"TimeoutError"`. Its work is not cancelled (the
   * dispatch stops waiting for it) and what it settles with later is
   * ignored. Synchronous handlers are not timed. `register` and
   * `registerAny` can set another value per handler. An integer from 1 to
   * 2147483647, or `Infinity` for none.
   *
   * @default {Infinity}
   */
  handlerTimeoutMs?: number;
}

/**
 * Options for one registration: `register(definition, handler, options)`.
 *
 * @example Usage
 * ```ts
 * import { InProcessEventDispatcher, type RegisterOptions } from "@seedwork/domain-events";
 *
 * const options: RegisterOptions = { timeoutMs: 5_000 };
 * new InProcessEventDispatcher().register("report.requested", async () => {}, options);
 * ```
 */
export interface RegisterOptions {
  /**
   * This handler's timeout, in place of the dispatcher's
   * `handlerTimeoutMs` (`Infinity` for none).
   *
   * @default {the dispatcher's handlerTimeoutMs}
   */
  timeoutMs?: number;
}

/**
 * Options for one dispatch.
 *
 * @example Usage
 * ```ts
 * import { createEvent, InProcessEventDispatcher, type DispatchOptions } from "@seedwork/domain-events";
 *
 * const options: DispatchOptions = { signal: AbortSignal.timeout(10_000) };
 * await new InProcessEventDispatcher().dispatch(createEvent("a"), options);
 * ```
 */
export interface DispatchOptions {
  /**
   * Stops the dispatch from waiting: once it aborts, the dispatch rejects
   * with `signal.reason` (at once, with no handler run, when it is aborted
   * already). Handlers see it as `context.signal`, and the dispatches they
   * publish inherit it. Work already started is not cancelled: pass the
   * signal on to what can stop (fetch, timers, database calls). What that
   * work settles with after the abort is ignored, except that in
   * `"isolate"` mode failures still go to `onHandlerError` as they happen.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Sees every event a dispatch accepts, top-level and nested, before its
 * handlers run, handled or not; see
 * {@linkcode InProcessEventDispatcher.observe}.
 *
 * @example Usage
 * ```ts
 * import type { EventObserver } from "@seedwork/domain-events";
 *
 * const log: EventObserver = (event, { depth }) => {
 *   console.log(`${depth} ${event.eventType}`);
 * };
 * ```
 */
export type EventObserver = (
  event: DomainEvent,
  info: { readonly depth: number },
) => void;

type Handler = EventHandler;
type TypeOrDefinition = string | { readonly type: string };

function keyOf(type: TypeOrDefinition): string {
  return typeof type == "string" ? type : type.type;
}

/** Checks a timeout option: an integer from 1 to 2^31-1 ms, or Infinity (none). */
function checkTimeout(name: string, value: unknown): void {
  checkArgument(
    value === undefined || value === Infinity ||
      (Number.isInteger(value) && (value as number) >= 1 &&
        (value as number) <= 2 ** 31 - 1),
    name,
    "an integer from 1 to 2147483647 or Infinity",
    value,
  );
}

/** Reads `options.signal` of dispatch and dispatchAll. */
function signalOf(
  options: DispatchOptions | undefined,
  where: "dispatch" | "dispatchAll",
): AbortSignal | undefined {
  if (options === undefined) return undefined;
  checkOptions(options, ["signal"], where);
  const { signal } = options;
  checkArgument(
    signal === undefined || signal instanceof AbortSignal,
    "signal",
    "an AbortSignal",
    signal,
  );
  return signal;
}

/** Whether `value` can be registered as a handler; never throws. */
function isHandler(value: unknown): boolean {
  try {
    return typeof value == "function" ||
      typeof (value as { handle?: unknown } | null)?.handle == "function";
  } catch {
    return false;
  }
}

/** How `event` was sealed (see `sealedBy`), once checked if it was not. */
function checkedSeal(event: DomainEvent): object | null | undefined {
  const sealed = sealedBy(event);
  if (sealed === undefined) assertDomainEvent(event);
  return sealed;
}

/** A type's handlers, then the `registerAny` ones. */
function handlersOf(own: Entry, any: Entry): readonly Handler[] {
  return any.handlers.length ? own.handlers.concat(any.handlers) : own.handlers;
}

/** Throws the InvalidEventError of an event its type's definition refuses. */
function refuse(definition: CheckedDefinition, event: DomainEvent): void {
  const refused = refusal(definition, event);
  if (refused) throw refused;
}

/** A function that calls `remove` once, also `Disposable` where the runtime has `Symbol.dispose`. */
function unsubscriber(remove: () => void): Unsubscribe {
  let done = false;
  const off = (() => {
    if (!done) {
      done = true;
      remove();
    }
  }) as Unsubscribe;
  return makeDisposable(off, off);
}

/**
 * Dispatches domain events to their handlers in the same process, awaitably,
 * with every follow-up event traced to its cause.
 *
 * Handlers of a type run in registration order, then the `registerAny`
 * handlers. Each dispatch works on a snapshot: (un)registering during a
 * dispatch takes effect from the next one. When every handler returns
 * synchronously, no promise is made per handler.
 *
 * @example Register, dispatch, publish a follow-up
 * ```ts
 * import { defineEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const dispatcher = new InProcessEventDispatcher();
 * const log: string[] = [];
 * dispatcher.register(InviteCreated, async (event, context) => {
 *   const sent = await context.publish("invite.email_sent", { to: event.payload.email });
 *   assert.equal(sent.causationId, event.eventId);
 * });
 * dispatcher.registerAny((event, { depth }) => { log.push(`${depth} ${event.eventType}`); });
 *
 * await dispatcher.dispatch(InviteCreated.create({ email: "ada@example.com" }));
 * assert.deepEqual(log, ["1 invite.email_sent", "0 invite.created"]);
 * ```
 */
export class InProcessEventDispatcher {
  /** Each type's handlers; the `registerAny` ones under `null`. */
  #handlers = new Map<string | null, Entry>();
  /** The `registerAny` handlers, also in #handlers under `null`. */
  #any: Entry = NO_HANDLERS;
  #middleware: readonly Middleware[] = [];
  #observers: readonly EventObserver[] = [];
  #options: DispatcherOptions;
  #maxDepth: number;

  /**
   * Creates a dispatcher.
   *
   * @param options Concurrency, error mode, error and unhandled-event callbacks, loop guard, handler timeout.
   * @throws {TypeError} When `errorMode` or `concurrency` is not one of its
   *   values, `maxDepth` is not an integer >= 0, `handlerTimeoutMs` is not an
   *   integer from 1 to 2147483647 or `Infinity`, `onHandlerError` or
   *   `onUnhandled` is given but is not a function, or `errorMode` is
   *   `"isolate"` without an `onHandlerError` function, or an option name is
   *   not one of DispatcherOptions'. The message names the option, what was expected and what was found:
   *   `maxDepth: expected an integer >= 0, got NaN`.
   */
  constructor(options: DispatcherOptions = {}) {
    checkOptions(options, [
      "concurrency",
      "errorMode",
      "onHandlerError",
      "maxDepth",
      "onUnhandled",
      "handlerTimeoutMs",
    ], "InProcessEventDispatcher");
    const copy = { ...options };
    const {
      maxDepth = 32,
      errorMode,
      concurrency,
      onHandlerError,
      onUnhandled,
    } = copy;
    checkArgument(
      Number.isInteger(maxDepth) && maxDepth >= 0,
      "maxDepth",
      "an integer >= 0",
      maxDepth,
    );
    checkArgument(
      errorMode === undefined || errorMode == "fail-fast" ||
        errorMode == "collect" || errorMode == "isolate",
      "errorMode",
      `"fail-fast" or "collect" or "isolate"`,
      errorMode,
    );
    checkArgument(
      concurrency === undefined || concurrency == "sequential" ||
        concurrency == "parallel",
      "concurrency",
      `"sequential" or "parallel"`,
      concurrency,
    );
    checkArgument(
      typeof onHandlerError == "function" ||
        (onHandlerError === undefined && errorMode != "isolate"),
      "onHandlerError",
      "a function",
      onHandlerError,
    );
    checkArgument(
      onUnhandled === undefined || typeof onUnhandled == "function",
      "onUnhandled",
      "a function",
      onUnhandled,
    );
    checkTimeout("handlerTimeoutMs", copy.handlerTimeoutMs);
    this.#options = copy;
    this.#maxDepth = maxDepth;
  }

  /**
   * Registers a handler for one event type, typed from its definition. The
   * handler then runs only for events the definition accepts: events its
   * `create` made (or `parseEvent` with it) without a look, any other event
   * of that type checked once by its schema; an event it refuses makes the
   * dispatch reject with {@linkcode InvalidEventError} before any handler
   * runs. One type has at most one definition: registering another one for
   * the same type string is a `TypeError`, while the same definition again,
   * or plain-string registrations of the type, are fine (they are checked
   * too). The type forgets its definition when its last handler goes.
   *
   * Registering the same handler again for a type is a no-op: it stays one
   * registration, in its first place, with its first options, and runs once
   * per dispatch. Every `Unsubscribe` returned for it removes that one
   * registration, so calling the second one also unregisters the first.
   *
   * @typeParam TType The event type.
   * @typeParam TPayload The payload's shape.
   * @param definition The event's definition.
   * @param handler A function, or an object with a `handle` method.
   * @param options `timeoutMs`, this handler's timeout.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object
   *   with a `handle` method, `timeoutMs` is not valid, `options` has another
   *   key, or another definition is registered for the type.
   */
  register<TType extends string, TPayload extends JsonObject>(
    definition: EventDefinition<TType, TPayload>,
    handler: EventHandler<DomainEvent<TType, TPayload>>,
    options?: RegisterOptions,
  ): Unsubscribe;
  /**
   * Registers a handler for one event type, given as a string. As with a
   * definition, registering the same handler again is a no-op, and any of
   * the `Unsubscribe`s returned for it removes the one registration.
   *
   * @typeParam TType The event type.
   * @param type The event type.
   * @param handler A function, or an object with a `handle` method.
   * @param options `timeoutMs`, this handler's timeout.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object with a `handle` method, `timeoutMs` is not valid, or `options` has another key.
   */
  register<TType extends string>(
    type: TType,
    handler: EventHandler<DomainEvent<TType>>,
    options?: RegisterOptions,
  ): Unsubscribe;
  register<TEvent extends DomainEvent>(
    type: TypeOrDefinition,
    handler: EventHandler<TEvent>,
    options?: RegisterOptions,
  ): Unsubscribe {
    return this.#add(
      keyOf(type),
      handler as unknown as Handler,
      options,
      typeof type == "object" && type && isCheckable(type) ? type : undefined,
    );
  }

  /**
   * Registers a handler for every event; it runs after the type's own
   * handlers. Registering the same handler again is a no-op, as with
   * `register`.
   *
   * @param handler A function, or an object with a `handle` method.
   * @param options `timeoutMs`, this handler's timeout.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object with a `handle` method, `timeoutMs` is not valid, or `options` has another key.
   *
   * @example Usage
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * const types: string[] = [];
   * const off = dispatcher.registerAny((event) => { types.push(event.eventType); });
   * await dispatcher.dispatch(createEvent("a"));
   * off();
   * await dispatcher.dispatch(createEvent("b"));
   * assert.deepEqual(types, ["a"]);
   * ```
   */
  registerAny(handler: EventHandler, options?: RegisterOptions): Unsubscribe {
    return this.#add(null, handler, options, undefined);
  }

  /**
   * Removes a handler of one event type (not a `registerAny` one: use the
   * function `registerAny` returned).
   *
   * @typeParam TEvent The events the handler handles.
   * @param type The event type or its definition.
   * @param handler The handler given to `register`.
   * @returns Whether it was registered.
   *
   * @example Usage
   * ```ts
   * import { InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * const handler = () => {};
   * dispatcher.register("a", handler);
   * assert.equal(dispatcher.unregister("a", handler), true);
   * assert.equal(dispatcher.unregister("a", handler), false);
   * ```
   */
  unregister<TEvent extends DomainEvent>(
    type: string | { readonly type: string },
    handler: EventHandler<TEvent>,
  ): boolean {
    return this.#remove(keyOf(type), handler as unknown as Handler);
  }

  /**
   * Watches every event a dispatch accepts (one that is an event, within
   * `maxDepth`, and that the type's definition accepts), top-level and
   * nested, handled or not, before its handlers run (and before
   * `onUnhandled`). Observers are called in the order they were added, with
   * the event and its depth, outside middleware; they should be synchronous
   * (a promise one returns is not awaited). An observer that throws fails the
   * dispatch like a handler that runs first: a {@linkcode HandlerError}
   * named after the observer, handled by the error mode (fail-fast: the
   * dispatch rejects with it and no handler runs; collect: it is the first
   * of the `DispatchError`; isolate: it goes to `onHandlerError`); the other
   * observers still see the event. As with handlers, a dispatch uses the
   * observers it started with, and adding one again is a no-op.
   *
   * @param observer Called with each event and `{ depth }`.
   * @returns A function that removes it (also `Disposable`).
   * @throws {TypeError} When `observer` is not a function.
   *
   * @example Every event, handled or not
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * dispatcher.register("a", async (_event, { publish }) => {
   *   await publish("b"); // no handler for "b"
   * });
   * const seen: string[] = [];
   * const off = dispatcher.observe((event, { depth }) => {
   *   seen.push(`${depth} ${event.eventType}`);
   * });
   * await dispatcher.dispatch(createEvent("a"));
   * off();
   * assert.deepEqual(seen, ["0 a", "1 b"]);
   * ```
   */
  observe(observer: EventObserver): Unsubscribe {
    checkArgument(
      typeof observer == "function",
      "observer",
      "a function",
      observer,
    );
    if (!this.#observers.includes(observer)) {
      this.#observers = [...this.#observers, observer];
    }
    return unsubscriber(() => {
      this.#observers = this.#observers.filter((other) => other != observer);
    });
  }

  /**
   * Adds a middleware around every handler call; the first added is the
   * outermost. Adding the same middleware again is a no-op. A dispatch uses
   * the middleware it started with.
   *
   * @param middleware The middleware.
   * @returns A function that removes it (also `Disposable`).
   * @throws {TypeError} When `middleware` is not a function.
   *
   * @example Usage
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const calls: string[] = [];
   * const dispatcher = new InProcessEventDispatcher();
   * const off = dispatcher.use(async (_event, next, { handlerName }) => {
   *   calls.push(`before ${handlerName}`);
   *   await next();
   *   calls.push(`after ${handlerName}`);
   * });
   * dispatcher.register("a", function audit() { calls.push("audit"); });
   * await dispatcher.dispatch(createEvent("a"));
   * off();
   * await dispatcher.dispatch(createEvent("a"));
   * assert.deepEqual(calls, ["before audit", "audit", "after audit", "audit"]);
   * ```
   */
  use(middleware: Middleware): Unsubscribe {
    checkArgument(
      typeof middleware == "function",
      "middleware",
      "a function",
      middleware,
    );
    if (!this.#middleware.includes(middleware)) {
      this.#middleware = [...this.#middleware, middleware];
    }
    return unsubscriber(() => {
      this.#middleware = this.#middleware.filter((other) =>
        other != middleware
      );
    });
  }

  /**
   * Removes every handler; middleware and observers stay.
   *
   * @example Usage
   * ```ts
   * import { InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * dispatcher.register("a", () => {});
   * dispatcher.clear();
   * assert.equal(dispatcher.handlerCount(), 0);
   * ```
   */
  clear(): void {
    this.#handlers.clear();
    this.#any = NO_HANDLERS;
  }

  /**
   * Counts handlers: with a type, those a dispatch of it would run (its own
   * and the `registerAny` ones); without, every registration.
   *
   * @param type An event type or its definition.
   * @returns The number of handlers.
   *
   * @example Usage
   * ```ts
   * import { InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * dispatcher.register("a", () => {});
   * dispatcher.registerAny(() => {});
   * assert.equal(dispatcher.handlerCount("a"), 2);
   * assert.equal(dispatcher.handlerCount("b"), 1);
   * assert.equal(dispatcher.handlerCount(), 2);
   * ```
   */
  handlerCount(type?: string | { readonly type: string }): number {
    const handlers = this.#handlers;
    if (type !== undefined) {
      return (handlers.get(keyOf(type)) ?? NO_HANDLERS).handlers.length +
        this.#any.handlers.length;
    }
    let count = 0;
    for (const entry of handlers.values()) count += entry.handlers.length;
    return count;
  }

  /**
   * Runs the event's handlers, by the dispatcher's concurrency and error
   * mode.
   *
   * @param event The event.
   * @param options `signal`, to stop waiting.
   * @returns A promise that settles when every handler has.
   * @throws {InvalidEventError} (as a rejection) When `event` is not a domain
   *   event, or a definition registered for its type refuses it; no handler runs.
   * @throws {HandlerError} (as a rejection) In `"fail-fast"` mode, for the first failing handler.
   * @throws {DispatchError} (as a rejection) In `"collect"` mode, when handlers failed.
   * @throws {TypeError} (as a rejection) When `options.signal` is not an AbortSignal, or `options` has another key.
   *
   * @example Usage
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * let count = 0;
   * dispatcher.register("a", () => { count++; });
   * await dispatcher.dispatch(createEvent("a"));
   * assert.equal(count, 1);
   * ```
   *
   * @example With an AbortSignal
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * dispatcher.register("a", (_event, { signal }) => new Promise(() => {})); // never settles
   * const controller = new AbortController();
   * const dispatched = dispatcher.dispatch(createEvent("a"), { signal: controller.signal });
   * controller.abort(new Error("shutting down"));
   * await assert.rejects(dispatched, /shutting down/);
   * ```
   */
  dispatch(event: DomainEvent, options?: DispatchOptions): Promise<void> {
    if (options === undefined) return this.#dispatchAt(event, 0, undefined);
    let signal;
    try {
      signal = signalOf(options, "dispatch");
      if (signal?.aborted) throw signal.reason;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#dispatchAt(event, 0, signal);
  }

  /**
   * Dispatches events in order, each once the previous one's dispatch has
   * settled; every event is checked first (that it is an event, and that
   * the definition registered for its type accepts it), so an invalid one
   * means none is dispatched.
   *
   * In `"collect"` mode it dispatches every event and then rejects with one
   * {@linkcode DispatchError} of every handler failure, in order. In the other
   * modes it stops at the first dispatch that rejects, and rejects with that
   * error; a library error (a {@linkcode DomainEventError} or
   * {@linkcode DispatchError}) then carries `notDispatched`, the later events
   * that were not dispatched, and its message says how many. (In collect
   * mode it stops only for what is not a handler failure, such as an aborted
   * signal or a throwing `onUnhandled`; the failures collected until then go
   * to `onHandlerError` if given.)
   *
   * @param events The events, e.g. from {@linkcode EventRecorder.pullEvents}.
   * @param options `signal`, given to each dispatch.
   * @returns A promise that settles after the last dispatch.
   * @throws {InvalidEventError} (as a rejection) When any of them is not a
   *   domain event, or is refused by its type's definition; none is dispatched.
   * @throws {HandlerError} (as a rejection) As {@linkcode InProcessEventDispatcher.dispatch}.
   * @throws {DispatchError} (as a rejection) In `"collect"` mode, of every failure of every event.
   *
   * @example Usage
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * const types: string[] = [];
   * dispatcher.registerAny((event) => { types.push(event.eventType); });
   * await dispatcher.dispatchAll([createEvent("a"), createEvent("b")]);
   * assert.deepEqual(types, ["a", "b"]);
   * ```
   *
   * @example Which events were not dispatched
   * ```ts
   * import { createEvent, HandlerError, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new InProcessEventDispatcher();
   * dispatcher.register("a", () => { throw new Error("down"); });
   * const [a, b] = [createEvent("a"), createEvent("b")];
   * await assert.rejects(dispatcher.dispatchAll([a, b]), (error) => {
   *   assert(error instanceof HandlerError);
   *   assert.deepEqual(error.notDispatched, [b]);
   *   return true;
   * });
   * ```
   */
  async dispatchAll(
    events: Iterable<DomainEvent>,
    options?: DispatchOptions,
  ): Promise<void> {
    const signal = signalOf(options, "dispatchAll");
    const list = [...events];
    for (const event of list) {
      assertDomainEvent(event);
      const definition = this.#handlers.get(event.eventType)?.definition;
      if (definition) refuse(definition, event);
    }
    const collect = this.#options.errorMode == "collect";
    const failures: HandlerError[] = [];
    let firstFailed: DomainEvent | undefined;
    for (const [index, event] of list.entries()) {
      try {
        if (signal?.aborted) throw signal.reason;
        await this.#dispatchAt(event, 0, signal);
      } catch (error) {
        if (collect && error instanceof DispatchError) {
          firstFailed ??= event;
          failures.push(...error.errors);
          continue;
        }
        for (const failure of failures) {
          try {
            this.#options.onHandlerError?.(failure);
          } catch {
            // It rejects with what stopped it, as onHandlerError's JSDoc says.
          }
        }
        if (
          error instanceof DomainEventError || error instanceof DispatchError
        ) {
          const rest = Object.freeze(list.slice(index + 1));
          Object.defineProperty(error, "notDispatched", {
            value: rest,
            configurable: true,
          });
          if (rest.length) {
            error.message +=
              ` (dispatchAll stopped: ${rest.length} later event(s) not dispatched)`;
          }
        }
        throw error;
      }
    }
    if (firstFailed) throw new DispatchError(firstFailed, failures);
  }

  #add(
    type: string | null,
    handler: Handler,
    options: RegisterOptions | undefined,
    definition: CheckedDefinition | undefined,
  ): Unsubscribe {
    checkArgument(
      isHandler(handler),
      "handler",
      "a function or an object with a handle method",
      handler,
    );
    if (options !== undefined) {
      checkOptions(
        options,
        ["timeoutMs"],
        type === null ? "registerAny" : "register",
      );
    }
    const timeoutMs = options?.timeoutMs;
    checkTimeout("timeoutMs", timeoutMs);
    const entry = this.#handlers.get(type) ?? NO_HANDLERS;
    const known = entry.definition;
    if (definition && known && known != definition) {
      throw new TypeError(
        `register: expected the definition already registered for "${type}", got another definition of that type`,
      );
    }
    if (!entry.handlers.includes(handler)) {
      let timeouts = entry.timeouts;
      if (timeoutMs !== undefined) {
        timeouts = new Map(timeouts).set(handler, timeoutMs);
      }
      this.#set(type, {
        handlers: [...entry.handlers, handler],
        definition: known ?? definition,
        timeouts,
      });
    } else if (definition && !known) {
      this.#set(type, { ...entry, definition });
    }
    return unsubscriber(() => this.#remove(type, handler));
  }

  #remove(type: string | null, handler: Handler): boolean {
    const entry = this.#handlers.get(type) ?? NO_HANDLERS;
    const handlers = entry.handlers.filter((other) => other != handler);
    if (handlers.length == entry.handlers.length) return false;
    let timeouts = entry.timeouts;
    if (timeouts?.has(handler)) {
      const copy = new Map(timeouts);
      copy.delete(handler);
      timeouts = copy;
    }
    this.#set(type, { handlers, definition: entry.definition, timeouts });
    return true;
  }

  /** Replaces a type's entry; an empty one is deleted, its definition with it. */
  #set(type: string | null, entry: Entry): void {
    const handlers = this.#handlers;
    if (entry.handlers.length) handlers.set(type, entry);
    else handlers.delete(type);
    this.#any = handlers.get(null) ?? NO_HANDLERS;
  }

  /** `#dispatchAt` as a function, for the contexts' nested dispatches. */
  #run: Run = (event, depth, signal) => this.#dispatchAt(event, depth, signal);

  #dispatchAt(
    event: DomainEvent,
    depth: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Kept small enough for V8 to inline into its callers: what is rarer
    // (observers, no handler, a handler that does not simply return) is in
    // the methods below.
    try {
      const sealed = checkedSeal(event);
      if (depth > this.#maxDepth) this.#tooDeep(event);
      const own = this.#handlers.get(event.eventType) ?? NO_HANDLERS;
      // Events its `create` made pass without a call (the hot path).
      const definition = own.definition;
      if (definition && sealed !== definition) refuse(definition, event);
      const any = this.#any;
      const handlers = handlersOf(own, any);
      if (!handlers.length || this.#observers.length) {
        return this.#observed(event, depth, signal, own, any, handlers);
      }
      const context = new Context(this.#run, event, depth, signal);
      // Handlers are called here until one returns a thenable, throws or
      // aborts the signal; a Dispatch takes over from that one.
      const middleware = this.#middleware;
      let index = -1;
      let outcome: unknown;
      let threw = false;
      let thenable = false;
      try {
        while (++index < handlers.length) {
          outcome = callHandler(
            handlers[index] as Handler,
            event,
            context,
            middleware,
          );
          if (isThenable(outcome)) {
            thenable = true;
            break;
          }
          if (signal?.aborted) break;
        }
      } catch (cause) {
        outcome = cause;
        threw = true;
      }
      if (index == handlers.length) return DONE;
      // With the middleware as the dispatch began.
      return this.#settled(
        new Dispatch(event, context, this.#options, own, any, handlers)
          .resume(index, outcome, threw, thenable, middleware),
        signal,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #tooDeep(event: DomainEvent): never {
    throw new MaxDepthExceededError(event.eventType, this.#maxDepth);
  }

  /** A dispatch with observers, or without handlers (then `onUnhandled` is called). */
  #observed(
    event: DomainEvent,
    depth: number,
    signal: AbortSignal | undefined,
    own: Entry,
    any: Entry,
    handlers: readonly Handler[],
  ): Promise<void> {
    const result = this.#observers.length
      ? new Dispatch(
        event,
        new Context(this.#run, event, depth, signal),
        this.#options,
        own,
        any,
        handlers,
      ).start(this.#middleware, this.#observers)
      : undefined;
    if (!handlers.length) this.#options.onUnhandled?.(event);
    return this.#settled(result, signal);
  }

  /** The dispatch's promise, given what its Dispatch returned. */
  #settled(
    result: Promise<unknown> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!result) return DONE;
    return (signal ? abortable(result, signal) : result) as Promise<void>;
  }
}
