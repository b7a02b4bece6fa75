import type { DomainEvent } from "../event/types.ts";
import type { HandlerError } from "../event/errors.ts";

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
