import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import { dispatchAt, keepShape } from "./_dispatch.ts";
import * as registry from "./_registry.ts";
import { type Registry, registryOf } from "./_route.ts";
import { signalOf } from "./_options.ts";
import type { EventHandler, Middleware, Unsubscribe } from "./handler.ts";
import type {
  DispatcherOptions,
  DispatchOptions,
  EventObserver,
  RegisterOptions,
} from "./options.ts";

type Handler = EventHandler;
type TypeOrDefinition = string | { readonly type: string };

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
  /** Its options and what is registered. */
  readonly #registry: Registry;

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
    this.#registry = registryOf(options);
    keepShape();
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
    return registry.add(
      this.#registry,
      type,
      handler as unknown as Handler,
      options,
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
    return registry.add(this.#registry, null, handler, options);
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
    return registry.remove(
      this.#registry,
      type,
      handler as unknown as Handler,
    );
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
   * dispatch rejects with it, and no handler runs when sequential while
   * parallel ones still start; collect: it is the first
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
    return registry.listen(this.#registry, "observers", observer);
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
    return registry.listen(this.#registry, "middleware", middleware);
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
    registry.clear(this.#registry);
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
    return registry.count(this.#registry, type);
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
   * @throws {DispatchError} (as a rejection) In `"collect"` mode, when handlers failed; and when
   *   `options.signal` aborts after handlers failed (collect, parallel fail-fast), with those
   *   failures and the signal's reason as its `cause` (otherwise an abort rejects with the reason).
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
    // Without options, nothing to read: a smaller method, which V8 can
    // inline with the dispatch loop.
    if (options === undefined) {
      return dispatchAt(this.#registry, event, 0, undefined);
    }
    let signal;
    try {
      signal = signalOf(options, "dispatch");
    } catch (error) {
      return Promise.reject(error);
    }
    return dispatchAt(this.#registry, event, 0, signal);
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
   * signal or a throwing `onUnhandled`: it then rejects with that error, or,
   * when handlers had failed before, with a {@linkcode DispatchError} of
   * those failures whose `cause` is that error.)
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
    await registry.dispatchAll(
      this.#registry,
      events,
      signalOf(options, "dispatchAll"),
    );
  }
}
