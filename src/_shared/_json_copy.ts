// The JSON walk behind createEvent, defineEvent, parseEvent, fromCloudEvent
// and withEventContext: it checks a payload or metadata and returns a frozen
// copy. docs/events.md lists the rules users see; these are the ones only
// this module knows.
// - The value is read once at its top: a plain object is spread into an
//   object of our own, each getter running once, and everything is checked
//   on that copy. Nested getters run once per walk.
// - A flat object (strings, finite numbers, booleans and nulls only) is
//   checked and frozen as it is: no walk.
// - Characters are first counted by bound (a string takes at most 6 per
//   character + 2, a number 25); only a value whose bound passes the limit
//   is walked a second time, counting exactly as JSON.stringify writes. The
//   first walk then stops where it is (it returns undefined, no exception).
// - Objects of our own (that spread copy, and JSON.parse's output when
//   parseEvent parsed the text) are frozen in place; others are copied.
// - Past 64 containers, a subtree met again is copied once and shared.
// - The first problem found is thrown, with its path. A limit that is NaN or
//   negative refuses every value; maxChars never goes past MAX_JSON_CHARS.
import { formatPath, unreadable } from "./_issues.ts";
import type { InvalidEventError } from "../event/errors.ts";
import { isRecord, MAX_JSON_CHARS } from "./_json.ts";
import { type CopyRules, JsonCopy } from "./_json_walk.ts";
import type { JsonObject } from "../event/types.ts";

/** The limits of {@linkcode copyJsonObject}, and what it is given. */
export interface JsonCopyOptions {
  /**
   * The most levels of nesting, the object itself being one; 64 when
   * undefined. NaN or less than 1 refuses every object.
   */
  readonly maxDepth?: number | undefined;
  /**
   * The longest JSON text of the copy, as `JSON.stringify` writes it;
   * MAX_JSON_CHARS when undefined or larger, so that every event can be
   * written out. NaN or negative refuses every object.
   */
  readonly maxChars?: number | undefined;
  /**
   * Whether the value is JSON.parse's, made by this library: plain objects
   * and arrays without getters or symbol keys, frozen in place, not copied.
   */
  readonly parsed?: boolean | undefined;
}

/**
 * Checks that `value` is a plain JSON object and returns a deep copy of it,
 * frozen at every level, with `undefined` properties dropped.
 *
 * @param root The path of `value` in the messages, e.g. `payload`.
 * @throws {InvalidEventError} naming the path of the first problem found.
 */
export function copyJsonObject(
  value: unknown,
  root: string,
  options?: JsonCopyOptions,
): JsonObject {
  const maxDepth = options?.maxDepth ?? 64;
  // Never past MAX_JSON_CHARS; a NaN limit stays NaN, and refuses all.
  const maxChars = Math.min(
    options?.maxChars ?? MAX_JSON_CHARS,
    MAX_JSON_CHARS,
  );
  const parsed = options?.parsed ?? false;
  // The most common payload, a plain object of strings, numbers, booleans
  // and nulls, is read once, by a spread (much faster than a loop), into an
  // object of our own, checked there and frozen; any other is walked from
  // that object, which stands for `value` in cycle checks.
  const source = parsed ? value : readOnce(value, root) ?? value;
  if (
    (parsed ? isRecord(source) : source !== value) && maxDepth >= 1 &&
    isFlat(source as Record<string, unknown>, maxChars, !parsed)
  ) return Object.freeze(source) as JsonObject;
  // Counting exactly costs a scan of every string and key: the first walk
  // counts the most each value could take (a number 25 characters, a string
  // six per character), and only a copy whose bound passes the limit is
  // walked again, counting exactly.
  const rules: CopyRules = { root, maxDepth, maxChars, parsed };
  return new JsonCopy(value, rules, false /* by bound */).object(source) ??
    new JsonCopy(value, rules, true /* exactly */).object(source) as JsonObject;
}

/**
 * The enumerable own properties of `value`, a plain object (its symbol keys
 * too), each read once into a new object; `undefined` for any other value,
 * or when looking at it throws (the walk then refuses it, saying why).
 *
 * @throws {InvalidEventError} When reading a property throws, naming it.
 */
function readOnce(
  value: unknown,
  root: string,
): Record<string, unknown> | undefined {
  try {
    if (
      !isRecord(value) || Object.getPrototypeOf(value) !== Object.prototype
    ) return undefined;
  } catch {
    return undefined;
  }
  try {
    return { ...value as object };
  } catch (error) {
    throw unreadableProperty(value as object, root, error);
  }
}

/**
 * The InvalidEventError of an object whose spread threw `error`. To name the
 * property, its getters are read again, key by key: one that throws again is
 * named; if none does, the object itself is refused with `error`.
 */
function unreadableProperty(
  value: object,
  root: string,
  error: unknown,
): InvalidEventError {
  try {
    for (const key of Object.keys(value)) {
      try {
        (value as Record<string, unknown>)[key];
      } catch (again) {
        return unreadable(again, formatPath(root, [key]));
      }
    }
  } catch {
    // Its keys cannot be listed: the object is the place.
  }
  return unreadable(error, root);
}

/**
 * Whether `copy`, an object read once or parsed JSON, holds only strings,
 * finite numbers, booleans and nulls under string keys, in at most `maxChars`
 * characters of JSON, counted by their bound.
 */
function isFlat(
  copy: Record<string, unknown>,
  maxChars: number,
  mayHaveSymbols: boolean,
): boolean {
  let chars = 2;
  for (const key of Object.keys(copy)) {
    const item = copy[key];
    const type = typeof item;
    if (
      key == "__proto__" ||
      !(type == "string" || type == "boolean" || item === null ||
        Number.isFinite(item))
    ) return false;
    // "key": and a comma or the closing brace, then the value
    chars += key.length * 6 + 4 +
      (type == "string" ? (item as string).length * 6 + 2 : 25);
  }
  return chars <= maxChars &&
    !(mayHaveSymbols && Object.getOwnPropertySymbols(copy).length);
}
