// What the integration processes share: names, the stream, the consumer and
// the consumer's tables.
import { AckPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type pg from "pg";
import { defineEvent } from "../../mod.ts";
import { ensureStream, STREAM } from "../../examples/nats/relay.ts";

export const STREAM_NAME = STREAM;

/** The events the suite sends, as the consumer reads them. */
export const InviteCreated = defineEvent("invite.created").withPayload<
  { email: string }
>();
export const OrderPlaced = defineEvent("order.placed", {
  schema: (value): value is { orderId: string } =>
    typeof (value as { orderId?: unknown }).orderId === "string",
});
export const CONSUMER = "integration";
/** How long JetStream waits for an ack before it redelivers. */
export const ACK_WAIT_MS = 2_000;

const NANOS_PER_MS = 1_000_000;

/** The stream (deduplicating by Nats-Msg-Id for 10 minutes) and its durable pull consumer. */
export async function createStream(jsm: JetStreamManager): Promise<void> {
  await ensureStream(jsm);
  await jsm.consumers.add(STREAM_NAME, {
    durable_name: CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
    max_ack_pending: 1_000,
  });
}

/** The consumer's tables: every delivery, and the effects the inbox guards. */
export async function createConsumerTables(db: pg.Pool): Promise<void> {
  await db.query("CREATE TABLE deliveries (event_id uuid NOT NULL)");
  await db.query("CREATE TABLE effects (event_id uuid NOT NULL)");
}
