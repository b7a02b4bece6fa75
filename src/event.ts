import { currentTimestamp } from "./clock.ts";
import {
  envelopeIssues,
  eventTypeProblem,
  seal,
  timestampProblem,
  traceIdProblem,
  uuidProblem,
} from "./envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import {
  copyJsonObject,
  describeValue,
  EMPTY_OBJECT,
  invalid,
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
  const typeProblem = eventTypeProblem(eventType);
  if (typeProblem !== undefined) {
    throw invalid("eventType", typeProblem);
  }
  const frozenPayload = payload === undefined
    ? EMPTY_OBJECT
    : copyJsonObject(payload, "payload");
  const fields = options === undefined ? undefined : readOptions(options);
  return seal({
    eventId: fields?.eventId ?? crypto.randomUUID(),
    eventType,
    occurredAt: fields?.occurredAt ?? currentTimestamp(),
    correlationId: fields?.correlationId ?? null,
    causationId: fields?.causationId ?? null,
    payload: frozenPayload,
    metadata: fields?.metadata ?? EMPTY_OBJECT,
  }) as DomainEvent<TType, TPayload>;
}

interface EnvelopeFields {
  eventId: string | undefined;
  occurredAt: string | undefined;
  correlationId: string | null;
  causationId: string | null;
  metadata: JsonObject;
}

function readOptions(options: CreateEventOptions): EnvelopeFields {
  if (typeof options !== "object" || options === null) {
    throw invalid(
      "options",
      `expected an object, got ${describeValue(options)}`,
    );
  }
  const issues: EventIssue[] = [];
  const check = (path: string, problem: string | undefined) => {
    if (problem !== undefined) {
      issues.push({ path: `options.${path}`, message: problem });
    }
  };
  const { causedBy, eventId, occurredAt, metadata } = options;
  let { correlationId = null, causationId = null } = options;
  if (causedBy !== undefined) {
    const problems = envelopeIssues(causedBy);
    if (
      options.correlationId !== undefined || options.causationId !== undefined
    ) {
      check(
        "causedBy",
        "expected either causedBy or correlationId/causationId, got both (two sources of truth)",
      );
    } else if (problems.length > 0) {
      for (const { path, message } of problems) {
        check(path ? `causedBy.${path}` : "causedBy", message);
      }
    } else {
      correlationId = causedBy.correlationId ?? causedBy.eventId;
      causationId = causedBy.eventId;
    }
  }
  check("correlationId", traceIdProblem(correlationId));
  check("causationId", traceIdProblem(causationId));
  if (eventId !== undefined) check("eventId", uuidProblem(eventId));
  let timestamp: string | undefined;
  if (occurredAt instanceof Date) {
    const time = occurredAt.getTime();
    if (time === time) timestamp = occurredAt.toISOString();
    else check("occurredAt", "expected a valid Date, got an Invalid Date");
  } else if (occurredAt !== undefined) {
    check("occurredAt", timestampProblem(occurredAt));
    timestamp = occurredAt;
  }
  if (issues.length > 0) throw new InvalidEventError(issues);
  return {
    eventId: eventId?.toLowerCase(),
    occurredAt: timestamp,
    correlationId,
    causationId,
    metadata: metadata === undefined
      ? EMPTY_OBJECT
      : copyJsonObject(metadata, "metadata"),
  };
}
