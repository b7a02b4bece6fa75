import { InvalidEventError } from "./errors.ts";
import type { JsonObject } from "./types.ts";

/** How deep a payload or metadata object may nest, unless told otherwise. */
export const DEFAULT_MAX_DEPTH = 64;

/** The frozen empty object shared by events created without a payload or metadata. */
export const EMPTY_OBJECT: JsonObject = Object.freeze({});

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Formats a path the way a reader writes it in code: `payload.items[2]["a b"]`.
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
      return "a bigint";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  try {
    if (Array.isArray(value)) return "an array";
    const prototype = Object.getPrototypeOf(value);
    if (prototype === null || prototype === Object.prototype) {
      return "an object";
    }
    const name = prototype.constructor?.name;
    if (name === "Object") return "an object from another realm";
    return typeof name === "string" && name
      ? name
      : "an object with a custom prototype";
  } catch {
    return "an object that cannot be inspected";
  }
}

interface Walk {
  readonly root: string;
  readonly maxDepth: number;
  readonly keys: (string | number)[];
  readonly ancestors: object[];
  /** Characters left before the input counts as too large. */
  budget: number;
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
  const walk: Walk = {
    root,
    maxDepth,
    keys: [],
    ancestors: [],
    budget: maxChars,
  };
  try {
    if (!isPlainObject(value)) {
      fail(walk, `expected a plain object, got ${describeValue(value)}`);
    }
    return copyObject(walk, value, 1);
  } catch (error) {
    if (error instanceof InvalidEventError) throw error;
    throw new InvalidEventError([{
      path: formatPath(walk.root, walk.keys),
      message: `could not be read: ${
        error instanceof Error ? error.message : describeValue(error)
      }`,
    }], { cause: error });
  }
}

function fail(walk: Walk, message: string): never {
  throw new InvalidEventError([{
    path: formatPath(walk.root, walk.keys),
    message,
  }]);
}

function spend(walk: Walk, chars: number): void {
  walk.budget -= chars;
  if (walk.budget < 0) {
    fail(walk, "expected a smaller input, got more than the length limit");
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function copyValue(walk: Walk, value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      spend(walk, value.length);
      return value;
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      return fail(walk, `expected a finite number, got ${value}`);
    case "object":
      if (value === null) return value;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) {
          return fail(
            walk,
            `expected a plain array, got ${describeValue(value)}`,
          );
        }
        return copyArray(walk, value, depth);
      }
      if (isPlainObject(value)) return copyObject(walk, value, depth);
      return fail(walk, `expected a plain object, got ${describeValue(value)}`);
  }
  return fail(walk, `expected JSON data, got ${describeValue(value)}`);
}

function enter(walk: Walk, container: object, depth: number): void {
  if (depth > walk.maxDepth) {
    fail(walk, `expected at most ${walk.maxDepth} levels of nesting, got more`);
  }
  if (walk.ancestors.includes(container)) {
    fail(
      walk,
      "expected JSON data, got a cycle (an object that contains itself)",
    );
  }
  spend(walk, 2);
  walk.ancestors.push(container);
}

function copyArray(
  walk: Walk,
  array: readonly unknown[],
  depth: number,
): readonly unknown[] {
  enter(walk, array, depth);
  const length = array.length;
  const copy: unknown[] = new Array(length);
  for (let index = 0; index < length; index++) {
    walk.keys.push(index);
    const item = array[index];
    if (item === undefined) {
      fail(walk, "expected JSON data, got undefined (arrays cannot hold it)");
    }
    copy[index] = copyValue(walk, item, depth + 1);
    spend(walk, 1);
    walk.keys.pop();
  }
  walk.ancestors.pop();
  return Object.freeze(copy);
}

function copyObject(
  walk: Walk,
  object: Record<string, unknown>,
  depth: number,
): JsonObject {
  enter(walk, object, depth);
  const symbols = Object.getOwnPropertySymbols(object);
  for (const symbol of symbols) {
    if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
      fail(walk, `expected string keys, got the symbol key ${String(symbol)}`);
    }
  }
  const copy: JsonObject = {};
  for (const key of Object.keys(object)) {
    walk.keys.push(key);
    if (key === "__proto__") {
      fail(walk, 'expected any key but "__proto__", got "__proto__"');
    }
    spend(walk, key.length + 3);
    const item = object[key];
    if (item !== undefined) {
      copy[key] = copyValue(walk, item, depth + 1) as JsonObject[string];
    }
    walk.keys.pop();
  }
  walk.ancestors.pop();
  return Object.freeze(copy);
}
