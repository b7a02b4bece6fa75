/**
 * NATS JetStream beyond one process: {@linkcode natsRelay}, a durable
 * listener for `outbox.registerAny` that publishes each stored event as
 * CloudEvents JSON with `Nats-Msg-Id` = `eventId`, and
 * {@linkcode consumeEvents}, a pull consumer that dispatches each event
 * inside a `PostgresInbox` claim, so its effects happen once per consumer.
 * {@linkcode ensureStream} and {@linkcode ensureConsumer} create what they
 * need; {@linkcode RECONNECT_FOREVER} keeps the client through outages of
 * any length. No dependency: it takes the user's `@nats-io/jetstream`
 * client, typed by the few methods it calls.
 *
 * Cluster setup, outages, the duplicate window and what the consumer
 * promises: docs/beyond-one-process.md.
 *
 * @example The relay, then the consumer (here on an in-memory stand-in for JetStream)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { defineEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import { consumeEvents, natsRelay, type JetStreamMessage, type JetStreamPublisher } from "@seedwork/domain-events/nats";
 * import { PostgresInbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const stream: string[] = [];
 * const js: JetStreamPublisher = {
 *   publish(_subject, payload) {
 *     stream.push(payload);
 *     return Promise.resolve({ stream: "DOMAIN_EVENTS", seq: stream.length, duplicate: false });
 *   },
 * };
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * // The producer's outbox runs this listener: outbox.registerAny("nats-relay", relay).
 * const relay = natsRelay(js, { source: "/invites" });
 * await relay(InviteCreated.create({ email: "ada@example.com" }));
 *
 * const db = new PGlite();
 * await db.query("CREATE TABLE welcome_emails (email text)");
 * const inbox = new PostgresInbox(db);
 * await inbox.migrate();
 * const stop = new AbortController();
 * const message = (json: string): JetStreamMessage => ({
 *   info: { deliveryCount: 1 },
 *   string: () => json,
 *   ack() {},
 *   ackAck: () => Promise.resolve(true),
 *   nak() {},
 *   term() {},
 * });
 * const result = await consumeEvents({
 *   consumer: {
 *     fetch() {
 *       const messages = stream.splice(0).map(message);
 *       if (messages.length == 0) stop.abort();
 *       return Promise.resolve({ async *[Symbol.asyncIterator]() { yield* messages; }, stop() {} });
 *     },
 *   },
 *   inbox,
 *   name: "mailer",
 *   definitions: [InviteCreated],
 *   dispatcher: (tx) => {
 *     const dispatcher = new InProcessEventDispatcher();
 *     dispatcher.register(InviteCreated, async (event) => {
 *       await tx.query("INSERT INTO welcome_emails VALUES ($1)", [event.payload.email]);
 *     });
 *     return dispatcher;
 *   },
 *   signal: stop.signal,
 * });
 * assert.deepEqual(result, { acked: 1, retried: 0, terminated: 0 });
 * await db.close();
 * ```
 *
 * @module
 */
export * from "./src/nats/relay.ts";
export * from "./src/nats/consumer.ts";
export * from "./src/nats/setup.ts";
export * from "./src/nats/subject.ts";
export type * from "./src/nats/jetstream_types.ts";
