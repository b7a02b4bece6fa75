/**
 * In-process domain events for TypeScript, with causation and correlation
 * tracing built in.
 *
 * - {@linkcode createEvent} and {@linkcode defineEvent} make frozen, validated
 *   events that are plain JSON objects; {@linkcode parseEvent} reads them
 *   back from untrusted input.
 * - {@linkcode InProcessEventDispatcher} runs handlers awaitably, with three
 *   error modes and middleware; a handler's {@linkcode HandlerContext}
 *   publishes follow-up events traced to their cause.
 * - {@linkcode EventRecorder} collects an aggregate's events;
 *   {@linkcode formatCausationTree} draws what happened, one tree per
 *   correlation.
 *
 * @example Create, serialize and read back an event
 * ```ts
 * import { createEvent, defineEvent, parseEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const created = InviteCreated.create({ email: "ada@example.com" });
 * const sent = createEvent("invite.email_sent", { to: "ada@example.com" }, { causedBy: created });
 *
 * assert.equal(sent.causationId, created.eventId);
 * assert.deepEqual(parseEvent(JSON.stringify(sent)), sent);
 * ```
 *
 * @module
 */
export * from "./src/event/types.ts";
export * from "./src/event/errors.ts";
export * from "./src/event/create_event.ts";
export * from "./src/event/standard_schema.ts";
export * from "./src/event/event_definition.ts";
export * from "./src/event/define_event.ts";
export * from "./src/event/guards.ts";
export * from "./src/parse/parse_event.ts";
export * from "./src/dispatch/handler.ts";
export * from "./src/dispatch/dispatcher.ts";
export * from "./src/event/recorder.ts";
export * from "./src/trace/causation_tree.ts";
export * from "./src/event/uuidv7.ts";
