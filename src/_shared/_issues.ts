import { type EventIssue, InvalidEventError } from "../event/errors.ts";
import { describeError, describeValue } from "./_messages.ts";

/** An issue whose message is `expected ${expected}, got ${got}`. */
export function issue(path: string, expected: string, got: string): EventIssue {
  return { path, message: `expected ${expected}, got ${got}` };
}

/** An InvalidEventError with one {@linkcode issue}. */
export function invalid(
  path: string,
  expected: string,
  got: string,
  options?: ErrorOptions,
): InvalidEventError {
  return new InvalidEventError([issue(path, expected, got)], options);
}

/**
 * `error` as an InvalidEventError: itself, or, for anything else thrown
 * while reading a value, one that says so at `path`.
 */
export function unreadable(error: unknown, path: string): InvalidEventError {
  try {
    if (error instanceof InvalidEventError) return error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not one of ours.
  }
  return invalid(path, "a readable value", "a throw: " + describeError(error), {
    cause: error,
  });
}

/**
 * Formats a path the way a reader writes it in code: `payload.items[2]["a b"]`;
 * with an empty `root`, `items[2]`.
 */
export function formatPath(
  root: string,
  keys: readonly (PropertyKey | { readonly key: PropertyKey })[],
): string {
  for (const segment of keys) {
    const key = (segment as { key?: PropertyKey }).key ?? segment;
    root += typeof key == "number"
      ? `[${key}]`
      : typeof key == "string" && /^[a-z_$][\w$]*$/i.test(key)
      ? (root && ".") + key
      : `[${JSON.stringify(String(key))}]`;
  }
  return root;
}

/** Throws the InvalidEventError of one issue at `path` unless `ok`. */
export function checkInput(
  ok: boolean,
  path: string,
  expected: string,
  value: unknown,
): void {
  if (!ok) throw invalid(path, expected, describeValue(value));
}
