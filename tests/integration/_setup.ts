// What the integration processes share: names, the events, the stream and
// consumer settings, the ledger tables, and a retry for start-up calls made
// while the broker may be away.
import pg from "pg";
import { defineEvent } from "../../mod.ts";
import { RECONNECT_FOREVER } from "../../nats.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export const STREAM_NAME = "INTEGRATION";
export const CONSUMER = "integration";
/** The relay's outbox listener id. */
export const RELAY_LISTENER = "nats-relay";
/** How long JetStream waits for an ack before it redelivers. */
export const ACK_WAIT_MS = 5_000;

/** The events the suite sends, as the consumer reads them. */
export const InviteCreated = defineEvent("invite.created").withPayload<
  { email: string }
>();
export const OrderPlaced = defineEvent("order.placed", {
  schema: (value): value is { orderId: string } =>
    typeof (value as { orderId?: unknown }).orderId === "string",
});

/** A connection to every node given (comma-separated), reconnecting forever. */
export function connectNats(urls: string): Promise<NatsConnection> {
  return connect({ servers: urls.split(","), ...RECONNECT_FOREVER });
}

/**
 * A pg Pool that survives a restarted server: pg emits the loss of a
 * connection as an `error` event on the pool (idle clients) and on a client
 * checked out between two queries (the outbox's and the inbox's
 * transactions), and an `error` event nobody listens to ends the process.
 * The query in flight still rejects, and the pool replaces the client.
 */
export function pool(url: string, max = 4): pg.Pool {
  const db = new pg.Pool({ connectionString: url, max });
  db.on("error", () => {});
  db.on("connect", (client: pg.PoolClient) => client.on("error", () => {}));
  return db;
}

/**
 * The ledgers, outside the inbox and the outbox: `produced` (what the
 * producer stored), `deliveries` (every delivery a consumer saw, written
 * outside the inbox's transaction) and `effects` (written inside it). Each
 * row has its own serial id and nothing keys `deliveries` or `effects` by
 * event, so a second effect of one event is a second row.
 */
export async function createLedgers(db: pg.Pool): Promise<void> {
  await db.query(
    "CREATE TABLE produced (event_id uuid PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())",
  );
  await db.query(
    "CREATE TABLE deliveries (id bigserial PRIMARY KEY, event_id uuid, pid int NOT NULL)",
  );
  await db.query(
    "CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, pid int NOT NULL)",
  );
}

/** Calls `fn` until it resolves (the broker or the database may be away). */
export async function retry<T>(
  what: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted) throw error;
      console.error(`${what} (pid ${Deno.pid}): ${error}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
