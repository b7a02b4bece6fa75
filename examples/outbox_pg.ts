/**
 * The outbox on a PostgreSQL server with `pg`, complete: a pool, `migrate`,
 * an order saved with its event between `BEGIN` and `COMMIT`, a failed order
 * rolled back with its event, a worker (the relay) that stops on SIGTERM, and
 * the causation tree of the order read back from the outbox's tables.
 * docs/outbox.md is built from this file.
 *
 * Run it against your server:
 *   DATABASE_URL=postgres://user@127.0.0.1:5432/db deno run -A examples/outbox_pg.ts
 * `deno task test:examples` starts a throwaway server, runs it and checks what
 * it prints.
 *
 * @module
 */
import pg from "pg";
import process from "node:process";
import {
  defineEvent,
  type DomainEvent,
  formatCausationTree,
  parseEvent,
} from "@seedwork/domain-events";
import { PostgresOutbox } from "@seedwork/domain-events/postgres";

// The events, and the durable listeners: the same code in every process.
const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string; sku: string; quantity: number }
>();
const StockReserved = defineEvent("stock.reserved").withPayload<
  { orderId: string; sku: string }
>();

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const outbox = new PostgresOutbox(pool);
await outbox.migrate(); // idempotent, safe at every start
await pool.query(`
  CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, sku text NOT NULL);
  CREATE TABLE IF NOT EXISTS reservations (order_id text PRIMARY KEY, sku text);
  CREATE TABLE IF NOT EXISTS sent_emails (order_id text, kind text);
`);

outbox.register(
  OrderPlaced,
  "reserve-stock",
  async (event, { tx, publish }) => {
    // Written through context.tx: exactly once, with the publication's completion.
    await tx.query("INSERT INTO reservations VALUES ($1, $2)", [
      event.payload.orderId,
      event.payload.sku,
    ]);
    // A follow-up, caused by this event, stored in tx, run later by the relay.
    await publish(StockReserved, {
      orderId: event.payload.orderId,
      sku: event.payload.sku,
    });
  },
);
outbox.register(StockReserved, "send-confirmation", async (event, { tx }) => {
  // A real app calls its mailer here (at least once: pass event.eventId as the
  // idempotency key); this one records it.
  await tx.query("INSERT INTO sent_emails VALUES ($1, 'confirmation')", [
    event.payload.orderId,
  ]);
});

// The command: the order and its event in one transaction, or neither.
async function placeOrder(
  orderId: string,
  sku: string,
  requestId: string,
): Promise<void> {
  const event = OrderPlaced.create({ orderId, sku, quantity: 1 }, {
    correlationId: requestId,
  });
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("INSERT INTO orders VALUES ($1, $2)", [orderId, sku]);
    await outbox.store(client, [event]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`; // new on every run
const requestId = `req-${orderId}`;
await placeOrder(orderId, "book-42", requestId);
console.log("placed: the order and its event committed together");
try {
  await placeOrder(orderId, "book-43", "req-retry"); // the same id: INSERT fails
} catch (error) {
  const stored = await pool.query(
    `SELECT count(*)::int AS n FROM ${outbox.tables.events}
     WHERE event_type = 'order.placed' AND body::jsonb #>> '{payload,sku}' = 'book-43'`,
  );
  console.log(
    `placed again: "${(error as Error).message}", rolled back: ${
      stored.rows[0].n
    } event of it stored`,
  );
}

// The worker: the relay runs until SIGTERM (what `docker stop` or Kubernetes
// sends), then finishes its batch and returns.
const shutdown = new AbortController();
process.once("SIGTERM", () => shutdown.abort());
const worker = outbox.start({
  signal: shutdown.signal,
  intervalMs: 100,
  onError: (error) => console.error("relay:", error),
});

// Here the example stops its own worker once the order's flow is done: both
// listeners completed.
async function completedCount(): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n
     FROM ${outbox.tables.publications} p JOIN ${outbox.tables.events} e USING (event_id)
     WHERE e.correlation_id = $1 AND p.status = 'completed'`,
    [requestId],
  );
  return rows[0].n;
}
while (await completedCount() < 2) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
process.kill(process.pid, "SIGTERM");
await worker;
console.log("worker: stopped on SIGTERM");

// The causation tree of the order, read back from the outbox's events table.
const { rows } = await pool.query(
  `SELECT body::text AS body FROM ${outbox.tables.events}
   WHERE correlation_id = $1 ORDER BY occurred_at, stored_at`,
  [requestId],
);
const events: DomainEvent[] = rows.map((row: { body: string }) =>
  parseEvent(row.body)
);
console.log(formatCausationTree(events));
await pool.end();
