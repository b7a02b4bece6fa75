/**
 * Test helpers for `@seedwork/domain-events`: capture every event a
 * dispatcher sees, nested ones included, query them by type or definition,
 * and draw their causation tree. There is no assertion library inside:
 * assert with your own.
 *
 * @example Capture, query, draw
 * ```ts
 * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import { captureEvents } from "@seedwork/domain-events/testing";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher();
 * dispatcher.register("invite.created", async (_event, context) => {
 *   await context.publish("invite.email_sent");
 * });
 * const capture = captureEvents(dispatcher);
 *
 * await dispatcher.dispatch(createEvent("invite.created", {}, { correlationId: "req-42" }));
 * capture.stop();
 * assert.deepEqual(capture.types(), ["invite.created", "invite.email_sent"]);
 * assert.equal(capture.ofType("invite.email_sent").length, 1);
 * assert.equal(capture.tree().split("\n")[0], "correlation req-42");
 * ```
 *
 * @module
 */
export * from "./src/testing/capture_events.ts";
