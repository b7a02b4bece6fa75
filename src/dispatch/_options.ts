import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
import type { DispatcherOptions, DispatchOptions } from "./options.ts";

/** Checks a timeout option: an integer from 1 to 2^31-1 ms, or Infinity (none). */
export function checkTimeout(name: string, value: unknown): void {
  checkArgument(
    value === undefined || value === Infinity ||
      (Number.isInteger(value) && (value as number) >= 1 &&
        (value as number) <= 2147483647),
    name,
    "an integer from 1 to 2147483647 or Infinity",
    value,
  );
}

/**
 * The dispatcher's options, checked, as a copy (what the caller changes
 * later does not reach the dispatcher), with `maxDepth` read.
 *
 * @throws {TypeError} As the constructor's JSDoc says.
 */
export function checkDispatcherOptions(
  options: DispatcherOptions,
): DispatcherOptions & { readonly maxDepth: number } {
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
  copy.maxDepth = maxDepth;
  return copy as DispatcherOptions & { readonly maxDepth: number };
}

/** Reads `options.signal` of dispatch and dispatchAll. */
export function signalOf(
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
