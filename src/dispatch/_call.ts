import type { EventHandler, HandlerContext, Middleware } from "./handler.ts";
import type { DomainEvent } from "../event/types.ts";

type Handler = EventHandler;

/** The name errors and middleware give a handler or observer; never throws. */
export function nameOf(handler: object): string {
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
  context: HandlerContext,
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
  context: HandlerContext,
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
export function race(
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

/**
 * `promise`, or a TimeoutError once `ms` have passed; `promise` itself
 * without a timeout (`undefined` or `Infinity`).
 */
export function withTimeout(
  promise: Promise<unknown>,
  ms: number | undefined,
): Promise<unknown> {
  if (ms === undefined || ms === Infinity) return promise;
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
