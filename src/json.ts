import { type EventIssue, InvalidEventError } from "./errors.ts";
import type { JsonObject } from "./types.ts";

/** The frozen empty object shared by events created without a payload or metadata. */
export const EMPTY_OBJECT: JsonObject = Object.freeze({});

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

/** What a caught error says: its message, or the thrown value described. */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error
      ? String(error.message)
      : describeValue(error);
  } catch {
    return "a value that cannot be inspected";
  }
}

/** Names a value for an error message: `NaN`, `"abc"`, `undefined`, `a function`, `Date`. */
export function describeValue(value: unknown): string {
  const type = typeof value;
  if (type == "string") {
    const text = value as string;
    return JSON.stringify(text.slice(0, 40)) + (text.length > 40 ? "…" : "");
  }
  if (type == "object" && value) {
    try {
      const prototype = Object.getPrototypeOf(value);
      if (!prototype || prototype == Object.prototype) return "an object";
      // A class instance is named by its class; an object whose prototype is
      // another object (or another realm's Object.prototype) is not.
      const name = prototype.constructor?.name;
      return typeof name == "string" && name && name != "Object"
        ? name
        : "an object with a custom prototype";
    } catch {
      return "an object that cannot be inspected";
    }
  }
  return value == null || type == "number" || type == "boolean"
    ? String(value)
    : "a " + type;
}

/** Whether `value` is an object other than an array (or null). */
export function isRecord(value: unknown): boolean {
  return typeof value == "object" && !!value && !Array.isArray(value);
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

/**
 * `input` itself, or, for a string, the value of the JSON text it holds
 * (at most `maxLength` characters).
 *
 * @throws {InvalidEventError} When the text is too long or is not JSON.
 */
export function readJson(input: unknown, maxLength: number): unknown {
  if (typeof input != "string") return input;
  if (!(input.length <= maxLength)) { // a NaN limit refuses, never lifts the limit
    throw invalid(
      "",
      `at most ${maxLength} characters of JSON`,
      "" + input.length,
    );
  }
  try {
    return JSON.parse(input);
  } catch (error) {
    throw invalid(
      "",
      "JSON",
      `text that does not parse (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/**
 * Checks that `value` is a plain JSON object and returns a deep copy of it,
 * frozen at every level, with `undefined` properties dropped.
 *
 * @throws {InvalidEventError} naming the path of the first problem found.
 */
export function copyJsonObject(
  value: unknown,
  root: string,
  maxDepth = 64,
  // Past about this many characters (V8's longest string) an event could not
  // be written out: refused, so that every event JSON.stringify can write.
  maxChars = 2 ** 29,
): JsonObject {
  // The path to the value being copied, and the containers holding it.
  const keys: (string | number)[] = [];
  const ancestors: object[] = [];
  // About how many characters of JSON the values copied so far take: the
  // strings and keys, and one for each key, array item and container.
  let chars = 0;
  // A subtree met again (the same object in two places) is copied once:
  // its copy, its levels of nesting and its characters, for the limits.
  // Payloads of a few dozen containers never pay for the map; a graph with
  // more paths than objects gets it after 64 copies, and stays linear.
  let copies: Map<object, [unknown, number, number]> | undefined;
  let containers = 0;
  // The levels of nesting of the container copied last.
  let levels = 0;

  const fail = (expected: string, got: string): never => {
    throw invalid(formatPath(root, keys), expected, got);
  };
  const spend = (count: number): void => {
    if (!((chars += count) <= maxChars)) {
      fail(`at most ${maxChars} characters of JSON`, "more");
    }
  };
  const copy = (item: unknown): unknown => {
    if (typeof item == "number") {
      return item - item == 0 // finite: NaN and ±Infinity give NaN
        ? item
        : fail("a finite number", describeValue(item));
    }
    if (typeof item == "string") spend(item.length);
    if (typeof item == "string" || typeof item == "boolean" || item === null) {
      return item;
    }
    return typeof item == "object"
      ? copyContainer(item)
      : fail("JSON data", describeValue(item));
  };
  const copyContainer = (item: object): unknown => {
    const array = Array.isArray(item);
    const prototype = Object.getPrototypeOf(item);
    if (
      array
        ? prototype != Array.prototype
        : prototype && prototype != Object.prototype
    ) fail(`a plain ${array ? "array" : "object"}`, describeValue(item));
    const seen = copies?.get(item);
    if (!(ancestors.length + (seen?.[1] ?? 1) <= maxDepth)) {
      fail(`at most ${maxDepth} levels of nesting`, "more");
    }
    if (seen) {
      spend(seen[2]);
      levels = seen[1];
      return seen[0];
    }
    if (ancestors.includes(item)) fail("JSON data", "a cycle");
    ancestors.push(item);
    const start = chars;
    let deepest = 0;
    spend(1);
    // deno-lint-ignore no-explicit-any
    const copied: any = array ? new Array(item.length) : {};
    if (array) {
      for (let index = 0; index < item.length; index++) {
        keys.push(index);
        levels = 0;
        copied[index] = copy(item[index]);
        if (levels > deepest) deepest = levels;
        spend(1);
        keys.pop();
      }
    } else {
      for (const symbol of Object.getOwnPropertySymbols(item)) {
        if ({}.propertyIsEnumerable.call(item, symbol)) {
          fail("string keys", String(symbol));
        }
      }
      for (const key of Object.keys(item)) {
        keys.push(key);
        if (key == "__proto__") {
          fail('any key but "__proto__"', describeValue(key));
        }
        spend(key.length + 1);
        const property = (item as Record<string, unknown>)[key];
        levels = 0;
        if (property !== undefined) copied[key] = copy(property);
        if (levels > deepest) deepest = levels;
        keys.pop();
      }
    }
    ancestors.pop();
    levels = deepest + 1;
    Object.freeze(copied);
    if (++containers > 64) {
      (copies ??= new Map()).set(item, [copied, levels, chars - start]);
    }
    return copied;
  };

  try {
    return isRecord(value)
      ? copy(value) as JsonObject
      : fail("a plain object", describeValue(value));
  } catch (error) {
    throw unreadable(error, formatPath(root, keys));
  }
}
