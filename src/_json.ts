import { formatPath, invalid, unreadable } from "./_issues.ts";
import { describeValue } from "./_messages.ts";
import type { JsonObject } from "./types.ts";

/** The frozen empty object shared by events created without a payload or metadata. */
export const EMPTY_OBJECT: JsonObject = Object.freeze({});

/** Whether `value` is an object other than an array (or null). */
export function isRecord(value: unknown): boolean {
  return typeof value == "object" && !!value && !Array.isArray(value);
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
 * The most characters of JSON text the payload or the metadata of an event
 * may take: V8's longest string is 2^29 − 24 characters, and payload and
 * metadata get a little under half of it each, so that a whole event (and
 * its CloudEvent) can be written by `JSON.stringify`.
 */
export const MAX_JSON_CHARS = 2 ** 28 - 2 ** 16;

/**
 * How many characters `JSON.stringify` writes for `text`, quotes included;
 * once past `budget`, a number past `budget`.
 */
function jsonLength(text: string, budget: number): number {
  let length = text.length + 2;
  // Most strings have nothing to escape: one native scan says so.
  // deno-lint-ignore no-control-regex
  if (length > budget || !/["\\\0-\x1f\ud800-\udfff]/.test(text)) return length;
  for (let index = 0; index < text.length && length <= budget; index++) {
    const code = text.charCodeAt(index);
    if (code == 34 || code == 92 || (code >= 8 && code <= 13 && code != 11)) {
      length += 1; // \" \\ \b \t \n \f \r
    } else if (code < 32) {
      length += 5; // \u0001
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(index + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index++;
      else length += 5; // a lone surrogate: \ud800
    }
  }
  return length;
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
  // The longest JSON text of the copy, as JSON.stringify writes it; never
  // more than MAX_JSON_CHARS, so that every event can be written out.
  maxChars: number = MAX_JSON_CHARS,
): JsonObject {
  maxChars = Math.min(maxChars, MAX_JSON_CHARS); // NaN stays NaN: refuses all
  // Counting exactly costs a scan of every string and key: the first walk
  // counts the most each value could take (a number 25 characters, a string
  // six per character), and only a copy whose bound passes the limit is
  // walked again, counting exactly.
  try {
    return walk(value, root, maxDepth, maxChars, false);
  } catch (error) {
    if (error !== RECOUNT) throw error;
    return walk(value, root, maxDepth, maxChars, true);
  }
}

/** Thrown by a walk that counts bounds when the bound passes the limit. */
const RECOUNT = {};

/** One walk of {@linkcode copyJsonObject}, counting exactly or bounds. */
function walk(
  value: unknown,
  root: string,
  maxDepth: number,
  maxChars: number,
  exact: boolean,
): JsonObject {
  // The path to the value being copied, and the containers holding it.
  const keys: (string | number)[] = [];
  const ancestors: object[] = [];
  // The characters of JSON text the values copied so far take.
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
  const overLimit = (): never => {
    if (!exact) throw RECOUNT;
    return fail(`at most ${maxChars} characters of JSON`, "more");
  };
  const spend = (count: number): void => {
    if (!((chars += count) <= maxChars)) overLimit();
  };
  const text = (item: string): number =>
    exact ? jsonLength(item, maxChars - chars) : item.length * 6 + 2;
  const copy = (item: unknown): unknown => {
    switch (typeof item) {
      case "string":
        spend(text(item));
        return item;
      case "number":
        // Finite: NaN and ±Infinity give NaN.
        if (item - item != 0) fail("a finite number", describeValue(item));
        spend(exact ? String(item).length : 25);
        return item;
      case "boolean":
        spend(item ? 4 : 5);
        return item;
      case "object":
        if (item === null) {
          spend(4);
          return item;
        }
        return copyContainer(item);
    }
    return fail("JSON data", describeValue(item));
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
    // The opening bracket, and for each item a comma or the closing one.
    let entries = 0;
    spend(1);
    for (const symbol of Object.getOwnPropertySymbols(item)) {
      if ({}.propertyIsEnumerable.call(item, symbol)) {
        fail("string keys", String(symbol));
      }
    }
    // deno-lint-ignore no-explicit-any
    let copied: any = {};
    if (array) {
      // Read once: an array that changes while it is copied is refused
      // below, and one too long for the characters left (each item takes
      // at least two) is refused before any is read.
      const length = (item as unknown[]).length;
      if (!(length * 2 <= maxChars - chars)) overLimit();
      copied = new Array(length);
      for (; entries < length; entries++) {
        keys.push(entries);
        levels = 0;
        copied[entries] = copy((item as unknown[])[entries]);
        if (levels > deepest) deepest = levels;
        spend(1);
        keys.pop();
      }
      checkArray(item as unknown[], length, fail);
    } else {
      for (const key of Object.keys(item)) {
        keys.push(key);
        if (key == "__proto__") {
          fail('any key but "__proto__"', describeValue(key));
        }
        const property = (item as Record<string, unknown>)[key];
        levels = 0;
        if (property !== undefined) {
          spend(text(key) + 2); // "key": and a comma
          copied[key] = copy(property);
          entries++;
        }
        if (levels > deepest) deepest = levels;
        keys.pop();
      }
    }
    if (!entries) spend(1);
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
    throw error === RECOUNT ? error : unreadable(error, formatPath(root, keys));
  }
}

/**
 * Refuses an array, just copied up to `length`, whose length changed, or
 * whose enumerable keys are not exactly its indices: holes, or properties
 * JSON.stringify would drop.
 */
function checkArray(
  array: unknown[],
  length: number,
  fail: (expected: string, got: string) => never,
): void {
  if (array.length !== length) {
    fail("an array that keeps its length while it is copied", "a new length");
  }
  // Its indices, in order, then its other keys.
  const names = Object.keys(array);
  if (
    names.length != length ||
    length && names[length - 1] !== String(length - 1)
  ) {
    const other = names.find((name) =>
      !(String(+name >>> 0) === name && +name < length) // not an index
    );
    fail(
      "an array without holes or other properties",
      other === undefined ? "holes" : "the property " + other,
    );
  }
}
