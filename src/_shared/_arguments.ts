import { describeValue } from "./_messages.ts";

/** Throws the TypeError `${name}: expected ${expected}, got ${value}` unless `ok`. */
export function checkArgument(
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

/**
 * Checks that `options` is an object whose own keys are all in `known`: a
 * misspelt option is refused, never silently ignored. `where` names the
 * function or class the options are for.
 *
 * @throws {TypeError} `register: unknown option "timeout" (expected timeoutMs)`.
 */
export function checkOptions(
  options: unknown,
  known: readonly string[],
  where: string,
): void {
  checkArgument(
    typeof options == "object" && options,
    where,
    "an options object",
    options,
  );
  const unknown = Object.keys(options as object).find((key) =>
    !known.includes(key)
  );
  if (unknown !== undefined) {
    throw new TypeError(
      `${where}: unknown option ${JSON.stringify(unknown)} (expected ${
        known.join(", ")
      })`,
    );
  }
}

/** Whether `value` can be registered as a handler (a function, or an object with a `handle` method); never throws. */
export function isHandler(value: unknown): boolean {
  try {
    return typeof value == "function" ||
      typeof (value as { handle?: unknown } | null)?.handle == "function";
  } catch {
    return false;
  }
}

/** Throws a TypeError unless `value` is an integer from `min` to `max`. */
export function checkInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): number {
  checkArgument(
    Number.isInteger(value) && (value as number) >= min &&
      (value as number) <= max,
    name,
    `an integer from ${min} to ${max}`,
    value,
  );
  return value as number;
}
