import { buildEvent } from "./_build_event.ts";
import { checkField } from "../_shared/_envelope.ts";
import { EMPTY_OBJECT } from "../_shared/_json.ts";
import { copyJsonObject } from "../_shared/_json_copy.ts";
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
  checkField("eventType", eventType);
  return buildEvent(
    eventType,
    payload === undefined ? EMPTY_OBJECT : copyJsonObject(payload, "payload"),
    options,
  ) as DomainEvent<TType, TPayload>;
}
