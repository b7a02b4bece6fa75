import type { EventDefinition } from "./define_event.ts";
import {
  DispatchError,
  HandlerError,
  MaxDepthExceededError,
} from "./errors.ts";
import { createEvent } from "./event.ts";
import { assertDomainEvent } from "./guards.ts";
import type {
  EventHandler,
  HandlerContext,
  Middleware,
  Unsubscribe,
} from "./handler.ts";
import { describeValue } from "./json.ts";
import type { DomainEvent, JsonObject } from "./types.ts";

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
   * It should not throw. If it does, nothing is lost and nothing is left
   * running: the dispatch goes on as if it had returned (the other handlers
   * still run, the other failures are still reported), and once every
   * handler has settled the dispatch rejects with the first error it threw.
   * In `"fail-fast"` parallel mode, where that error takes the place of the
   * first {@linkcode HandlerError}, that failure is then passed to
   * `onHandlerError` too, after the others. (`"collect"` mode and sequential
   * `"fail-fast"` never call it.)
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
}

type Handler = EventHandler;
type TypeOrDefinition = string | { readonly type: string };
type Run = (event: DomainEvent, depth: number) => Promise<void>;

const DONE: Promise<void> = Promise.resolve();
const NONE: readonly Handler[] = [];

function keyOf(type: TypeOrDefinition): string {
  return typeof type == "string" ? type : type.type;
}

function nameOf(handler: Handler): string {
  const name = (typeof handler == "function" ? handler : handler.constructor)
    ?.name;
  return name && name != "Object" ? name : "anonymous";
}

/** Throws a TypeError `${name}: expected ${expected}, got ${value}` unless `ok`. */
function check(
  ok: unknown,
  name: string,
  expected: string,
  value: unknown,
): void {
  if (!ok) {
    throw new TypeError(
      `${name}: expected ${expected}, got ${describeValue(value)}`,
    );
  }
}

/** Calls `handler` inside the middleware from `index` inwards. */
function invoke(
  handler: Handler,
  event: DomainEvent,
  context: Context,
  middleware: readonly Middleware[],
  index: number,
): unknown {
  const outer = middleware[index];
  return outer
    ? outer(
      event,
      () => invoke(handler, event, context, middleware, index + 1),
      { handlerName: nameOf(handler), depth: context.depth },
    )
    : call(handler, event, context);
}

/** Calls a function handler, or an object handler's `handle` method. */
function call(handler: Handler, event: DomainEvent, context: Context): unknown {
  return typeof handler == "function"
    ? handler(event, context)
    : handler.handle(event, context);
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
  #handlers = new Map<string | null, readonly Handler[]>();
  /** The `registerAny` handlers, also in #handlers under `null`. */
  #any: readonly Handler[] = NONE;
  #middleware: readonly Middleware[] = [];
  #options: DispatcherOptions;

  /**
   * Creates a dispatcher.
   *
   * @param options Concurrency, error mode, error and unhandled-event callbacks, loop guard.
   * @throws {TypeError} When `errorMode` or `concurrency` is not one of its
   *   values, `maxDepth` is not an integer >= 0, `onHandlerError` or
   *   `onUnhandled` is given but is not a function, or `errorMode` is
   *   `"isolate"` without an `onHandlerError` function. The message names the
   *   option, what was expected and what was found:
   *   `maxDepth: expected an integer >= 0, got NaN`.
   */
  constructor(options: DispatcherOptions = {}) {
    const copy = { ...options };
    const { maxDepth = 32 } = copy;
    check(
      Number.isInteger(maxDepth) && maxDepth >= 0,
      "maxDepth",
      "an integer >= 0",
      maxDepth,
    );
    // The allowed values of each option; `Function` stands for any function
    // (and describeValue names it "a function").
    for (
      const [name, ...allowed] of [
        ["errorMode", "fail-fast", "collect", "isolate"],
        ["concurrency", "sequential", "parallel"],
        ["onHandlerError", Function],
        ["onUnhandled", Function],
      ] as const
    ) {
      const value: unknown = copy[name];
      check(
        (value === undefined &&
          (name != "onHandlerError" || copy.errorMode != "isolate")) ||
          (allowed as readonly unknown[]).includes(
            typeof value == "function" ? Function : value,
          ),
        name,
        allowed.map(describeValue).join(" or "),
        value,
      );
    }
    this.#options = copy;
  }

  /**
   * Registers a handler for one event type, typed from its definition.
   *
   * Registering the same handler again for a type is a no-op: it stays one
   * registration, in its first place, and runs once per dispatch. Every
   * `Unsubscribe` returned for it removes that one registration, so calling
   * the second one also unregisters the first.
   *
   * @typeParam TType The event type.
   * @typeParam TPayload The payload's shape.
   * @param definition The event's definition.
   * @param handler A function, or an object with a `handle` method.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object with a `handle` method.
   */
  register<TType extends string, TPayload extends JsonObject>(
    definition: EventDefinition<TType, TPayload>,
    handler: EventHandler<DomainEvent<TType, TPayload>>,
  ): Unsubscribe;
  /**
   * Registers a handler for one event type, given as a string. As with a
   * definition, registering the same handler again is a no-op, and any of
   * the `Unsubscribe`s returned for it removes the one registration.
   *
   * @typeParam TType The event type.
   * @param type The event type.
   * @param handler A function, or an object with a `handle` method.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object with a `handle` method.
   */
  register<TType extends string>(
    type: TType,
    handler: EventHandler<DomainEvent<TType>>,
  ): Unsubscribe;
  register<TEvent extends DomainEvent>(
    type: TypeOrDefinition,
    handler: EventHandler<TEvent>,
  ): Unsubscribe {
    return this.#add(keyOf(type), handler as unknown as Handler);
  }

  /**
   * Registers a handler for every event; it runs after the type's own
   * handlers. Registering the same handler again is a no-op, as with
   * `register`.
   *
   * @param handler A function, or an object with a `handle` method.
   * @returns A function that unregisters it (also `Disposable`).
   * @throws {TypeError} When `handler` is neither a function nor an object with a `handle` method.
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
  registerAny(handler: EventHandler): Unsubscribe {
    return this.#add(null, handler);
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
   * Adds a middleware around every handler call; the first added is the
   * outermost.
   *
   * @param middleware The middleware.
   * @returns This dispatcher, for chaining.
   *
   * @example Usage
   * ```ts
   * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
   * import assert from "node:assert/strict";
   *
   * const calls: string[] = [];
   * const dispatcher = new InProcessEventDispatcher().use(async (_event, next, { handlerName }) => {
   *   calls.push(`before ${handlerName}`);
   *   await next();
   *   calls.push(`after ${handlerName}`);
   * });
   * dispatcher.register("a", function audit() { calls.push("audit"); });
   * await dispatcher.dispatch(createEvent("a"));
   * assert.deepEqual(calls, ["before audit", "audit", "after audit"]);
   * ```
   */
  use(middleware: Middleware): this {
    this.#middleware = [...this.#middleware, middleware];
    return this;
  }

  /**
   * Removes every handler; middleware stays.
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
    this.#any = NONE;
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
    return type === undefined
      ? [...handlers.values()].flat().length
      : (handlers.get(keyOf(type)) ?? NONE).length + this.#any.length;
  }

  /**
   * Runs the event's handlers, by the dispatcher's concurrency and error
   * mode.
   *
   * @param event The event.
   * @returns A promise that settles when every handler has.
   * @throws {InvalidEventError} (as a rejection) When `event` is not a domain event; no handler runs.
   * @throws {HandlerError} (as a rejection) In `"fail-fast"` mode, for the first failing handler.
   * @throws {DispatchError} (as a rejection) In `"collect"` mode, when handlers failed.
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
   */
  dispatch(event: DomainEvent): Promise<void> {
    return this.#run(event, 0);
  }

  /**
   * Dispatches events in order, each once the previous one's dispatch has
   * settled; every event is checked before the first is dispatched. Stops
   * at the first dispatch that rejects.
   *
   * @param events The events, e.g. from {@linkcode EventRecorder.pullEvents}.
   * @returns A promise that settles after the last dispatch.
   * @throws {InvalidEventError} (as a rejection) When any of them is not a domain event; none is dispatched.
   * @throws {HandlerError} (as a rejection) As {@linkcode InProcessEventDispatcher.dispatch}.
   * @throws {DispatchError} (as a rejection) As {@linkcode InProcessEventDispatcher.dispatch}.
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
   */
  async dispatchAll(events: Iterable<DomainEvent>): Promise<void> {
    const list = [...events];
    for (const event of list) assertDomainEvent(event);
    for (const event of list) await this.#run(event, 0);
  }

  #add(type: string | null, handler: Handler): Unsubscribe {
    check(
      typeof handler == "function" ||
        typeof handler?.handle == "function",
      "handler",
      "a function or an object with a handle method",
      handler,
    );
    const list = this.#handlers.get(type) ?? NONE;
    if (!list.includes(handler)) this.#set(type, [...list, handler]);
    let done = false;
    const off = (() => {
      if (!done) {
        done = true;
        this.#remove(type, handler);
      }
    }) as Unsubscribe;
    if (Symbol.dispose) off[Symbol.dispose] = off;
    return off;
  }

  #remove(type: string | null, handler: Handler): boolean {
    const list = this.#handlers.get(type) ?? NONE;
    const kept = list.filter((other) => other != handler);
    this.#set(type, kept);
    return kept.length < list.length;
  }

  /** Replaces a type's list (never mutated: dispatches hold snapshots). */
  #set(type: string | null, list: readonly Handler[]): void {
    const handlers = this.#handlers;
    if (list.length) handlers.set(type, list);
    else handlers.delete(type);
    this.#any = handlers.get(null) ?? NONE;
  }

  #run: Run = (event, depth) => {
    try {
      assertDomainEvent(event);
      const options = this.#options;
      const { maxDepth = 32 } = options;
      if (depth > maxDepth) {
        throw new MaxDepthExceededError(event.eventType, maxDepth);
      }
      const own = this.#handlers.get(event.eventType) ?? NONE;
      const any = this.#any;
      const list = any.length ? own.concat(any) : own;
      if (list.length) {
        return (Context.start(
          this.#run,
          event,
          depth,
          options,
          list,
          this.#middleware,
        ) ?? DONE) as Promise<void>;
      }
      options.onUnhandled?.(event);
      return DONE;
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * One dispatch of one event: the context its handlers get, and its state.
 * `publish` and `dispatch` are made when read, so that they need no `this`.
 */
class Context implements HandlerContext {
  readonly depth: number;
  #event: DomainEvent;
  #run: Run;
  #options: DispatcherOptions;
  /** Indexed by handler, so that `flat()` lists failures in registration order. */
  #failures?: HandlerError[];
  #pending?: Promise<unknown>[];
  /** The first error `onHandlerError` threw, boxed (it may be `undefined`). */
  #thrown?: [unknown];

  /** Runs the handlers; `undefined` when every one returned synchronously. */
  static start(
    run: Run,
    event: DomainEvent,
    depth: number,
    options: DispatcherOptions,
    list: readonly Handler[],
    middleware: readonly Middleware[],
  ): Promise<unknown> | undefined {
    return new Context(run, event, depth, options).#step(list, middleware, 0);
  }

  constructor(
    run: Run,
    event: DomainEvent,
    depth: number,
    options: DispatcherOptions,
  ) {
    this.#run = run;
    this.#event = event;
    this.depth = depth;
    this.#options = options;
  }

  get publish(): HandlerContext["publish"] {
    return (async (
      type: string | EventDefinition<string, JsonObject>,
      payload?: JsonObject,
      options?: object,
    ) => {
      const createOptions = { ...options, causedBy: this.#event };
      const event = typeof type == "string"
        ? createEvent(type, payload, createOptions)
        : type.create(payload as JsonObject, createOptions);
      await this.#run(event, this.depth + 1);
      return event;
    }) as HandlerContext["publish"];
  }

  get dispatch(): (event: DomainEvent) => Promise<void> {
    return (event) => this.#run(event, this.depth + 1);
  }

  /** Never throws: a throw of `onHandlerError` is kept for `#finish`. */
  #report(error: HandlerError): void {
    try {
      this.#options.onHandlerError?.(error);
    } catch (thrown) {
      this.#thrown ??= [thrown];
    }
  }

  /** Throws only to stop a sequential fail-fast dispatch. */
  #fail(handler: Handler, index: number, cause: unknown): void {
    const { errorMode, concurrency } = this.#options;
    const error = new HandlerError(this.#event, nameOf(handler), cause);
    if (errorMode == "isolate") this.#report(error);
    else {
      (this.#failures ??= [])[index] = error;
      if (concurrency != "parallel" && errorMode != "collect") throw error;
    }
  }

  /** Settles the dispatch once every handler has. */
  #finish(): undefined {
    const failures = this.#failures?.flat();
    if (failures) {
      if (this.#options.errorMode == "collect") {
        throw new DispatchError(this.#event, failures);
      }
      for (const error of failures.slice(1)) this.#report(error);
      if (!this.#thrown) throw failures[0];
      this.#report(failures[0] as HandlerError);
    }
    if (this.#thrown) throw this.#thrown[0];
  }

  /** Runs the handlers from `start` on. */
  #step(
    list: readonly Handler[],
    middleware: readonly Middleware[],
    start: number,
  ): Promise<unknown> | undefined {
    for (let index = start; index < list.length; index++) {
      const handler = list[index] as Handler;
      let promise;
      try {
        const result = (middleware.length
          ? invoke(handler, this.#event, this, middleware, 0)
          : call(handler, this.#event, this)) as
            | PromiseLike<unknown>
            | undefined;
        if (typeof result?.then != "function") {
          continue;
        }
        promise = Promise.resolve(result);
      } catch (cause) {
        this.#fail(handler, index, cause);
        continue;
      }
      const fail = (cause: unknown) => this.#fail(handler, index, cause);
      if (this.#options.concurrency != "parallel") {
        const next = () => this.#step(list, middleware, index + 1);
        // One reaction for both outcomes: a tick less per async handler.
        return promise.then(next, (cause) => (fail(cause), next()));
      }
      (this.#pending ??= []).push(promise.catch(fail));
    }
    const pending = this.#pending;
    return pending
      ? Promise.all(pending).then(() => this.#finish())
      : this.#finish();
  }
}
