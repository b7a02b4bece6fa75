import {
  checkArgument,
  checkOptions,
  isHandler,
} from "../_shared/_arguments.ts";
import { isCheckable, refuse } from "../_shared/_definition_check.ts";
import { makeDisposable } from "../_shared/_disposable.ts";
import {
  DispatchError,
  DomainEventError,
  type HandlerError,
} from "../event/errors.ts";
import { assertDomainEvent } from "../event/guards.ts";
import type { DomainEvent } from "../event/types.ts";
import { dispatchAt } from "./_dispatch.ts";
import { checkTimeout } from "./_options.ts";
import { type Entry, NO_HANDLERS, type Registry, routeOf } from "./_route.ts";
import type { EventHandler, Middleware, Unsubscribe } from "./handler.ts";
import type { EventObserver, RegisterOptions } from "./options.ts";

// The operations of InProcessEventDispatcher on its Registry, each as its
// public method (JSDoc there) says.

type Handler = EventHandler;
type TypeOrDefinition = string | { readonly type: string };

function keyOf(type: TypeOrDefinition | null): string | null {
  return type === null || typeof type == "string" ? type : type.type;
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

/** Registers `handler` under a type or definition (`null`: any type). */
export function add(
  registry: Registry,
  typeOrDefinition: TypeOrDefinition | null,
  handler: Handler,
  options: RegisterOptions | undefined,
): Unsubscribe {
  checkArgument(
    isHandler(handler),
    "handler",
    "a function or an object with a handle method",
    handler,
  );
  const type = keyOf(typeOrDefinition);
  if (options !== undefined) {
    checkOptions(
      options,
      ["timeoutMs"],
      type === null ? "registerAny" : "register",
    );
  }
  const timeoutMs = options?.timeoutMs;
  checkTimeout("timeoutMs", timeoutMs);
  const definition = typeof typeOrDefinition == "object" &&
      typeOrDefinition && isCheckable(typeOrDefinition)
    ? typeOrDefinition
    : undefined;
  const entry = registry.handlers.get(type) ?? NO_HANDLERS;
  const known = entry.definition;
  if (definition && known && known != definition) {
    throw new TypeError(
      `register: expected the definition already registered for "${type}", got another definition of that type`,
    );
  }
  // A handler registered again keeps its place and timeout.
  set(
    registry,
    type,
    entry.handlers.includes(handler)
      ? { ...entry, definition: known ?? definition }
      : {
        handlers: [...entry.handlers, handler],
        definition: known ?? definition,
        timeouts: [...entry.timeouts, timeoutMs],
      },
  );
  return unsubscriber(() => remove(registry, type, handler));
}

/** Unregisters `handler` from a type (`null`: any); whether it was registered. */
export function remove(
  registry: Registry,
  typeOrDefinition: TypeOrDefinition | null,
  handler: Handler,
): boolean {
  const type = keyOf(typeOrDefinition);
  const entry = registry.handlers.get(type) ?? NO_HANDLERS;
  const position = entry.handlers.indexOf(handler);
  if (position < 0) return false;
  const kept = (_: unknown, index: number) => index != position;
  set(registry, type, {
    ...entry,
    handlers: entry.handlers.filter(kept),
    timeouts: entry.timeouts.filter(kept),
  });
  return true;
}

/**
 * Replaces a type's entry (an empty one is deleted, its definition with it)
 * and makes every route again: registration is rare, and one way to make
 * routes is fewer bytes than two.
 */
function set(registry: Registry, type: string | null, entry: Entry): void {
  if (entry.handlers.length) registry.handlers.set(type, entry);
  else registry.handlers.delete(type);
  reroute(registry);
}

/** Makes every route again, after a change all of them see. */
function reroute(registry: Registry): void {
  const { handlers, routes } = registry;
  registry.anyRoute = routeOf(registry, NO_HANDLERS);
  routes.clear();
  for (const [type, own] of handlers) {
    if (type !== null) routes.set(type, routeOf(registry, own));
  }
}

export function clear(registry: Registry): void {
  registry.handlers.clear();
  reroute(registry);
}

export function count(
  registry: Registry,
  type: TypeOrDefinition | undefined,
): number {
  if (type !== undefined) {
    return (registry.routes.get(keyOf(type) as string) ?? registry.anyRoute)
      .handlers.length;
  }
  let count = 0;
  for (const entry of registry.handlers.values()) {
    count += entry.handlers.length;
  }
  return count;
}

/**
 * `observe` and `use`: adds an observer or a middleware (a no-op when it is
 * there already) and makes every route again, as removing it does (routes
 * hold the middleware).
 */
export function listen(
  registry: Registry,
  key: "observers" | "middleware",
  added: EventObserver | Middleware,
): Unsubscribe {
  checkArgument(
    typeof added == "function",
    key == "observers" ? "observer" : key,
    "a function",
    added,
  );
  if (!registry[key].includes(added as never)) {
    registry[key] = [...registry[key], added] as never;
    reroute(registry);
  }
  return unsubscriber(() => {
    registry[key] = registry[key].filter((other: unknown) =>
      other != added
    ) as never;
    reroute(registry);
  });
}

export async function dispatchAll(
  registry: Registry,
  events: Iterable<DomainEvent>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const list = [...events];
  for (const event of list) {
    assertDomainEvent(event);
    const definition = registry.handlers.get(event.eventType)?.definition;
    if (definition) refuse(definition, event);
  }
  const failures: HandlerError[] = [];
  let firstFailed: DomainEvent | undefined;
  for (const [index, event] of list.entries()) {
    try {
      await dispatchAt(registry, event, 0, signal);
    } catch (thrown) {
      let error = thrown;
      if (registry.rule == "collect" && error instanceof DispatchError) {
        firstFailed ??= event;
        failures.push(...error.errors);
        // An aborted dispatch's failures carry the abort as their cause.
        if (error.cause === undefined) continue;
        error = error.cause;
      }
      if (firstFailed) {
        // What stopped it becomes the cause: the failures so far are not lost.
        error = Object.assign(new DispatchError(firstFailed, failures), {
          cause: error,
        });
      }
      if (error instanceof DomainEventError || error instanceof DispatchError) {
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
