import { InvalidEventError } from "./errors.ts";
import type { JsonObject } from "./types.ts";

/** How deep a payload or metadata object may nest, unless told otherwise. */
export const DEFAULT_MAX_DEPTH = 64;

/** The frozen empty object shared by events created without a payload or metadata. */
export const EMPTY_OBJECT: JsonObject = Object.freeze({});

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Formats a path the way a reader writes it in code: `payload.items[2]["a b"]`;
 * with an empty `root`, `items[2]`.
 */
export function formatPath(
  root: string,
  keys: readonly (PropertyKey | { readonly key: PropertyKey })[],
): string {
  let path = root;
  for (const segment of keys) {
    const key = typeof segment === "object" ? segment.key : segment;
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "string" && IDENTIFIER.test(key)) {
      path += path ? `.${key}` : key;
    } else path += `[${JSON.stringify(String(key))}]`;
  }
  return path;
}

/** An InvalidEventError with one issue. */
export function invalid(
  path: string,
  message: string,
  options?: ErrorOptions,
): InvalidEventError {
  return new InvalidEventError([{ path, message }], options);
}

/** What a caught error says: its message, or the thrown value described. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : describeValue(error);
}

/** Names a value for an error message: `NaN`, `"abc"`, `undefined`, `a function`, `Date`. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value.length > 40
        ? `${JSON.stringify(value.slice(0, 40))}…`
        : JSON.stringify(value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
    case "symbol":
    case "function":
      return `a ${typeof value}`;
  }
  if (value === null) return "null";
  try {
    const prototype = Object.getPrototypeOf(value);
    if (Array.isArray(value) && prototype === Array.prototype) {
      return "an array";
    }
    if (prototype === null || prototype === Object.prototype) {
      return "an object";
    }
    // A class instance is named by its class; an object whose prototype is
    // another object (or another realm's Object.prototype) is not.
    const name = prototype.constructor?.name;
    return typeof name === "string" && name && name !== "Object"
      ? name
      : "an object with a custom prototype";
  } catch {
    return "an object that cannot be inspected";
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
  maxDepth: number = DEFAULT_MAX_DEPTH,
  maxChars: number = Infinity,
): JsonObject {
  // The path to the value being copied, and the containers holding it: the
  // object or array being entered is at level `ancestors.length + 1`.
  const keys: (string | number)[] = [];
  const ancestors: object[] = [];
  // About how many characters of JSON the values copied so far would take.
  let chars = 0;

  const fail = (message: string): never => {
    throw invalid(formatPath(root, keys), message);
  };
  const spend = (count: number): void => {
    if ((chars += count) > maxChars) {
      fail(`expected at most ${maxChars} characters of JSON, got more`);
    }
  };
  const enter = (container: object): void => {
    if (ancestors.length >= maxDepth) {
      fail(`expected at most ${maxDepth} levels of nesting, got more`);
    }
    if (ancestors.includes(container)) {
      fail("expected JSON data, got a cycle (an object that contains itself)");
    }
    spend(2);
    ancestors.push(container);
  };
  const copyValue = (item: unknown): unknown => {
    switch (typeof item) {
      case "string":
        spend(item.length);
        return item;
      case "boolean":
        return item;
      case "number":
        return Number.isFinite(item)
          ? item
          : fail(`expected a finite number, got ${item}`);
      case "object":
        if (item === null) return item;
        if (!Array.isArray(item)) return copyObject(item);
        if (Object.getPrototypeOf(item) !== Array.prototype) {
          fail(`expected a plain array, got ${describeValue(item)}`);
        }
        return copyArray(item);
    }
    return fail(`expected JSON data, got ${describeValue(item)}`);
  };
  const copyArray = (array: readonly unknown[]): readonly unknown[] => {
    enter(array);
    const length = array.length;
    const copy: unknown[] = new Array(length);
    for (let index = 0; index < length; index++) {
      keys.push(index);
      const item = array[index];
      if (item === undefined) {
        fail("expected JSON data, got undefined (arrays cannot hold it)");
      }
      copy[index] = copyValue(item);
      spend(1);
      keys.pop();
    }
    ancestors.pop();
    return Object.freeze(copy);
  };
  const copyObject = (object: object): JsonObject => {
    const prototype = Object.getPrototypeOf(object);
    if (
      Array.isArray(object) ||
      prototype !== Object.prototype && prototype !== null
    ) {
      fail(`expected a plain object, got ${describeValue(object)}`);
    }
    enter(object);
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
        fail(`expected string keys, got the symbol key ${String(symbol)}`);
      }
    }
    const copy: JsonObject = {};
    for (const key of Object.keys(object)) {
      keys.push(key);
      if (key === "__proto__") {
        fail('expected any key but "__proto__", got "__proto__"');
      }
      spend(key.length + 3);
      const item = (object as Record<string, unknown>)[key];
      if (item !== undefined) copy[key] = copyValue(item) as JsonObject[string];
      keys.pop();
    }
    ancestors.pop();
    return Object.freeze(copy);
  };

  try {
    return typeof value === "object" && value !== null
      ? copyObject(value)
      : fail(`expected a plain object, got ${describeValue(value)}`);
  } catch (error) {
    throw error instanceof InvalidEventError ? error : invalid(
      formatPath(root, keys),
      `could not be read: ${describeError(error)}`,
      { cause: error },
    );
  }
}
