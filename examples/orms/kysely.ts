/**
 * The outbox inside Kysely's transactions (PostgresDialect on a `pg` Pool).
 * The adapter (`forOutbox`) runs the library's statements through a Kysely
 * instance or transaction with `CompiledQuery.raw`; `orm` gives the Kysely
 * transaction back to a listener. docs/orms.md shows it.
 *
 * An order row and its event stored in one Kysely transaction, a rolled-back
 * transaction storing neither, and the relay running a listener that writes
 * through Kysely in its `context.tx`.
 *
 * Run: DATABASE_URL=postgres://... deno run -A examples/orms/kysely.ts
 * (`deno task test:orms` starts a server, runs it and checks its output).
 *
 * @module
 */
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  type Transaction,
} from "kysely";
import pg from "pg";
import process from "node:process";
import assert from "node:assert/strict";
import { defineEvent } from "@seedwork/domain-events";
import {
  type PGliteLike,
  PostgresOutbox,
  type SqlQueryable,
} from "@seedwork/domain-events/postgres";

interface Tables {
  kysely_orders: { id: string };
  kysely_reservations: { order_id: string };
}

// The adapter: a Kysely instance or transaction, for the outbox.
type OutboxTx<Tx> = SqlQueryable & { readonly orm: Tx };
function forOutbox<Tx extends Kysely<Tables>>(tx: Tx): OutboxTx<Tx> {
  return {
    orm: tx,
    query: (text, params = []) =>
      tx.executeQuery(CompiledQuery.raw(text, params)),
  };
}
/** The outbox's database: Kysely's transactions, in PGlite's shape. */
function outboxDatabase(db: Kysely<Tables>): PGliteLike {
  return {
    query: forOutbox(db).query,
    transaction: (fn) => db.transaction().execute((tx) => fn(forOutbox(tx))),
  };
}

const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string }
>();
const db = new Kysely<Tables>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
  }),
});
const outbox = new PostgresOutbox(outboxDatabase(db));
await outbox.migrate();
await db.schema.createTable("kysely_orders").ifNotExists()
  .addColumn("id", "text", (column) => column.primaryKey()).execute();
await db.schema.createTable("kysely_reservations").ifNotExists()
  .addColumn("order_id", "text", (column) => column.notNull()).execute();
outbox.register(OrderPlaced, "reserve-stock", async (event, context) => {
  const tx = (context.tx as OutboxTx<Transaction<Tables>>).orm; // the relay's tx
  await tx.insertInto("kysely_reservations")
    .values({ order_id: event.payload.orderId }).execute();
});
const eventCount = async (eventId: string) =>
  (await forOutbox(db).query(
    `SELECT 1 FROM ${outbox.tables.events} WHERE event_id = $1::uuid`,
    [eventId],
  )).rows.length;
const orderCount = async (id: string) =>
  (await db.selectFrom("kysely_orders").where("id", "=", id).selectAll()
    .execute()).length;

// One Kysely transaction: the order row and its event.
const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const placed = OrderPlaced.create({ orderId });
await db.transaction().execute(async (tx) => {
  await tx.insertInto("kysely_orders").values({ id: orderId }).execute();
  await outbox.store(forOutbox(tx), [placed]);
});
// A rolled-back one: neither.
const refusedId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const refused = OrderPlaced.create({ orderId: refusedId });
await assert.rejects(
  db.transaction().execute(async (tx) => {
    await tx.insertInto("kysely_orders").values({ id: refusedId }).execute();
    await outbox.store(forOutbox(tx), [refused]);
    throw new Error("payment refused");
  }),
  /payment refused/,
);
assert.deepEqual([
  [await orderCount(orderId), await eventCount(placed.eventId)],
  [await orderCount(refusedId), await eventCount(refused.eventId)],
], [[1, 1], [0, 0]]);

// The relay: the listener writes through Kysely in context.tx.
const { completed } = await outbox.processPending();
const reserved = await db.selectFrom("kysely_reservations")
  .where("order_id", "=", orderId).selectAll().execute();
assert.deepEqual([completed, reserved.length], [1, 1]);
console.log(
  "kysely: committed 1 order + 1 event; rolled back 0 + 0; relay: 1 reservation through kysely",
);
await db.destroy();
