import type { CheckedDefinition } from "../_shared/_definition_check.ts";
import { checkDispatcherOptions } from "./_options.ts";
import type { EventHandler, Middleware } from "./handler.ts";
import type { DispatcherOptions, EventObserver } from "./options.ts";

type Handler = EventHandler;

/** The handlers of one type (or the `registerAny` ones), as a dispatch sees them. */
export interface Entry {
  /** In registration order; never mutated (dispatches hold snapshots). */
  readonly handlers: readonly Handler[];
  /** The definition the type's events must match, if one was registered. */
  readonly definition: CheckedDefinition | undefined;
  /** Each handler's `timeoutMs`, by position (`undefined`: the dispatcher's). */
  readonly timeouts: readonly (number | undefined)[];
}

/** An entry without handlers: the one of a type nothing is registered for. */
export const NO_HANDLERS: Entry = {
  handlers: [],
  definition: undefined,
  timeouts: [],
};

/** What a dispatch of one type runs: made when registrations change, not per dispatch. */
export interface Route {
  /** The dispatcher it runs in. */
  readonly registry: Registry;
  /** The type's own entry (`NO_HANDLERS` if none). */
  readonly own: Entry;
  /** `own`'s handlers, then the `registerAny` ones. */
  readonly handlers: readonly Handler[];
  /** Their `timeoutMs`, by position (`undefined`: the dispatcher's). */
  readonly timeouts: readonly (number | undefined)[];
  /** The dispatcher's middleware, first added first. */
  readonly middleware: readonly Middleware[];
}

/** The route, in `registry`, of a type whose own entry is `own`. */
export function routeOf(registry: Registry, own: Entry): Route {
  const any = registry.handlers.get(null) ?? NO_HANDLERS;
  return {
    registry,
    own,
    handlers: own.handlers.concat(any.handlers),
    timeouts: own.timeouts.concat(any.timeouts),
    middleware: registry.middleware,
  };
}

/**
 * What a failing handler does to its dispatch: one rule per row of the table
 * in docs/dispatching.md ("Error modes"), from concurrency × errorMode.
 * - `"stop"` (sequential fail-fast): the first failure stops the handlers
 *   after it; the dispatch rejects with it.
 * - `"first"` (parallel fail-fast): every handler settles; the dispatch
 *   rejects with the first failure in registration order, the others go to
 *   `onHandlerError`.
 * - `"collect"`: every handler runs; the dispatch rejects with a
 *   DispatchError of every failure.
 * - `"isolate"`: every handler runs; each failure goes to `onHandlerError` as
 *   it happens; the dispatch resolves.
 */
export type Rule = "stop" | "first" | "collect" | "isolate";

/**
 * What an `InProcessEventDispatcher` holds: its options, checked, and what
 * is registered. Changed only by the functions of _registry.ts; read by
 * `dispatchAt` (_dispatch.ts).
 */
export interface Registry {
  readonly options: DispatcherOptions;
  readonly maxDepth: number;
  readonly rule: Rule;
  /** Each type's entry; the `registerAny` one under `null`. */
  readonly handlers: Map<string | null, Entry>;
  /** The route of each type with handlers of its own, from `handlers`. */
  readonly routes: Map<string, Route>;
  /** The route of the other types: the `registerAny` handlers alone. */
  anyRoute: Route;
  middleware: readonly Middleware[];
  observers: readonly EventObserver[];
}

/**
 * A registry for `options`, nothing registered.
 *
 * @throws {TypeError} As `InProcessEventDispatcher`'s constructor says.
 */
export function registryOf(options: DispatcherOptions): Registry {
  const checked = checkDispatcherOptions(options);
  const { errorMode } = checked;
  const registry: Registry = {
    options: checked,
    maxDepth: checked.maxDepth,
    rule: errorMode == "collect" || errorMode == "isolate"
      ? errorMode
      : checked.concurrency == "parallel"
      ? "first"
      : "stop",
    handlers: new Map(),
    routes: new Map(),
    anyRoute: undefined as unknown as Route,
    middleware: [],
    observers: [],
  };
  registry.anyRoute = routeOf(registry, NO_HANDLERS);
  return registry;
}
