import { ambientContext } from "../_shared/_ambient.ts";
import { checkField, envelopeIssues, seal } from "../_shared/_envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import { currentTimestamp } from "./_clock.ts";
import { invalid, issue, unreadable } from "../_shared/_issues.ts";
import { EMPTY_OBJECT, isRecord } from "../_shared/_json.ts";
import { copyJsonObject } from "../_shared/_json_copy.ts";
import { describeValue } from "../_shared/_messages.ts";
import type { CreateEventOptions, DomainEvent, JsonObject } from "./types.ts";

/**
 * Makes the event {@linkcode createEvent} returns from a checked type and a
 * frozen copy of the payload, reading and checking `options`: each option is
 * read once, and nothing read from them is trusted before it is checked.
 *
 * @throws {InvalidEventError} When the options are not valid or cannot be read.
 */
export function buildEvent(
  eventType: string,
  payload: JsonObject,
  options: CreateEventOptions | undefined,
  generateEventId?: () => string,
): DomainEvent {
  let eventId: string | undefined;
  let occurredAt: string | undefined;
  // Inside withEventContext (the ./context entry), its correlation id and
  // metadata stand in for options not given.
  const ambient = ambientContext?.();
  let correlationId: string | null = ambient?.correlationId ?? null;
  let causationId: string | null = null;
  let metadata = (ambient?.metadata ?? EMPTY_OBJECT) as JsonObject;
  if (options !== undefined) {
    let causedBy, correlation, causation, id, at, data;
    try {
      if (!isRecord(options)) {
        throw invalid("options", "an object", describeValue(options));
      }
      ({
        causedBy,
        correlationId: correlation,
        causationId: causation,
        eventId: id,
        occurredAt: at,
        metadata: data,
      } = options);
    } catch (error) {
      throw unreadable(error, "options");
    }
    const issues: EventIssue[] = [];
    if (correlation !== undefined) {
      correlationId = correlation;
      checkField("correlationId", correlation, issues, "options.correlationId");
    }
    if (causation !== undefined) {
      causationId = causation;
      checkField("causationId", causation, issues, "options.causationId");
    }
    if (causedBy !== undefined) {
      const problems = correlation !== undefined || causation !== undefined
        ? [issue("", "causedBy or correlationId/causationId", "both")]
        : envelopeIssues(causedBy);
      for (const { path, message } of problems) {
        issues.push({
          path: "options.causedBy" + (path && "." + path),
          message,
        });
      }
      if (!problems.length) {
        try {
          // Frozen data properties, checked: only a Proxy's trap can throw.
          causationId = causedBy.eventId;
          correlationId = causedBy.correlationId ?? causationId;
        } catch (error) {
          throw unreadable(error, "options.causedBy");
        }
      }
    }
    if (id !== undefined) checkField("eventId", id, issues, "options.eventId");
    if (at !== undefined) occurredAt = readTime(at, issues);
    if (issues.length) throw new InvalidEventError(issues);
    eventId = id?.toLowerCase();
    if (data !== undefined) metadata = copyJsonObject(data, "metadata");
  }
  if (eventId === undefined && generateEventId) {
    const generated = generateEventId();
    checkField("eventId", generated, undefined, "generateEventId()");
    eventId = generated.toLowerCase();
  }
  return seal({
    eventId: eventId ?? crypto.randomUUID(),
    eventType,
    occurredAt: occurredAt ?? currentTimestamp(),
    correlationId,
    causationId,
    payload,
    metadata,
  });
}

/**
 * `occurredAt` as a timestamp: a string is checked, a Date is read with the
 * intrinsic Date methods (never its own, which may have been replaced).
 */
function readTime(at: unknown, issues: EventIssue[]): string {
  const path = "options.occurredAt";
  let time;
  try {
    time = Date.prototype.getTime.call(at);
  } catch {
    // Not a Date.
    if (typeof at == "object" && at) {
      issues.push(issue(path, "a valid Date", "an object that is not a Date"));
    } else checkField("occurredAt", at, issues, path);
    return at as string;
  }
  if (time === time) return Date.prototype.toISOString.call(at);
  issues.push(issue(path, "a valid Date", "an Invalid Date"));
  return "";
}
