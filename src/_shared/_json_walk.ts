import { formatPath, invalid, unreadable } from "./_issues.ts";
import { isRecord } from "./_json.ts";
import { describeValue } from "./_messages.ts";
import type { JsonObject } from "../event/types.ts";

/**
 * What a walk copies by: copyJsonObject's options, each given (maxChars at
 * most MAX_JSON_CHARS), and the path of the value in the messages.
 */
export interface CopyRules {
  /** `payload`, `metadata`, `context.metadata`, or `` for a CloudEvent. */
  readonly root: string;
  readonly maxDepth: number;
  readonly maxChars: number;
  readonly parsed: boolean;
}

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

/** A container copied: its copy, its levels of nesting, its characters. */
interface CopiedContainer {
  readonly copy: object;
  readonly levels: number;
  readonly chars: number;
}

/**
 * One walk of copyJsonObject (./_json_copy.ts): the path it is at, the
 * characters spent so far, and the containers it met.
 *
 * A walk that counts by bound stops as soon as its count passes the limit:
 * it sets `#boundPassed`, reads and refuses nothing more, and each container
 * it is in returns `undefined` at once, unfinished; copyJsonObject then walks
 * the value again, counting exactly. So after each `#spend`, the walk looks
 * at `#boundPassed` before it reads or checks anything more.
 */
export class JsonCopy {
  readonly #rules: CopyRules;
  /** The limits compared with: a limit that is NaN or negative refuses all. */
  readonly #depthLimit: number;
  readonly #charLimit: number;
  /**
   * Whether strings and numbers are counted exactly, or by the most they
   * could take (a number 25 characters, a string 6 per character + 2).
   */
  readonly #exact: boolean;
  /** The path to the value being copied. */
  readonly #keys: (string | number)[] = [];
  /** The containers holding the value being copied, outermost first. */
  readonly #ancestors: unknown[] = [];
  /** The value given to copy: the walk may start from its spread copy. */
  readonly #original: unknown;
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
  /** Whether this walk, counting by bound, passed the character limit. */
  #boundPassed = false;

  constructor(original: unknown, rules: CopyRules, exact: boolean) {
    this.#rules = rules;
    this.#original = original;
    this.#depthLimit = rules.maxDepth >= 0 ? rules.maxDepth : -1;
    this.#charLimit = rules.maxChars >= 0 ? rules.maxChars : -1;
    this.#exact = exact;
  }

  /**
   * Copies `value`, which must be a plain object; `undefined` when this
   * walk, counting by bound, passed the limit.
   */
  object(value: unknown): JsonObject | undefined {
    try {
      if (!isRecord(value)) this.#fail("a plain object", describeValue(value));
      return this.#container(value as object)?.copy as JsonObject | undefined;
    } catch (error) {
      throw unreadable(error, formatPath(this.#rules.root, this.#keys));
    }
  }

  #fail(expected: string, got: string): never {
    throw invalid(formatPath(this.#rules.root, this.#keys), expected, got);
  }

  /** Past the limit: a walk by bound stops, an exact one refuses the value. */
  #overLimit(): void {
    if (!this.#exact) this.#boundPassed = true;
    else {this.#fail(
        `at most ${this.#rules.maxChars} characters of JSON`,
        "more",
      );}
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
   * a primitive, or when the walk stopped).
   */
  #copyInto(
    target: Record<string | number, unknown>,
    key: string | number,
    item: unknown,
    inPlace: boolean,
  ): number {
    if (typeof item == "object" && item !== null) {
      const copied = this.#container(item);
      if (!copied) return 0;
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

  /** Copies `item`; `undefined` when the walk stopped in it. */
  #container(item: object): CopiedContainer | undefined {
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
      this.#fail(`at most ${this.#rules.maxDepth} levels of nesting`, "more");
    }
    if (seen) {
      this.#spend(seen.chars);
      return seen;
    }
    if (ancestors.includes(item)) this.#fail("JSON data", "a cycle");
    // Parsed JSON, and the object the value given was read into, are this
    // walk's own: checked and frozen in place, not copied again (only their
    // containers that are copies are written back).
    const own = this.#rules.parsed ||
      (!ancestors.length && item !== this.#original);
    ancestors.push(ancestors.length ? item : this.#original);
    const start = this.#chars;
    this.#spend(1); // the opening bracket
    if (this.#boundPassed) return undefined;
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
      if (this.#boundPassed) return undefined;
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
        if (this.#boundPassed) return undefined;
        keys.pop();
      }
      this.#checkArray(item as unknown[], length);
    } else {
      copy = own ? item as Record<string, unknown> : {};
      for (const key of Object.keys(item)) {
        if (this.#boundPassed) return undefined;
        keys.push(key);
        if (key == "__proto__") {
          this.#fail('any key but "__proto__"', describeValue(key));
        }
        const property = (item as Record<string, unknown>)[key];
        if (property !== undefined) {
          // "key": and a comma or the closing brace
          this.#spend(this.#stringLength(key) + 2);
          if (this.#boundPassed) return undefined;
          const levels = this.#copyInto(copy, key, property, own);
          if (levels > deepest) deepest = levels;
          entries++;
        } else if (own) delete copy[key];
        keys.pop();
      }
    }
    if (!entries) this.#spend(1); // the closing bracket of an empty one
    if (this.#boundPassed) return undefined;
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
