/**
 * The outbox on postgres.js (the `postgres` package), which has neither a
 * `pg` Pool nor PGlite's shape: a few lines of adapter give it PGlite's
 * (`query` and `transaction`). An order is saved with its event in one
 * `sql.begin`, a failing one stores nothing, and the relay runs a listener
 * that writes through `context.tx` and publishes a follow-up. docs/outbox.md
 * shows the adapter from this file.
 *
 * Run it against your server:
 *   DATABASE_URL=postgres://user@127.0.0.1:5432/db deno run -A examples/outbox_postgresjs.ts
 * `deno task test:examples` starts a throwaway server, runs it and checks what
 * it prints.
 *
 * @module
 */
import postgres from "postgres";
import process from "node:process";
import { defineEvent, formatCausationTree } from "@seedwork/domain-events";
import { parseEvent } from "@seedwork/domain-events";
import {
  type PGliteLike,
  PostgresOutbox,
  type SqlQueryable,
} from "@seedwork/domain-events/postgres";

const sql = postgres(process.env.DATABASE_URL ?? "", { onnotice: () => {} });
// The adapter: a statement with $1 parameters through `unsafe`, and
// `sql.begin` as the transaction.
const adapt = (run: postgres.Sql | postgres.TransactionSql): SqlQueryable => ({
  query: async (text, params) => ({
    rows: await run.unsafe(text, params as postgres.ParameterOrJSON<never>[]),
  }),
});
const db: PGliteLike = {
  ...adapt(sql),
  transaction: (fn) => sql.begin((tx) => fn(adapt(tx))) as never,
};
const outbox = new PostgresOutbox(db);
// In a command: await sql.begin((tx) => outbox.store(adapt(tx), events));

const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string }
>();
const StockReserved = defineEvent("stock.reserved").withPayload<
  { orderId: string }
>();

await outbox.migrate();
await sql`CREATE TABLE IF NOT EXISTS pjs_orders (id text PRIMARY KEY)`;
await sql`CREATE TABLE IF NOT EXISTS pjs_reservations (order_id text)`;
outbox.register(
  OrderPlaced,
  "reserve-stock",
  async (event, { tx, publish }) => {
    await tx.query("INSERT INTO pjs_reservations VALUES ($1)", [
      event.payload.orderId,
    ]);
    await publish(StockReserved, { orderId: event.payload.orderId });
  },
);
outbox.register(StockReserved, "confirm", () => {});

const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const placed = OrderPlaced.create({ orderId }, { correlationId: orderId });
await sql.begin(async (tx) => {
  await tx`INSERT INTO pjs_orders VALUES (${orderId})`;
  await outbox.store(adapt(tx), [placed]);
});
const again = OrderPlaced.create({ orderId }, { correlationId: "pjs-retry" });
const failure = await sql.begin(async (tx) => {
  await outbox.store(adapt(tx), [again]);
  await tx`INSERT INTO pjs_orders VALUES (${orderId})`; // duplicate: rolls back
}).then(() => "none", (error: Error) => error.message);
const [kept] = await sql`
  SELECT count(*)::int AS n FROM ${sql(outbox.tables.events)}
  WHERE event_id = ${again.eventId}`;
console.log(`rolled back: ${failure}; its event stored: ${kept?.n}`);

let completed = 0;
for (let run; (run = await outbox.processPending()).completed > 0;) {
  completed += run.completed;
}
const [reserved] = await sql`
  SELECT count(*)::int AS n FROM pjs_reservations WHERE order_id = ${orderId}`;
console.log(`relay: ${completed} completed, ${reserved?.n} reservation`);

const rows = await sql<{ body: string }[]>`
  SELECT body::text AS body FROM ${sql(outbox.tables.events)}
  WHERE correlation_id = ${orderId} ORDER BY occurred_at`;
console.log(formatCausationTree(rows.map((row) => parseEvent(row.body))));
await sql.end();
