/**
 * The outbox inside Drizzle ORM's transactions, on both of its PostgreSQL
 * drivers used here: node-postgres (`drizzle-orm/node-postgres`, a `pg` Pool)
 * and PGlite (`drizzle-orm/pglite`). The adapter (`forOutbox`) hands the
 * library a Drizzle database or transaction; `orm` gives the Drizzle
 * transaction back to a listener. docs/orms.md shows it.
 *
 * For each driver: an order row and its event stored in one Drizzle
 * transaction, a rolled-back transaction storing neither, and the relay
 * running a listener that writes through Drizzle in its `context.tx`.
 *
 * Run: DATABASE_URL=postgres://... deno run -A examples/orms/drizzle.ts
 * (`deno task test:orms` starts a server, runs it and checks its output).
 *
 * @module
 */
import { count, eq, sql } from "drizzle-orm";
import {
  type PgDatabase,
  type PgQueryResultHKT,
  pgTable,
  text,
} from "drizzle-orm/pg-core";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import process from "node:process";
import assert from "node:assert/strict";
import { defineEvent } from "@seedwork/domain-events";
import {
  type PGliteLike,
  PostgresOutbox,
  type SqlQueryable,
} from "@seedwork/domain-events/postgres";

// The adapter: a Drizzle database or transaction, for the outbox.
type Drizzle = PgDatabase<PgQueryResultHKT>; // node-postgres, PGlite, ...
type OutboxTx<Tx> = SqlQueryable & { readonly orm: Tx };
function forOutbox<Tx extends Pick<Drizzle, "execute">>(tx: Tx): OutboxTx<Tx> {
  return {
    orm: tx,
    // "... $1::text ..." becomes Drizzle SQL: the text raw, each $n a parameter.
    query: async (text, params = []) => {
      const chunks = text.split(/\$(\d+)/).map((part, i) =>
        i % 2 === 0 ? sql.raw(part) : sql.param(params[Number(part) - 1])
      );
      return (await tx.execute(sql.join(chunks))) as { rows: unknown[] };
    },
  };
}
/** The outbox's database: Drizzle's `transaction`, in PGlite's shape. */
function outboxDatabase(db: Drizzle): PGliteLike {
  return {
    query: forOutbox(db).query,
    transaction: (fn) => db.transaction((tx) => fn(forOutbox(tx))),
  };
}
type DrizzleTx = Parameters<Parameters<Drizzle["transaction"]>[0]>[0];

const orders = pgTable("drizzle_orders", { id: text("id").primaryKey() });
const reservations = pgTable("drizzle_reservations", {
  orderId: text("order_id").notNull(),
});
const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string }
>();

async function scenario(name: string, db: Drizzle): Promise<void> {
  const outbox = new PostgresOutbox(outboxDatabase(db));
  await outbox.migrate();
  await db.execute(
    sql`CREATE TABLE IF NOT EXISTS drizzle_orders (id text PRIMARY KEY)`,
  );
  await db.execute(
    sql`CREATE TABLE IF NOT EXISTS drizzle_reservations (order_id text NOT NULL)`,
  );
  outbox.register(OrderPlaced, "reserve-stock", async (event, context) => {
    const tx = (context.tx as OutboxTx<DrizzleTx>).orm; // Drizzle, in the relay's tx
    await tx.insert(reservations).values({ orderId: event.payload.orderId });
  });
  const eventCount = async (eventId: string) =>
    (await forOutbox(db).query(
      `SELECT 1 FROM ${outbox.tables.events} WHERE event_id = $1::uuid`,
      [eventId],
    )).rows.length;

  // One Drizzle transaction: the order row and its event.
  const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`;
  const placed = OrderPlaced.create({ orderId });
  await db.transaction(async (tx) => {
    await tx.insert(orders).values({ id: orderId });
    await outbox.store(forOutbox(tx), [placed]);
  });
  // A rolled-back one: neither.
  const refusedId = `ord_${crypto.randomUUID().slice(0, 8)}`;
  const refused = OrderPlaced.create({ orderId: refusedId });
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.insert(orders).values({ id: refusedId });
      await outbox.store(forOutbox(tx), [refused]);
      throw new Error("payment refused");
    }),
    /payment refused/,
  );
  const rows = async (id: string) =>
    (await db.select({ n: count() }).from(orders).where(eq(orders.id, id)))[0]
      ?.n;
  const committed = [await rows(orderId), await eventCount(placed.eventId)];
  const rolledBack = [await rows(refusedId), await eventCount(refused.eventId)];
  assert.deepEqual([committed, rolledBack], [[1, 1], [0, 0]]);

  // The relay: the listener writes through Drizzle in context.tx.
  const { completed } = await outbox.processPending();
  const reserved = await db.select({ n: count() }).from(reservations).where(
    eq(reservations.orderId, orderId),
  );
  assert.deepEqual([completed, reserved[0]?.n], [1, 1]);
  console.log(
    `drizzle (${name}): committed 1 order + 1 event; rolled back 0 + 0; relay: 1 reservation through drizzle`,
  );
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await scenario("node-postgres", drizzlePg(pool));
await pool.end();
const client = new PGlite();
await scenario("pglite", drizzlePglite(client));
await client.close();
