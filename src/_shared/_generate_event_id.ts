import { checkArgument } from "./_arguments.ts";

/**
 * Checks the `generateEventId` option (of `defineEvent` and of
 * `PostgresOutbox`): a function, or `undefined` for `crypto.randomUUID`.
 *
 * @throws {TypeError} `generateEventId: expected a function, got 42`.
 */
export function checkGenerateEventId(
  value: unknown,
): asserts value is (() => string) | undefined {
  checkArgument(
    value === undefined || typeof value == "function",
    "generateEventId",
    "a function",
    value,
  );
}
