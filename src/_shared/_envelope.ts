import { type EventIssue, InvalidEventError } from "../event/errors.ts";
import { invalid, issue, unreadable } from "./_issues.ts";
import { isRecord } from "./_json.ts";
import { describeValue } from "./_messages.ts";
import { UUID_PATTERN } from "./_uuid.ts";
import type { DomainEvent } from "../event/types.ts";

/** What a field must be: in words, for the message, and as a test. */
interface FieldRule {
  readonly expected: string;
  readonly test: (value: unknown) => boolean;
}

/** A test that `value` is a string matching `pattern`. */
function matches(pattern: RegExp): (value: unknown) => boolean {
  return (value) => typeof value == "string" && pattern.test(value);
}

/** A correlation or causation id: 1-128 ASCII characters without whitespace or control characters. */
export const isTraceId = matches(/^[!-~]{1,128}$/);
const TRACE_ID: FieldRule = {
  expected:
    "null or 1-128 ASCII characters without whitespace or control characters",
  test: (value) => value === null || isTraceId(value),
};

const isEventTypeText = matches(/^[^\s\p{Cc}]{1,256}$/u);
/** The last event type found valid: most checks repeat it. */
let lastEventType: unknown;

function isEventType(value: unknown): boolean {
  if (value === lastEventType) return true;
  const valid = isEventTypeText(value);
  if (valid) lastEventType = value;
  return valid;
}

/**
 * The five fields of an event that are not payload or metadata, in the order
 * they are written, and the rule of each.
 */
const RULES: Record<string, FieldRule> = {
  eventId: {
    expected: "a UUID",
    test: matches(UUID_PATTERN),
  },
  eventType: {
    expected: "1-256 characters without whitespace or control characters",
    test: isEventType,
  },
  occurredAt: {
    expected: "a timestamp in Date#toISOString() form",
    test: (value) => typeof value == "string" && isIsoTimestamp(value),
  },
  correlationId: TRACE_ID,
  causationId: TRACE_ID,
};

/** `Date#toISOString()`'s usual form, `YYYY-MM-DDTHH:mm:ss.sssZ`; the day is not yet checked against its month. */
const ISO_TIMESTAMP =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3])(?::[0-5]\d){2}\.\d{3}Z$/;

/**
 * Whether `text` is what `Date#toISOString()` writes for some date. The
 * usual form is matched by {@linkcode ISO_TIMESTAMP}, then a day past the
 * 28th checked against its month (about 20 times faster than a parse and a
 * format); the six-digit years of the 27 character form are compared with
 * their date's `toISOString()`.
 */
function isIsoTimestamp(text: string): boolean {
  if (text.length == 27) {
    // Unparsable (NaN), it is compared with 1970-01-01T00:00:00.000Z, which
    // parses: the two never match.
    return new Date(Date.parse(text) || 0).toISOString() == text;
  }
  if (!ISO_TIMESTAMP.test(text)) return false;
  const day = +text.slice(8, 10);
  if (day < 29) return true;
  const year = +text.slice(0, 4);
  const month = +text.slice(5, 7);
  const leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  const daysInMonth = month == 2
    ? leap ? 29 : 28
    : 30 + ((month + (month >> 3)) & 1); // 31 in Jan, Mar, May, Jul, Aug...
  return day <= daysInMonth;
}

/**
 * A base class whose constructor returns the object it is given, instead of
 * the new one: a subclass constructed with `new Sub(event)` then installs its
 * private fields on `event` itself (JavaScript's "return override").
 */
class ReturnsItsArgument {
  constructor(target: object) {
    return target;
  }
}

/**
 * The mark of the events this module built, so they are known valid without
 * a look: `new Trusted(event)` adds the private field `#by` to `event`, and
 * `#by in value` tells a marked event in one step. Why not a WeakSet:
 * measured, a third of createEvent's time went to WeakSet inserts and their
 * GC; a private field costs neither, and no reflection, JSON.stringify or
 * structuredClone can see or forge it. `#by` holds the definition whose
 * `create` made the event, if any: private fields stay writable on a frozen
 * object, so `create` can set it after createEvent has sealed the event.
 */
class Trusted extends ReturnsItsArgument {
  #by: object | null = null;

  static by(value: unknown): object | null | undefined {
    return typeof value == "object" && value !== null && #by in value
      ? (value as Trusted).#by
      : undefined;
  }

  static mark(event: object, definition: object): void {
    (event as Trusted).#by = definition;
  }
}

/**
 * Freezes an event built from checked parts and marks it as valid; given a
 * `definition`, records it on an event this function sealed already, as the
 * definition that built it.
 */
export function seal<T extends object>(event: T, definition?: object): T {
  if (definition) Trusted.mark(event, definition);
  else Object.freeze(new Trusted(event));
  return event;
}

/**
 * How `value` was sealed: `undefined` if it was not (it may still be a valid
 * event, not known as one), else the definition {@linkcode seal} recorded,
 * or `null` for none.
 */
export function sealedBy(value: unknown): object | null | undefined {
  return Trusted.by(value);
}

const NO_ISSUES: readonly EventIssue[] = /* @__PURE__ */ Object.freeze([]);

/**
 * Checks `value` as the envelope field `field` (`eventId`, `eventType`,
 * `occurredAt`, `correlationId` or `causationId`): a problem is added to
 * `issues`, or, without `issues`, thrown, at `path`.
 */
export function checkField(
  field: string,
  value: unknown,
  issues?: EventIssue[],
  path: string = field,
): void {
  const rule = RULES[field] as FieldRule;
  if (!rule.test(value)) {
    const found = issue(path, rule.expected, describeValue(value));
    if (!issues) throw new InvalidEventError([found]);
    issues.push(found);
  }
}

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
  let fields: Record<string, unknown>;
  try {
    if (!isRecord(value)) {
      throw invalid("", "an event object", describeValue(value));
    }
    // By name, in the order they are written: faster than a loop over the names.
    const event = value as DomainEvent; // its fields not checked yet
    fields = {
      eventId: event.eventId,
      eventType: event.eventType,
      occurredAt: event.occurredAt,
      correlationId: event.correlationId,
      causationId: event.causationId,
      payload: event.payload,
      metadata: event.metadata,
    };
  } catch (error) {
    throw unreadable(error, "");
  }
  checkField("eventId", fields["eventId"], issues);
  checkField("eventType", fields["eventType"], issues);
  checkField("occurredAt", fields["occurredAt"], issues);
  checkField("correlationId", fields["correlationId"], issues);
  checkField("causationId", fields["causationId"], issues);
  return fields;
}

/**
 * The problems that keep `value` from being an event, looking at the envelope
 * only: field types and formats, and that it and its payload and metadata are
 * frozen. Empty for an event. Never throws.
 */
export function envelopeIssues(value: unknown): readonly EventIssue[] {
  if (Trusted.by(value) !== undefined) return NO_ISSUES;
  const issues: EventIssue[] = [];
  try {
    const fields = readFields(value, issues);
    if (!Object.isFrozen(value)) {
      issues.unshift(issue("", "a frozen event", "a mutable object"));
    }
    for (const field of ["payload", "metadata"] as const) {
      const part = fields[field];
      if (
        !isRecord(part) || !Object.isFrozen(part)
      ) issues.push(issue(field, "a frozen object", describeValue(part)));
    }
    // What was checked must be what JSON.stringify writes and what dispatch
    // routes by: own, enumerable data properties (frozen, they cannot change).
    for (const field of issues.length ? [] : Object.keys(fields)) {
      const property = Object.getOwnPropertyDescriptor(value, field);
      if (!property?.enumerable || !("value" in property)) {
        issues.push(
          issue(field, "an own enumerable data property", "another kind"),
        );
      }
    }
    return issues;
  } catch (error) {
    return unreadable(error, "").issues;
  }
}
