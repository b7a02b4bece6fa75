import { formatPath, invalid, unreadable } from "./_issues.ts";
import type { InvalidEventError } from "../event/errors.ts";
import { describeValue } from "./_messages.ts";
import type { JsonObject } from "../event/types.ts";

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
  if (!(input.length <= maxLength)) { // a NaN limit refuses, never lifts it
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
  // Whether `value` is JSON.parse's, made by this library: plain objects and
  // arrays without getters or symbol keys, which the walk may freeze in place.
  parsed = false,
): JsonObject {
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
  const walk = (exact: boolean) =>
    new JsonCopy(root, maxDepth, maxChars, exact, value, parsed).object(source);
  try {
    return walk(false);
  } catch (error) {
    if (error !== RECOUNT) throw error;
    return walk(true);
  }
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
 * (and MAX_JSON_CHARS) characters of JSON, counted by their bound.
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
  return chars <= Math.min(maxChars, MAX_JSON_CHARS) &&
    !(mayHaveSymbols && Object.getOwnPropertySymbols(copy).length);
}

/** Thrown by a walk that counts bounds when the bound passes the limit. */
const RECOUNT = {};

/** A container copied: its copy, its levels of nesting, its characters. */
interface CopiedContainer {
  readonly copy: object;
  readonly levels: number;
  readonly chars: number;
}

/**
 * One walk of {@linkcode copyJsonObject}: the path it is at, the characters
 * spent so far, and the containers it met.
 */
class JsonCopy {
  readonly #root: string;
  /** The limits as given, for the messages. */
  readonly #maxDepth: number;
  readonly #maxChars: number;
  /** The limits compared with: a limit that is NaN or negative refuses all. */
  readonly #depthLimit: number;
  readonly #charLimit: number;
  /** Whether strings are counted exactly, or by their bound. */
  readonly #exact: boolean;
  /** The path to the value being copied. */
  readonly #keys: (string | number)[] = [];
  /** The containers holding the value being copied, outermost first. */
  readonly #ancestors: unknown[] = [];
  /** The value given to copy: the walk may start from its spread copy. */
  readonly #original: unknown;
  /** Whether the value is JSON.parse's, made by this library. */
  readonly #parsed: boolean;
  /** The characters of JSON text the values copied so far take. */
  #chars = 0;
  /** How many containers were copied. */
  #containers = 0;
  /**
   * A subtree met again (the same object in two places) is copied once.
   * Payloads of a few dozen containers never pay for the map; a graph with
   * more paths than objects gets it after 64 copies, and stays linear.
   */
  #copies: Map<object, CopiedContainer> | undefined;

  constructor(
    root: string,
    maxDepth: number,
    maxChars: number,
    exact: boolean,
    original: unknown,
    parsed: boolean,
  ) {
    this.#root = root;
    this.#original = original;
    this.#parsed = parsed;
    const chars = Math.min(maxChars, MAX_JSON_CHARS); // NaN stays NaN
    this.#maxDepth = maxDepth;
    this.#maxChars = chars;
    this.#depthLimit = maxDepth >= 0 ? maxDepth : -1;
    this.#charLimit = chars >= 0 ? chars : -1;
    this.#exact = exact;
  }

  /** Copies `value`, which must be a plain object. */
  object(value: unknown): JsonObject {
    try {
      if (!isRecord(value)) this.#fail("a plain object", describeValue(value));
      return this.#container(value as object).copy as JsonObject;
    } catch (error) {
      if (error === RECOUNT) throw error;
      throw unreadable(error, formatPath(this.#root, this.#keys));
    }
  }

  #fail(expected: string, got: string): never {
    throw invalid(formatPath(this.#root, this.#keys), expected, got);
  }

  #overLimit(): never {
    if (!this.#exact) throw RECOUNT;
    return this.#fail(`at most ${this.#maxChars} characters of JSON`, "more");
  }

  #spend(count: number): void {
    this.#chars += count;
    if (this.#chars > this.#charLimit) this.#overLimit();
  }

  #stringLength(text: string): number {
    return this.#exact
      ? jsonLength(text, this.#charLimit - this.#chars)
      : text.length * 6 + 2;
  }

  /**
   * Copies `item` into `target[key]`; returns its levels of nesting (0 for
   * a primitive).
   */
  #copyInto(
    target: Record<string | number, unknown>,
    key: string | number,
    item: unknown,
    inPlace: boolean,
  ): number {
    if (typeof item == "object" && item !== null) {
      const copied = this.#container(item);
      // A container frozen in place by a first walk is met again, frozen,
      // by the exact one: it is written only when its copy is another object.
      if (copied.copy !== item) target[key] = copied.copy;
      return copied.levels;
    }
    const value = this.#primitive(item);
    if (!inPlace) target[key] = value;
    return 0;
  }

  #primitive(item: unknown): unknown {
    switch (typeof item) {
      case "string":
        this.#spend(this.#stringLength(item));
        return item;
      case "number":
        if (!Number.isFinite(item)) {
          this.#fail("a finite number", describeValue(item));
        }
        this.#spend(this.#exact ? String(item).length : 25);
        return item;
      case "boolean":
        this.#spend(item ? 4 : 5);
        return item;
    }
    if (item === null) {
      this.#spend(4);
      return item;
    }
    return this.#fail("JSON data", describeValue(item));
  }

  #container(item: object): CopiedContainer {
    const array = Array.isArray(item);
    const prototype = Object.getPrototypeOf(item);
    if (
      array
        ? prototype != Array.prototype
        : prototype && prototype != Object.prototype
    ) this.#fail(`a plain ${array ? "array" : "object"}`, describeValue(item));
    const ancestors = this.#ancestors;
    const seen = this.#copies?.get(item);
    if (ancestors.length + (seen?.levels ?? 1) > this.#depthLimit) {
      this.#fail(`at most ${this.#maxDepth} levels of nesting`, "more");
    }
    if (seen) {
      this.#spend(seen.chars);
      return seen;
    }
    if (ancestors.includes(item)) this.#fail("JSON data", "a cycle");
    // Parsed JSON, and the object the value given was read into, are this
    // walk's own: checked and frozen in place, not copied again (only their
    // containers that are copies are written back).
    const own = this.#parsed || (!ancestors.length && item !== this.#original);
    ancestors.push(ancestors.length ? item : this.#original);
    const start = this.#chars;
    this.#spend(1); // the opening bracket
    for (const symbol of Object.getOwnPropertySymbols(item)) {
      if ({}.propertyIsEnumerable.call(item, symbol)) {
        this.#fail("string keys", String(symbol));
      }
    }
    const keys = this.#keys;
    // The deepest item's levels, and how many items were written.
    let deepest = 0;
    let entries = 0;
    let copy: Record<string | number, unknown>;
    if (array) {
      // Read once: an array that changes while it is copied is refused
      // below, and one too long for the characters left (each item takes
      // at least two) is refused before any is read.
      const length = (item as unknown[]).length;
      if (length * 2 > this.#charLimit - this.#chars) this.#overLimit();
      copy = (own ? item : new Array(length)) as Record<number, unknown>;
      for (; entries < length; entries++) {
        keys.push(entries);
        const levels = this.#copyInto(
          copy,
          entries,
          (item as unknown[])[entries],
          own,
        );
        if (levels > deepest) deepest = levels;
        this.#spend(1); // a comma or the closing bracket
        keys.pop();
      }
      this.#checkArray(item as unknown[], length);
    } else {
      copy = own ? item as Record<string, unknown> : {};
      for (const key of Object.keys(item)) {
        keys.push(key);
        if (key == "__proto__") {
          this.#fail('any key but "__proto__"', describeValue(key));
        }
        const property = (item as Record<string, unknown>)[key];
        if (property !== undefined) {
          // "key": and a comma or the closing brace
          this.#spend(this.#stringLength(key) + 2);
          const levels = this.#copyInto(copy, key, property, own);
          if (levels > deepest) deepest = levels;
          entries++;
        } else if (own) delete copy[key];
        keys.pop();
      }
    }
    if (!entries) this.#spend(1); // the closing bracket of an empty one
    ancestors.pop();
    const copied: CopiedContainer = {
      copy: Object.freeze(copy),
      levels: deepest + 1,
      chars: this.#chars - start,
    };
    if (++this.#containers > 64) {
      (this.#copies ??= new Map()).set(item, copied);
    }
    return copied;
  }

  /**
   * Refuses an array, just copied up to `length`, whose length changed, or
   * whose enumerable keys are not exactly its indices: holes, or properties
   * JSON.stringify would drop.
   */
  #checkArray(array: unknown[], length: number): void {
    if (array.length !== length) {
      this.#fail(
        "an array that keeps its length while it is copied",
        "a new length",
      );
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
      this.#fail(
        "an array without holes or other properties",
        other === undefined ? "holes" : "the property " + other,
      );
    }
  }
}
