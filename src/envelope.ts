import type { EventIssue } from "./errors.ts";
import { describeValue } from "./json.ts";
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

function isFrozenRecord(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.isFrozen(value);
}

/**
 * The problems that keep `value` from being an event, looking at the envelope
 * only: field types and formats, and that it and its payload and metadata are
 * frozen. Empty for an event.
 */
export function envelopeIssues(value: unknown): EventIssue[] {
  if (typeof value === "object" && value !== null && TRUSTED.has(value)) {
    return [];
  }
  try {
    return fieldIssues(value);
  } catch (error) {
    return [{
      path: "",
      message:
        `expected a domain event object, got one that could not be read (${
          error instanceof Error ? error.message : describeValue(error)
        })`,
    }];
  }
}

function fieldIssues(value: unknown): EventIssue[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [{
      path: "",
      message: `expected a domain event object, got ${describeValue(value)}`,
    }];
  }
  const event = value as Record<string, unknown>;
  const issues: EventIssue[] = [];
  const check = (path: string, problem: string | undefined) => {
    if (problem !== undefined) issues.push({ path, message: problem });
  };
  check(
    "",
    Object.isFrozen(event)
      ? undefined
      : "expected a frozen event, got a mutable object",
  );
  check("eventId", uuidProblem(event.eventId));
  check("eventType", eventTypeProblem(event.eventType));
  check("occurredAt", timestampProblem(event.occurredAt));
  check("correlationId", traceIdProblem(event.correlationId));
  check("causationId", traceIdProblem(event.causationId));
  for (const field of ["payload", "metadata"]) {
    check(
      field,
      isFrozenRecord(event[field])
        ? undefined
        : `expected a frozen object, got ${describeValue(event[field])}`,
    );
  }
  return issues;
}
