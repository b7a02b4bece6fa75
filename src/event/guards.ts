import { envelopeIssues } from "../_shared/_envelope.ts";
import { InvalidEventError } from "./errors.ts";
import type { DomainEvent } from "./types.ts";

/**
 * Tells whether `value` is a domain event, cheaply: the envelope's fields
 * and formats, and that the event, its payload and its metadata are frozen.
 * It does not walk the payload; {@linkcode parseEvent} does, for untrusted
 * input.
 *
 * @param value Anything.
 * @returns `true` when `value` has the shape of a {@linkcode DomainEvent}.
 *
 * @example Usage
 * ```ts
 * import { createEvent, isDomainEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * assert(isDomainEvent(createEvent("invite.created")));
 * assert(!isDomainEvent({ eventType: "invite.created" }));
 * ```
 */
export function isDomainEvent(value: unknown): value is DomainEvent {
  return !envelopeIssues(value).length;
}

/**
 * Throws unless `value` is a domain event, by the same rules as
 * {@linkcode isDomainEvent}.
 *
 * @param value Anything.
 * @throws {InvalidEventError} Naming each field that is missing, of the wrong type or format, or not frozen.
 *
 * @example Usage
 * ```ts
 * import { assertDomainEvent, InvalidEventError } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => assertDomainEvent({ eventType: "invite.created" }), InvalidEventError);
 * ```
 */
export function assertDomainEvent(
  value: unknown,
): asserts value is DomainEvent {
  const issues = envelopeIssues(value);
  if (issues.length) throw new InvalidEventError(issues);
}
