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

const isTraceId = matches(/^[!-~]{1,128}$/);
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

/**
 * Whether `text` is what `Date#toISOString()` writes for some date. The
 * usual form, `YYYY-MM-DDTHH:mm:ss.sssZ`, is checked field by field (twenty
 * times faster than a parse and a format); the six-digit years of the 27
 * character form are compared with their date's `toISOString()`.
 */
function isIsoTimestamp(text: string): boolean {
  if (text.length == 27) {
    // Unparsable (NaN), it is compared with 1970-01-01T00:00:00.000Z, which
    // parses: the two never match.
    return new Date(Date.parse(text) || 0).toISOString() == text;
  }
  if (
    text.length != 24 || text[4] != "-" || text[7] != "-" ||
    text[10] != "T" || text[13] != ":" || text[16] != ":" ||
    text[19] != "." || text[23] != "Z"
  ) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  const daysInMonth = month == 2
    ? leap ? 29 : 28
    : 30 + ((month + (month >> 3)) & 1); // 31 in Jan, Mar, May, Jul, Aug...
  const day = digits(text, 8, 2);
  return year >= 0 && month >= 1 && month <= 12 && day >= 1 &&
    day <= daysInMonth && inRange(digits(text, 11, 2), 23) &&
    inRange(digits(text, 14, 2), 59) && inRange(digits(text, 17, 2), 59) &&
    digits(text, 20, 3) >= 0;
}

/** The number the `count` decimal digits of `text` from `start` write; -1 if one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function inRange(value: number, max: number): boolean {
  return value >= 0 && value <= max;
}

/** Every field of an event, in the order they are written. */
const FIELDS = [...Object.keys(RULES), "payload", "metadata"];

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

const NO_ISSUES: readonly EventIssue[] = Object.freeze([]);

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
    // By name, in the order of FIELDS: faster than a loop over the names.
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
    for (const field of FIELDS.slice(5)) {
      const part = fields[field];
      if (
        !isRecord(part) || !Object.isFrozen(part)
      ) issues.push(issue(field, "a frozen object", describeValue(part)));
    }
    // What was checked must be what JSON.stringify writes and what dispatch
    // routes by: own, enumerable data properties (frozen, they cannot change).
    for (const field of issues.length ? [] : FIELDS) {
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
