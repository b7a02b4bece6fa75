import {
  createCausedEvent,
  type PublishTarget,
} from "../_shared/_caused_event.ts";
import { refuse } from "../_shared/_definition_check.ts";
import { sealedBy } from "../_shared/_envelope.ts";
import { createEvent } from "../event/create_event.ts";
import {
  DispatchError,
  HandlerError,
  MaxDepthExceededError,
} from "../event/errors.ts";
import { assertDomainEvent } from "../event/guards.ts";
import type { DomainEvent } from "../event/types.ts";
import { callHandler, isThenable, nameOf, race, withTimeout } from "./_call.ts";
import type { EventHandler, HandlerContext, Publish } from "./handler.ts";
import { type Registry, registryOf, type Route } from "./_route.ts";

type Handler = EventHandler;

/**
 * Where a dispatch stands once it is not only synchronous successes: made
 * at its first handler that returns a thenable or fails, or its first
 * `onHandlerError` that throws.
 */
interface State {
  /** The handler `run` goes on from once a sequential handler's promise settled. */
  next: number;
  /** Parallel: the promises of the handlers that returned one, failures caught. */
  pending: Promise<unknown>[] | undefined;
  /** The failures the dispatch will reject with (none under `"isolate"`). */
  failures: Failure[] | undefined;
  /** The first error `onHandlerError` threw, boxed. */
  reported: readonly [error: unknown] | undefined;
}

/** A failure of a dispatch, and where its observer or handler stands among them. */
interface Failure {
  /** Observers first (negative), then handlers, in order. */
  readonly position: number;
  readonly error: HandlerError;
}

/** `context.signal` when the dispatch was given none: it never aborts. */
let never: AbortSignal | undefined;

/**
 * One dispatch of one event to its handlers: the context its handlers get,
 * and the steps that run it, as static functions of it (an instance has only
 * its fields and the context's getters, so it stays as cheap to make as a
 * context). It reads top to bottom (`observed` shows the event to the
 * observers first, when the dispatcher has any): `run`, the one loop that
 * calls the handlers, each after the one before has returned (and,
 * sequential, settled), then `settle`, the one step that resolves or
 * rejects the dispatch by its rule. Its state is
 * `#state`, made once it is not only synchronous successes: a dispatch whose
 * handlers all return synchronously makes no promise.
 */
export class Dispatch implements HandlerContext {
  readonly depth: number;
  readonly #event: DomainEvent;
  readonly #signal: AbortSignal | undefined;
  /** Its handlers and middleware, as they were when the dispatch began. */
  readonly #route: Route;
  /** `undefined` while every handler called returned synchronously, without a failure. */
  #state: State | undefined;

  constructor(
    event: DomainEvent,
    depth: number,
    signal: AbortSignal | undefined,
    route: Route,
  ) {
    this.#event = event;
    this.depth = depth;
    this.#signal = signal;
    this.#route = route;
  }

  get signal(): AbortSignal {
    return this.#signal ?? (never ??= new AbortController().signal);
  }

  /** Creates an event caused by this one and dispatches it at depth + 1; needs no `this` (`{ publish }` works). */
  get publish(): Publish {
    return (async (
      target: PublishTarget,
      payload?: unknown,
      options?: unknown,
    ) => {
      const event = createCausedEvent(this.#event, target, payload, options);
      await this.dispatch(event);
      return event;
    }) as Publish;
  }

  /** Dispatches an event at this depth + 1, with this signal; needs no `this`. */
  get dispatch(): (event: DomainEvent) => Promise<void> {
    return (event) =>
      dispatchAt(this.#route.registry, event, this.depth + 1, this.#signal);
  }

  /**
   * Calls the handlers from the first not called yet, checking the signal
   * after each, until one must be waited for (`wait`) or all were called;
   * then ends the dispatch (`end`). Called again once a sequential
   * handler's promise settled. A handler's throw is its failure.
   *
   * @returns `undefined` when it ended synchronously without a failure, else
   *   the promise of the rest.
   * @throws What the dispatch rejects with, when it ends synchronously.
   */
  static run(d: Dispatch): Promise<unknown> | undefined {
    const { handlers, middleware } = d.#route;
    const event = d.#event;
    const signal = d.#signal;
    // A failure that stops the rest (sequential fail-fast) is checked where
    // one can have happened: before the first call (an observer's, or the
    // handler waited for) and after a throw.
    let stopped = Dispatch.stopped(d);
    for (let index = d.#state?.next ?? 0; !stopped; index++) {
      // After each handler, not before the first: an observer's abort is
      // seen by the handlers, as the dispatch's own.
      if (index && signal?.aborted) throw Dispatch.aborted(d);
      if (index == handlers.length) break;
      try {
        const outcome = callHandler(
          handlers[index] as Handler,
          event,
          d,
          middleware,
        );
        if (isThenable(outcome)) {
          const waiting = Dispatch.wait(d, index, outcome);
          if (waiting) return waiting;
        }
      } catch (cause) {
        stopped = Dispatch.failed(d, index, cause);
      }
    }
    return d.#state ? Dispatch.end(d) : undefined;
  }

  /**
   * A dispatch that has a state, never run: `keepShape` keeps one alive, for
   * the hidden classes of both.
   */
  static stateOf(d: Dispatch): State {
    // Every field set, so that every state has one shape.
    return d.#state ??= {
      next: 0,
      pending: undefined,
      failures: undefined,
      reported: undefined,
    };
  }

  /** Whether a failure stops the handlers after it (sequential fail-fast). */
  static stopped(d: Dispatch): boolean {
    return d.#state?.failures !== undefined &&
      d.#route.registry.rule == "stop";
  }

  /**
   * Handler `index` returned a thenable, bounded here by its timeout if it
   * has one: sequential, the promise of the rest of the dispatch (`run`
   * again, from the next handler, once it settled); parallel, `undefined` (it
   * is waited for at the end).
   */
  static wait(
    d: Dispatch,
    index: number,
    thenable: unknown,
  ): Promise<unknown> | undefined {
    const state = Dispatch.stateOf(d);
    state.next = index + 1;
    const { timeouts, registry } = d.#route;
    const timeoutMs = timeouts[index] ?? registry.options.handlerTimeoutMs;
    const promise = withTimeout(Promise.resolve(thenable), timeoutMs);
    if (registry.options.concurrency == "parallel") {
      (state.pending ??= []).push(
        promise.catch((cause) => Dispatch.failed(d, index, cause)),
      );
      return undefined;
    }
    // One reaction for both outcomes: a tick less per async handler.
    return promise.then(() => Dispatch.run(d), (cause) => {
      Dispatch.failed(d, index, cause);
      return Dispatch.run(d);
    });
  }

  /** Ends a dispatch that has a state once the handlers were called: at once, or once the parallel ones settled. */
  static end(d: Dispatch): Promise<unknown> | undefined {
    const state = d.#state as State;
    return state.pending
      ? Promise.all(state.pending).then(() => Dispatch.settle(d, state))
      : Dispatch.settle(d, state);
  }

  /**
   * Records a failure at `position` (of a handler, or of an observer before
   * them) by the rule: reported now (isolate), kept (until the first, under
   * "stop"). Returns whether it stops the handlers after it.
   */
  static failed(
    d: Dispatch,
    position: number,
    cause: unknown,
    failing: object = d.#route.handlers[position] as Handler,
  ): boolean {
    const error = new HandlerError(d.#event, nameOf(failing), cause);
    const rule = d.#route.registry.rule;
    if (rule == "isolate") Dispatch.report(d, error);
    else if (!Dispatch.stopped(d)) {
      (Dispatch.stateOf(d).failures ??= []).push({ position, error });
    }
    return Dispatch.stopped(d);
  }

  /**
   * What an aborted dispatch rejects with: the signal's reason, or, when
   * failures were kept before the abort (collect, parallel fail-fast), a
   * DispatchError of them whose `cause` is the reason. They leave the
   * state, so nothing reports them again once the handlers settle.
   */
  static aborted(d: Dispatch): unknown {
    const state = d.#state;
    const failures = errorsOf(state);
    const reason = (d.#signal as AbortSignal).reason;
    if (!failures) return reason;
    (state as State).failures = undefined;
    const error = new DispatchError(d.#event, failures);
    error.cause = reason;
    return error;
  }

  /**
   * Resolves (returns) or rejects (throws) the dispatch by its rule, once
   * every handler that runs has settled: one case per row of the table of
   * docs/dispatching.md.
   */
  static settle(d: Dispatch, state: State): undefined {
    const failures = errorsOf(state);
    const rule = d.#route.registry.rule;
    if (failures) {
      const first = failures[0] as HandlerError;
      if (rule == "collect") throw new DispatchError(d.#event, failures);
      if (rule == "first") {
        // The others are reported; the first is the rejection, unless
        // onHandlerError threw (then it is reported too).
        for (const error of failures.slice(1)) Dispatch.report(d, error);
        if (state.reported) Dispatch.report(d, first);
      }
      // "stop", and "first" unless onHandlerError threw.
      if (!state.reported) throw first;
    }
    // "isolate" (and "first"): what onHandlerError threw first.
    if (state.reported) throw state.reported[0];
  }

  static report(d: Dispatch, error: HandlerError): void {
    try {
      d.#route.registry.options.onHandlerError?.(error);
    } catch (thrown) {
      Dispatch.stateOf(d).reported ??= [thrown];
    }
  }
}

/** The failures kept so far, in registration order (observers first). */
function errorsOf(state: State | undefined): HandlerError[] | undefined {
  return state?.failures
    ?.sort((a, b) => a.position - b.position)
    .map((failure) => failure.error);
}

/** A dispatch's result when it ended synchronously without a failure. */
const DONE: Promise<void> = /* @__PURE__ */ Promise.resolve();

/** The dispatch `keepShape` keeps alive, once a dispatcher was made. */
let kept: Dispatch | undefined;

/**
 * Keeps one Dispatch, with a state, alive: V8 drops a hidden class, and the
 * optimized code built on it, once no object has it, so without it
 * dispatches after a full GC measured 8 times slower. Called by the
 * dispatcher's constructor, not at load: an import that makes no dispatcher
 * pays nothing for it (a bundler keeps what runs at load). Its event is a
 * real one: a placeholder of another shape made dispatches after a GC 1.8
 * times slower.
 */
export function keepShape(): void {
  if (kept) return;
  kept = new Dispatch(
    createEvent("keep.shape"),
    0,
    undefined,
    registryOf({}).anyRoute,
  );
  Dispatch.stateOf(kept);
}

/** How `event` was sealed (see `sealedBy`), once checked if it was not. */
function checkedSeal(event: DomainEvent): object | null | undefined {
  const sealed = sealedBy(event);
  if (sealed === undefined) assertDomainEvent(event);
  return sealed;
}

/**
 * Dispatches `event` at `depth` in `registry`: where every dispatch starts
 * (top-level, nested, and each of `dispatchAll`'s). The signal is checked
 * as it starts, then the event, then a {@linkcode Dispatch} runs its
 * handlers. Kept small enough for V8 to inline into its callers
 * (`deno task check:bytecode`): what is rarer is in the functions above and
 * `observed`.
 */
export function dispatchAt(
  registry: Registry,
  event: DomainEvent,
  depth: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    if (signal?.aborted) throw signal.reason;
    const sealed = checkedSeal(event);
    if (depth > registry.maxDepth) {
      throw new MaxDepthExceededError(event.eventType, registry.maxDepth);
    }
    const route = registry.routes.get(event.eventType) ?? registry.anyRoute;
    // Events its `create` made pass without a call (the hot path). The
    // comparison comes first so that every dispatch runs it: V8 compiles a
    // comparison it never saw run as a deoptimization, so the first typed
    // event after untyped ones threw away dispatchAt's optimized code.
    const definition = route.own.definition;
    if (sealed !== definition && definition) refuse(definition, event);
    const dispatch = new Dispatch(event, depth, signal, route);
    const result = !route.handlers.length || registry.observers.length
      ? observed(dispatch, event, depth, route)
      : Dispatch.run(dispatch);
    return result ? untilAborted(dispatch, result, signal) : DONE;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `result`, or, as soon as `signal` aborts, a rejection with what
 * `Dispatch.aborted` says; `result` itself without a signal. Its own
 * function: a closure in dispatchAt would make every dispatch allocate a
 * context for the variable it captures.
 */
function untilAborted(
  dispatch: Dispatch,
  result: Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return result as Promise<void>;
  return race(result, (reject) => {
    const stop = () => reject(Dispatch.aborted(dispatch));
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop);
    return () => signal.removeEventListener("abort", stop);
  }) as Promise<void>;
}

/** A dispatch with observers, or without handlers (then `onUnhandled` is called). */
function observed(
  dispatch: Dispatch,
  event: DomainEvent,
  depth: number,
  route: Route,
): Promise<unknown> | undefined {
  const { observers, options } = route.registry;
  // The observers first: a throw is a failure placed before the handlers'.
  const info = { depth };
  for (const [index, observer] of observers.entries()) {
    try {
      observer(event, info);
    } catch (cause) {
      Dispatch.failed(dispatch, index - observers.length, cause, observer);
    }
  }
  // Before run, which throws when an observer failed (so every mode calls it).
  if (!route.handlers.length) options.onUnhandled?.(event);
  return Dispatch.run(dispatch);
}
