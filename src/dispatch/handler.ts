import type { EventDefinition } from "../event/event_definition.ts";
import type {
  CreateEventOptions,
  DomainEvent,
  JsonObject,
} from "../event/types.ts";

/**
 * Options for {@linkcode HandlerContext.publish}: those of
 * {@linkcode createEvent} without `causedBy`, `correlationId` and
 * `causationId`, which always come from the event being handled (given
 * anyway, `correlationId` or `causationId` make `publish` reject with an
 * {@linkcode InvalidEventError}; `causedBy` is overridden).
 *
 * @example Usage
 * ```ts
 * import type { PublishOptions } from "@seedwork/domain-events";
 *
 * const options: PublishOptions = { metadata: { actor: "system" } };
 * ```
 */
export type PublishOptions = Omit<
  CreateEventOptions,
  "causedBy" | "correlationId" | "causationId"
>;

/**
 * What a handler gets beside its event: how deep it runs, and how to raise
 * follow-up events that are traced back to the event being handled. Its
 * functions need no `this`, so `{ publish }` can be destructured.
 *
 * @example Publishing a follow-up event
 * ```ts
 * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher();
 * const seen: string[] = [];
 * dispatcher.register("invite.created", async (_event, { publish }) => {
 *   await publish("invite.email_sent", { to: "ada@example.com" });
 * });
 * dispatcher.register("invite.email_sent", (event, context) => {
 *   seen.push(`${event.eventType}@${context.depth}`);
 * });
 * await dispatcher.dispatch(createEvent("invite.created"));
 * assert.deepEqual(seen, ["invite.email_sent@1"]);
 * ```
 */
export interface HandlerContext {
  /** How many events up the causation chain this dispatch is: 0 for a top-level dispatch. */
  readonly depth: number;
  /**
   * The `signal` given to the top-level `dispatch` (nested dispatches inherit
   * it), or one that never aborts. Pass it on to work that can stop (fetch,
   * timers): the dispatch stops waiting when it aborts, but cannot cancel
   * what a handler started.
   */
  readonly signal: AbortSignal;
  /**
   * Creates an event caused by the one being handled (same correlation,
   * causation = its id, the definition's schema checked) and dispatches it
   * at `depth + 1`, depth-first.
   *
   * @returns The new event, once its dispatch has settled.
   * @throws {MaxDepthExceededError} When `depth + 1` passes the dispatcher's `maxDepth`.
   * @throws {InvalidEventError} When the payload or options are not valid.
   */
  publish<TType extends string, TPayload extends JsonObject, TInput>(
    definition: EventDefinition<TType, TPayload, TInput>,
    payload: NoInfer<TInput>,
    options?: PublishOptions,
  ): Promise<DomainEvent<TType, TPayload>>;
  /**
   * Creates an event caused by the one being handled and dispatches it at
   * `depth + 1`.
   *
   * @returns The new event, once its dispatch has settled.
   * @throws {MaxDepthExceededError} When `depth + 1` passes the dispatcher's `maxDepth`.
   */
  publish<
    TType extends string,
    TPayload extends JsonObject = Record<string, never>,
  >(
    type: TType,
    payload?: TPayload,
    options?: PublishOptions,
  ): Promise<DomainEvent<TType, TPayload>>;
  /**
   * Dispatches an event built by hand at `depth + 1`, with the same loop
   * guard as `publish`.
   *
   * @throws {MaxDepthExceededError} When `depth + 1` passes the dispatcher's `maxDepth`.
   */
  dispatch(event: DomainEvent): Promise<void>;
}

/**
 * A handler as an object: its `handle` method is called on it, so a class
 * instance keeps its `this`. Classes can `implements` it.
 *
 * @typeParam TEvent The events it handles.
 *
 * @example A class handler
 * ```ts
 * import { defineEvent, type DomainEvent, type EventHandlerObject, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * type InviteCreatedEvent = ReturnType<typeof InviteCreated.create>;
 *
 * class SendInviteEmail implements EventHandlerObject<InviteCreatedEvent> {
 *   readonly sent: string[] = [];
 *   handle(event: InviteCreatedEvent): void {
 *     this.sent.push(event.payload.email);
 *   }
 * }
 * const handler = new SendInviteEmail();
 * const dispatcher = new InProcessEventDispatcher();
 * dispatcher.register(InviteCreated, handler);
 * await dispatcher.dispatch(InviteCreated.create({ email: "ada@example.com" }));
 * assert.deepEqual(handler.sent, ["ada@example.com"]);
 * ```
 */
export interface EventHandlerObject<TEvent extends DomainEvent = DomainEvent> {
  /** Handles the event; see {@linkcode EventHandler}. */
  handle(event: TEvent, context: HandlerContext): unknown;
}

/**
 * A handler: a function `(event, context)`, or an
 * {@linkcode EventHandlerObject} whose `handle` method is called on it. A
 * promise (any thenable) it returns is awaited; any other return value is
 * ignored. A synchronous throw counts the same as a rejection. Anything
 * else given as a handler is refused when registered, with a `TypeError`.
 *
 * @typeParam TEvent The events it handles.
 *
 * @example A function handler
 * ```ts
 * import type { EventHandler } from "@seedwork/domain-events";
 *
 * const log: EventHandler = (event, { depth }) => {
 *   console.log(`${depth} ${event.eventType}`);
 * };
 * ```
 */
export type EventHandler<TEvent extends DomainEvent = DomainEvent> =
  | ((event: TEvent, context: HandlerContext) => unknown)
  | EventHandlerObject<TEvent>;

/**
 * What a middleware learns about the handler call it wraps.
 *
 * @example Usage
 * ```ts
 * import type { MiddlewareInfo } from "@seedwork/domain-events";
 *
 * const info: MiddlewareInfo = { handlerName: "sendEmail", depth: 0 };
 * ```
 */
export interface MiddlewareInfo {
  /** The handler's name, as {@linkcode HandlerError} reports it. */
  readonly handlerName: string;
  /** The dispatch depth, as {@linkcode HandlerContext.depth}. */
  readonly depth: number;
}

/**
 * Wraps every handler call: run code around `next()` (the next middleware,
 * then the handler) and return or await what it returns (a promise when the
 * handler is async), or a late failure is lost. It may call `next` more than once (retries) or not at all (skip).
 * What it throws is a failure of the handler it wraps.
 *
 * @example Timing every handler
 * ```ts
 * import type { Middleware } from "@seedwork/domain-events";
 *
 * const timing: Middleware = async (event, next, { handlerName }) => {
 *   const start = performance.now();
 *   await next();
 *   console.log(`${handlerName} took ${performance.now() - start} ms on ${event.eventType}`);
 * };
 * ```
 */
export type Middleware = (
  event: DomainEvent,
  next: () => unknown,
  info: MiddlewareInfo,
) => unknown;

/**
 * Removes the handler it was returned for; calling it again is harmless. It
 * is also `Disposable` where the runtime has `Symbol.dispose`, so
 * `using off = dispatcher.register(...)` unregisters at the end of the block.
 *
 * @example Usage
 * ```ts
 * import { InProcessEventDispatcher, type Unsubscribe } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher();
 * const off: Unsubscribe = dispatcher.register("invite.created", () => {});
 * off();
 * off();
 * assert.equal(dispatcher.handlerCount(), 0);
 * ```
 */
export type Unsubscribe = (() => void) & Disposal;

/**
 * `Disposable` where the TypeScript lib declares `Symbol.dispose` (lib
 * `esnext.disposable`, Deno, @types/node), and nothing where it does not
 * (`lib: ["es2022", "dom"]`): declared here so that the library type-checks
 * with either lib.
 *
 * @example Usage
 * ```ts
 * import { InProcessEventDispatcher, type Disposal } from "@seedwork/domain-events";
 *
 * const off: Disposal = new InProcessEventDispatcher().register("a", () => {});
 * ```
 */
export type Disposal = {
  readonly [
    K in SymbolConstructor extends { readonly dispose: infer D extends symbol }
      ? D
      : never
  ]: () => void;
};
