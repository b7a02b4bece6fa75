import type { CheckedDefinition } from "../_shared/_definition_check.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import { DispatchError, HandlerError } from "../event/errors.ts";
import { createEvent } from "../event/create_event.ts";
import type { EventHandler, HandlerContext, Middleware } from "./handler.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import type { DispatcherOptions, EventObserver } from "./dispatcher.ts";

type Handler = EventHandler;

/** Dispatches an event at a depth: the dispatcher's, for nested dispatches. */
export type Run = (
  event: DomainEvent,
  depth: number,
  signal: AbortSignal | undefined,
) => Promise<void>;

/** The handlers of one type (or the `registerAny` ones), as a dispatch sees them. */
export interface Entry {
  /** In registration order; never mutated (dispatches hold snapshots). */
  readonly handlers: readonly Handler[];
  /** The definition the type's events must match, if one was registered. */
  readonly definition: CheckedDefinition | undefined;
  /** The handlers registered with a `timeoutMs`. */
  readonly timeouts: ReadonlyMap<Handler, number> | undefined;
}

/** A dispatch's result when it ended synchronously without a failure. */
export const DONE: Promise<void> = Promise.resolve();

/** An entry without handlers: the one of a type nothing is registered for. */
export const NO_HANDLERS: Entry = {
  handlers: [],
  definition: undefined,
  timeouts: undefined,
};

/** The event and `run` of the objects kept alive below, never used. */
const PLACEHOLDER = Object.freeze({}) as DomainEvent;
const NO_RUN = Promise.resolve.bind(Promise) as Run;

/** `context.signal` when the dispatch was given none: it never aborts. */
let never: AbortSignal | undefined;

/** The name errors and middleware give a handler or observer; never throws. */
function nameOf(handler: object): string {
  try {
    const name = (typeof handler == "function"
      ? handler
      : (handler as { constructor?: { name?: unknown } }).constructor)?.name;
    if (typeof name == "string" && name && name != "Object") {
      return name;
    }
  } catch {
    // A throwing getter or Proxy trap: no name.
  }
  return "anonymous";
}

/** Whether a handler's result is to be awaited; reads `then`, which may throw. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then ==
    "function";
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
    : typeof handler == "function"
    ? handler(event, context)
    : handler.handle(event, context);
}

/** Calls a handler (a function, or an object's `handle`) inside the middleware. */
export function callHandler(
  handler: Handler,
  event: DomainEvent,
  context: Context,
  middleware: readonly Middleware[],
): unknown {
  return middleware.length
    ? invoke(handler, event, context, middleware, 0)
    : typeof handler == "function"
    ? handler(event, context)
    : handler.handle(event, context);
}

/**
 * Settles as `work` does, unless `arm` rejects first: `arm` gets the reject
 * function and returns what to undo once `work` settles. What `work`
 * settles with after such a rejection is ignored.
 */
function race(
  work: Promise<unknown>,
  arm: (reject: (reason: unknown) => void) => () => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const disarm = arm(reject);
    work.then((value) => {
      disarm();
      resolve(value);
    }, (error) => {
      disarm();
      reject(error);
    });
  });
}

/** `promise`, or a TimeoutError once `ms` have passed. */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<unknown> {
  return race(promise, (reject) => {
    const timer = setTimeout(() => {
      reject(
        new DOMException(
          `expected the handler to settle within ${ms} ms`,
          "TimeoutError",
        ),
      );
    }, ms);
    return () => clearTimeout(timer);
  });
}

/** `work`, or a rejection with `signal.reason` as soon as `signal` aborts. */
export function abortable(
  work: Promise<unknown>,
  signal: AbortSignal,
): Promise<unknown> {
  return race(work, (reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop);
    return () => signal.removeEventListener("abort", stop);
  });
}

/**
 * What a handler is given beside the event: the dispatch's depth and signal,
 * and `publish` and `dispatch` for follow-up events. One per dispatch that
 * calls a handler or observer.
 */
export class Context implements HandlerContext {
  // V8 drops a hidden class, and the optimized code built on it, once no
  // object has it: without one context kept alive, dispatches after a full
  // GC measured 8 times slower.
  static readonly #keepsTheShape: Context = new Context(
    NO_RUN,
    PLACEHOLDER,
    0,
    undefined,
  );
  readonly depth: number;
  readonly #event: DomainEvent;
  readonly #run: Run;
  readonly #signal: AbortSignal | undefined;

  constructor(
    run: Run,
    event: DomainEvent,
    depth: number,
    signal: AbortSignal | undefined,
  ) {
    this.#run = run;
    this.#event = event;
    this.depth = depth;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal ?? (never ??= new AbortController().signal);
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
      await this.dispatch(event);
      return event;
    }) as HandlerContext["publish"];
  }

  get dispatch(): (event: DomainEvent) => Promise<void> {
    return (event) => {
      const signal = this.#signal;
      return signal?.aborted
        ? Promise.reject(signal.reason)
        : this.#run(event, this.depth + 1, signal);
    };
  }
}

/** A failure of a dispatch, and where its observer or handler stands among them. */
interface Failure {
  /** Observers first, in order, then handlers in order. */
  readonly position: number;
  readonly error: HandlerError;
}

/**
 * The part of a dispatch that is not plain synchronous calls: observers, a
 * handler that returned a promise or threw, and the error modes. It reads top
 * to bottom: `start` (observers, then handlers) or `resume` (from a handler
 * the dispatcher called itself); `#sequential` or `#parallel`; and
 * `#settle`, the one step that resolves or rejects the dispatch by its error
 * mode. A dispatch without observers whose handlers all return synchronously,
 * without throwing or aborting its signal, never gets here (see
 * `InProcessEventDispatcher`'s `#dispatchAt`).
 */
export class Dispatch {
  // Kept alive for the reason Context keeps one.
  static readonly #keepsTheShape: Dispatch = new Dispatch(
    PLACEHOLDER,
    new Context(NO_RUN, PLACEHOLDER, 0, undefined),
    {},
    NO_HANDLERS,
    NO_HANDLERS,
    [],
  );
  readonly #event: DomainEvent;
  readonly #context: Context;
  readonly #options: DispatcherOptions;
  /** The type's own entry and the `registerAny` one, for their timeouts. */
  readonly #own: Entry;
  readonly #any: Entry;
  /** `#own`'s handlers, then `#any`'s. */
  readonly #handlers: readonly Handler[];
  /** As they were when the dispatch began: set by `start` or `resume`. */
  #middleware: readonly Middleware[] = [];
  #observers: readonly EventObserver[] = [];
  /** The failures the settle step rejects with (none in isolate mode). */
  #failures: Failure[] | undefined;
  /** Whether `onHandlerError` threw, and the first error it threw. */
  #reportThrew?: boolean;
  #reportError: unknown;

  constructor(
    event: DomainEvent,
    context: Context,
    options: DispatcherOptions,
    own: Entry,
    any: Entry,
    handlers: readonly Handler[],
  ) {
    this.#event = event;
    this.#context = context;
    this.#options = options;
    this.#own = own;
    this.#any = any;
    this.#handlers = handlers;
  }

  /** Calls the observers, then the handlers; `undefined` when it ended synchronously without a failure. */
  start(
    middleware: readonly Middleware[],
    observers: readonly EventObserver[],
  ): Promise<unknown> | undefined {
    this.#middleware = middleware;
    this.#observers = observers;
    const info = { depth: this.#context.depth };
    for (const [position, observer] of this.#observers.entries()) {
      try {
        observer(this.#event, info);
      } catch (cause) {
        this.#failed(position, observer, cause);
      }
    }
    return this.#next(-1, undefined);
  }

  /**
   * Goes on from handler `index`, which the dispatcher called (there was no
   * observer): what it threw, what it returned when `thenable` (its `then`
   * read once already), or anything after which the signal was aborted.
   */
  resume(
    index: number,
    outcome: unknown,
    threw: boolean,
    thenable: boolean,
    middleware: readonly Middleware[],
  ): Promise<unknown> | undefined {
    this.#middleware = middleware;
    let promise;
    if (threw) this.#failedAt(index, outcome);
    else if (thenable) promise = this.#promiseOf(index, outcome);
    return this.#next(index, promise);
  }

  #next(
    index: number,
    promise: Promise<unknown> | undefined,
  ): Promise<unknown> | undefined {
    return this.#options.concurrency == "parallel"
      ? this.#parallel(index, promise)
      : this.#sequential(index, promise);
  }

  /** After handler `index` (which returned `promise`, if async), the handlers after it, each once the one before settled. */
  #sequential(
    index: number,
    promise: Promise<unknown> | undefined,
  ): Promise<unknown> | undefined {
    while (!promise) {
      if (this.#stopped()) return this.#settle();
      // After each handler, not before the first: an observer's abort is
      // seen by the handlers, as the dispatch's own.
      if (index >= 0) this.#throwIfAborted();
      if (++index == this.#handlers.length) return this.#settle();
      promise = this.#call(index);
    }
    const next = () => this.#sequential(index, undefined);
    // One reaction for both outcomes: a tick less per async handler.
    return promise.then(next, (cause) => {
      this.#failedAt(index, cause);
      return next();
    });
  }

  /** After handler `index` (which returned `promise`, if async), the handlers after it, all at once. */
  #parallel(
    index: number,
    promise: Promise<unknown> | undefined,
  ): Promise<unknown> | undefined {
    const pending: Promise<unknown>[] = [];
    for (;;) {
      if (promise) {
        const at = index;
        pending.push(promise.catch((cause) => this.#failedAt(at, cause)));
      }
      if (++index == this.#handlers.length) break;
      if (index > 0) this.#throwIfAborted(); // before each but the first
      promise = this.#call(index);
    }
    return pending.length
      ? Promise.all(pending).then(() => this.#settle())
      : this.#settle();
  }

  #throwIfAborted(): void {
    const signal = this.#context.signal;
    if (signal.aborted) throw signal.reason;
  }

  /** Resolves (returns) or rejects (throws) the dispatch by its error mode. */
  #settle(): undefined {
    const failures = this.#failures;
    if (failures) {
      const errors = failures
        .sort((a, b) => a.position - b.position)
        .map((failure) => failure.error);
      const first = errors[0] as HandlerError;
      if (this.#options.errorMode == "collect") {
        throw new DispatchError(this.#event, errors);
      }
      if (this.#stopsAtFirst()) throw first;
      // Parallel fail-fast: the others are reported; the first is the
      // rejection, unless onHandlerError threw (then it is reported too).
      for (const error of errors.slice(1)) this.#report(error);
      if (!this.#reportThrew) throw first;
      this.#report(first);
    }
    if (this.#reportThrew) throw this.#reportError;
  }

  #stopped(): boolean {
    return this.#failures !== undefined && this.#stopsAtFirst();
  }

  #stopsAtFirst(): boolean {
    const { concurrency, errorMode } = this.#options;
    return concurrency != "parallel" && errorMode != "collect" &&
      errorMode != "isolate";
  }

  /** Calls handler `index`: its promise (timed), or `undefined` once it returned or threw. */
  #call(index: number): Promise<unknown> | undefined {
    let outcome;
    try {
      outcome = callHandler(
        this.#handlers[index] as Handler,
        this.#event,
        this.#context,
        this.#middleware,
      );
      if (!isThenable(outcome)) return undefined;
    } catch (cause) {
      this.#failedAt(index, cause);
      return undefined;
    }
    return this.#promiseOf(index, outcome);
  }

  /** The promise to wait for of handler `index`'s thenable, timed. */
  #promiseOf(index: number, thenable: unknown): Promise<unknown> | undefined {
    try {
      const promise = Promise.resolve(thenable);
      const handler = this.#handlers[index] as Handler;
      const own = this.#own;
      const timeoutMs =
        (index < own.handlers.length ? own : this.#any).timeouts?.get(
          handler,
        ) ?? this.#options.handlerTimeoutMs;
      return timeoutMs === undefined || timeoutMs === Infinity
        ? promise
        : withTimeout(promise, timeoutMs);
    } catch (cause) {
      this.#failedAt(index, cause);
      return undefined;
    }
  }

  #failedAt(index: number, cause: unknown): void {
    this.#failed(
      this.#observers.length + index,
      this.#handlers[index] as Handler,
      cause,
    );
  }

  #failed(position: number, handler: object, cause: unknown): void {
    const error = new HandlerError(this.#event, nameOf(handler), cause);
    if (this.#options.errorMode == "isolate") this.#report(error);
    else if (!this.#stopped()) {
      (this.#failures ??= []).push({ position, error });
    }
  }

  #report(error: HandlerError): void {
    try {
      this.#options.onHandlerError?.(error);
    } catch (thrown) {
      if (!this.#reportThrew) {
        this.#reportThrew = true;
        this.#reportError = thrown;
      }
    }
  }
}
