import { invalid } from "./_issues.ts";
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
