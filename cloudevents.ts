/**
 * The CloudEvents 1.0 bridge: {@linkcode toCloudEvent} writes an event in the
 * CloudEvents JSON format, with the `correlationid` and `causationid`
 * extension attributes, so that it can leave the process through an outbox
 * or a broker; {@linkcode fromCloudEvent} reads one back, validated like
 * `parseEvent` (with `definition` or `definitions` to check the payload).
 *
 * @example Out and back in
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { fromCloudEvent, toCloudEvent } from "@seedwork/domain-events/cloudevents";
 * import assert from "node:assert/strict";
 *
 * const event = createEvent("invite.created", { email: "ada@example.com" }, { correlationId: "req-42" });
 * const cloudEvent = toCloudEvent(event, { source: "/invites" });
 * assert.equal(cloudEvent.correlationid, "req-42");
 * assert.deepEqual(fromCloudEvent(JSON.stringify(cloudEvent)), event);
 * ```
 *
 * @module
 */
export * from "./src/cloudevents/cloud_event.ts";
