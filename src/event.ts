import { ambientContext } from "./_ambient.ts";
import { currentTimestamp } from "./clock.ts";
import { check, envelopeIssues, seal } from "./envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import {
  copyJsonObject,
  describeValue,
  EMPTY_OBJECT,
  invalid,
  isRecord,
  issue,
} from "./json.ts";
import type { CreateEventOptions, DomainEvent, JsonObject } from "./types.ts";

/**
 * Creates a domain event: validated, with a fresh UUID and the current time,
 * its payload and metadata copied and frozen at every level.
 *
 * `causedBy` links the new event to the event that caused it: its
 * `causationId` becomes the parent's `eventId`, its `correlationId` the
 * parent's `correlationId` (or, for a root, the parent's `eventId`).
 *
 * @typeParam TType The event type, kept as a string literal.
 * @typeParam TPayload The payload's shape.
 * @param eventType What happened, e.g. `"invite.created"`: 1 to 256 characters, no whitespace or control characters.
 * @param payload JSON data: strings, finite numbers, booleans, null, arrays and plain objects. Defaults to `{}`.
 * @param options Correlation and causation, metadata, and fixed ids or times for replays and tests.
 * @returns The frozen event.
 * @throws {InvalidEventError} When the type, payload or options are not valid; `issues` names each problem's path.
 *
 * @example Creating a root event and one it caused
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const created = createEvent("invite.created", { email: "ada@example.com" });
 * const sent = createEvent("invite.email_sent", { to: "ada@example.com" }, { causedBy: created });
 *
 * assert.equal(sent.causationId, created.eventId);
 * assert.equal(sent.correlationId, created.eventId);
 * assert(Object.isFrozen(sent.payload));
 * ```
 */
export function createEvent<
  TType extends string,
  TPayload extends JsonObject = Record<string, never>,
>(
  eventType: TType,
  payload?: TPayload,
  options?: CreateEventOptions,
): DomainEvent<TType, TPayload> {
  check("eventType", eventType);
  const frozenPayload = payload === undefined
    ? EMPTY_OBJECT
    : copyJsonObject(payload, "payload");
  let eventId: string | undefined;
  let occurredAt: string | undefined;
  // Inside withEventContext (the ./context entry), its correlation id and
  // metadata stand in for options not given.
  const ambient = ambientContext?.();
  let correlationId: string | null = ambient?.correlationId ?? null;
  let causationId: string | null = null;
  let metadata = (ambient?.metadata ?? EMPTY_OBJECT) as JsonObject;
  if (options !== undefined) {
    if (!isRecord(options)) {
      throw invalid("options", "an object", describeValue(options));
    }
    const issues: EventIssue[] = [];
    const { causedBy, eventId: id, occurredAt: at, metadata: data } = options;
    const { correlationId: correlation, causationId: causation } = options;
    if (correlation !== undefined) correlationId = correlation;
    causationId = causation ?? null;
    // Checked as given: ids taken from a valid causedBy are valid already.
    check("correlationId", correlationId, issues, "options.correlationId");
    check("causationId", causationId, issues, "options.causationId");
    if (causedBy !== undefined) {
      const problems = options.correlationId !== undefined ||
          options.causationId !== undefined
        ? [issue("", "causedBy or correlationId/causationId", "both")]
        : envelopeIssues(causedBy);
      for (const { path, message } of problems) {
        issues.push({
          path: "options.causedBy" + (path && "." + path),
          message,
        });
      }
      if (!problems.length) {
        correlationId = causedBy.correlationId ?? causedBy.eventId;
        causationId = causedBy.eventId;
      }
    }
    if (id !== undefined) check("eventId", id, issues, "options.eventId");
    if (at instanceof Date) {
      if (+at === +at) occurredAt = at.toISOString(); // not an Invalid Date (NaN)
      else {
        issues.push(
          issue("options.occurredAt", "a valid Date", "an Invalid Date"),
        );
      }
    } else if (at !== undefined) {
      check("occurredAt", at, issues, "options.occurredAt");
      occurredAt = at;
    }
    if (issues.length) throw new InvalidEventError(issues);
    eventId = id?.toLowerCase();
    if (data !== undefined) metadata = copyJsonObject(data, "metadata");
  }
  return seal({
    eventId: eventId ?? crypto.randomUUID(),
    eventType,
    occurredAt: occurredAt ?? currentTimestamp(),
    correlationId,
    causationId,
    payload: frozenPayload,
    metadata,
  }) as DomainEvent<TType, TPayload>;
}
