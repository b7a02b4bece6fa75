import { type EventIssue, InvalidEventError } from "./errors.ts";
import { describeError, describeValue, invalid } from "./json.ts";
import type { DomainEvent } from "./types.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[^\s\p{Cc}]{1,256}$/u;
const TRACE_ID = /^[\x21-\x7e]{1,128}$/;

/** Events this module built and froze itself: known valid without a look. */
export const TRUSTED: WeakSet<object> = new WeakSet();

/** Freezes an event built from checked parts and remembers it as valid. */
export function seal<T extends DomainEvent>(event: T): T {
  Object.freeze(event);
  TRUSTED.add(event);
  return event;
}

/** Why `value` is not an event type, or `undefined` when it is one. */
export function eventTypeProblem(value: unknown): string | undefined {
  if (typeof value === "string" && EVENT_TYPE.test(value)) return undefined;
  return `expected a string of 1 to 256 characters without whitespace or control characters, got ${
    describeValue(value)
  }`;
}

/** Why `value` is not a UUID, or `undefined` when it is one (in any case). */
export function uuidProblem(value: unknown): string | undefined {
  if (typeof value === "string" && UUID.test(value)) return undefined;
  return `expected a UUID, got ${describeValue(value)}`;
}

/** Why `value` is neither `null` nor a correlation/causation id, or `undefined`. */
export function traceIdProblem(value: unknown): string | undefined {
  if (value === null || (typeof value === "string" && TRACE_ID.test(value))) {
    return undefined;
  }
  return `expected null or 1 to 128 visible ASCII characters without whitespace, got ${
    describeValue(value)
  }`;
}

/** Why `value` is not in exact `Date#toISOString()` form, or `undefined`. */
export function timestampProblem(value: unknown): string | undefined {
  if (typeof value === "string") {
    const time = Date.parse(value);
    if (time === time && new Date(time).toISOString() === value) {
      return undefined;
    }
  }
  return `expected an ISO-8601 UTC timestamp as Date#toISOString() writes it, got ${
    describeValue(value)
  }`;
}

/** The seven fields of an event, in the order they are written. */
const FIELDS = [
  "eventId",
  "eventType",
  "occurredAt",
  "correlationId",
  "causationId",
  "payload",
  "metadata",
];

const CHECKS: [string, (value: unknown) => string | undefined][] = [
  ["eventId", uuidProblem],
  ["eventType", eventTypeProblem],
  ["occurredAt", timestampProblem],
  ["correlationId", traceIdProblem],
  ["causationId", traceIdProblem],
];

/**
 * Reads the seven fields of `value`, each once (a getter cannot change a
 * field between its check and its use), and checks the five that are not
 * payload or metadata, adding an issue to `issues` for each problem.
 *
 * @throws {InvalidEventError} When `value` is not an object or cannot be read.
 */
export function readFields(
  value: unknown,
  issues: EventIssue[],
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  try {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid(
        "",
        `expected an event object, got ${describeValue(value)}`,
      );
    }
    for (const field of FIELDS) {
      fields[field] = (value as Record<string, unknown>)[field];
    }
  } catch (error) {
    throw error instanceof InvalidEventError ? error : unreadable(error);
  }
  for (const [field, problemOf] of CHECKS) {
    const message = problemOf(fields[field]);
    if (message !== undefined) issues.push({ path: field, message });
  }
  return fields;
}

/**
 * The problems that keep `value` from being an event, looking at the envelope
 * only: field types and formats, and that it and its payload and metadata are
 * frozen. Empty for an event. Never throws.
 */
export function envelopeIssues(value: unknown): readonly EventIssue[] {
  if (TRUSTED.has(value as object)) return [];
  const issues: EventIssue[] = [];
  try {
    const fields = readFields(value, issues);
    if (!Object.isFrozen(value)) {
      issues.unshift({
        path: "",
        message: "expected a frozen event, got a mutable object",
      });
    }
    for (const field of ["payload", "metadata"]) {
      const part = fields[field];
      if (
        typeof part !== "object" || part === null || Array.isArray(part) ||
        !Object.isFrozen(part)
      ) {
        issues.push({
          path: field,
          message: `expected a frozen object, got ${describeValue(part)}`,
        });
      }
    }
    return issues;
  } catch (error) {
    return (error instanceof InvalidEventError ? error : unreadable(error))
      .issues;
  }
}

function unreadable(error: unknown): InvalidEventError {
  return invalid(
    "",
    `expected an event object, got one that could not be read (${
      describeError(error)
    })`,
    { cause: error },
  );
}
