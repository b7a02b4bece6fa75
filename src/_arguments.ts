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
 * Checks that `options` is an object (or `undefined`) whose own keys are all
 * in `known`: a misspelt option is refused, never silently ignored.
 *
 * @throws {TypeError} `options: expected only maxDepth, …, got "maxDeph"`.
 */
export function checkOptions(
  options: unknown,
  known: readonly string[],
): void {
  if (options === undefined) return;
  checkArgument(
    typeof options == "object" && options,
    "options",
    "an object",
    options,
  );
  const unknown = Object.keys(options as object).find((key) =>
    !known.includes(key)
  );
  checkArgument(
    unknown === undefined,
    "options",
    "only " + known.join(", "),
    unknown,
  );
}
