import { checkArgument } from "../_shared/_arguments.ts";
import { checkSubjectPrefix } from "./_checks.ts";

/** The subject prefix of every relayed event, and the stream's `events.>`. */
export const DEFAULT_SUBJECT_PREFIX = "events";

/**
 * The subject an event of `eventType` is published on: `${prefix}.${eventType}`,
 * where each `*` and `>` of the type (NATS wildcards) becomes `_`, and each
 * empty token (a leading, trailing or doubled `.`) becomes `_`. The type's
 * dots stay subject token separators, so a consumer can filter on
 * `events.invite.>`. Two types that differ only by those characters share
 * a subject; the consumer reads the type from the CloudEvent, not from the
 * subject, so nothing is confused.
 *
 * @param eventType The event's type: a string without whitespace, 1 to 256 characters.
 * @param prefix The subject prefix (tokens without wildcards or whitespace).
 * @returns The subject.
 * @throws {TypeError} When `eventType` or `prefix` is not valid.
 *
 * @example Types and their subjects
 * ```ts
 * import { subjectOf } from "@seedwork/domain-events/nats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(subjectOf("invite.created"), "events.invite.created");
 * assert.equal(subjectOf("orders.*..paid", "billing"), "billing.orders._._.paid");
 * ```
 */
export function subjectOf(
  eventType: string,
  prefix: string = DEFAULT_SUBJECT_PREFIX,
): string {
  checkArgument(
    typeof eventType == "string" && /^\S{1,256}$/.test(eventType),
    "eventType",
    "an event type (1 to 256 characters, no whitespace)",
    eventType,
  );
  checkSubjectPrefix(prefix);
  const tokens = eventType.split(".").map((token) =>
    token.replace(/[*>]/g, "_") || "_"
  );
  return `${prefix}.${tokens.join(".")}`;
}
