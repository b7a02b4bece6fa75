/**
 * The outbox inside MikroORM's transactions (`@mikro-orm/postgresql` 6). The
 * adapter (`forOutbox`) runs the library's statements through the
 * EntityManager's connection in its transaction context; MikroORM's raw SQL
 * takes `?` placeholders (knex), so `$1`, `$2`... become `?` with the
 * parameters in order of appearance. `orm` gives the EntityManager back to a
 * listener. docs/orms.md shows it.
 *
 * An order row and its event stored in one MikroORM transaction, a
 * rolled-back transaction storing neither, and the relay running a listener
 * that writes through MikroORM in its `context.tx`.
 *
 * Run: DATABASE_URL=postgres://... deno run -A examples/orms/mikro_orm.ts
 * (`deno task test:orms` starts a server, runs it and checks its output).
 *
 * @module
 */
import { EntitySchema, MikroORM } from "@mikro-orm/core";
import { type EntityManager, PostgreSqlDriver } from "@mikro-orm/postgresql";
import process from "node:process";
import assert from "node:assert/strict";
import { defineEvent } from "@seedwork/domain-events";
import {
  type PGliteLike,
  PostgresOutbox,
  type SqlQueryable,
} from "@seedwork/domain-events/postgres";

// The adapter: an EntityManager (in a transaction, or not), for the outbox.
type OutboxTx = SqlQueryable & { readonly orm: EntityManager };
function forOutbox(em: EntityManager): OutboxTx {
  return {
    orm: em,
    query: async (text, params = []) => {
      const ordered: unknown[] = [];
      const knexText = text.replace(/\$(\d+)/g, (_, n: string) => {
        ordered.push(params[Number(n) - 1]);
        return "?";
      });
      const rows = await em.getConnection().execute(
        knexText,
        ordered,
        "all",
        em.getTransactionContext(),
      );
      return { rows };
    },
  };
}
/** The outbox's database: MikroORM's transactions, in PGlite's shape. */
function outboxDatabase(orm: MikroORM<PostgreSqlDriver>): PGliteLike {
  return {
    query: (text, params) => forOutbox(orm.em.fork()).query(text, params),
    transaction: (fn) => orm.em.fork().transactional((em) => fn(forOutbox(em))),
  };
}

type Order = { id: string };
type Reservation = { orderId: string };
const Orders = new EntitySchema<Order>({
  name: "MikroOrder",
  tableName: "mikro_orders",
  properties: { id: { type: "string", primary: true } },
});
const Reservations = new EntitySchema<Reservation>({
  name: "MikroReservation",
  tableName: "mikro_reservations",
  properties: { orderId: { type: "string", primary: true } },
});
const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string }
>();

const orm = await MikroORM.init<PostgreSqlDriver>({
  driver: PostgreSqlDriver,
  clientUrl: process.env.DATABASE_URL ?? "",
  entities: [Orders, Reservations],
  discovery: { warnWhenNoEntities: false },
});
await orm.schema.updateSchema();
const db = outboxDatabase(orm);
const outbox = new PostgresOutbox(db);
await outbox.migrate();
outbox.register(OrderPlaced, "reserve-stock", async (event, context) => {
  const em = (context.tx as OutboxTx).orm; // MikroORM, in the relay's tx
  await em.insert(Reservations, { orderId: event.payload.orderId });
});
const eventCount = async (eventId: string) =>
  (await db.query(
    `SELECT 1 FROM ${outbox.tables.events} WHERE event_id = $1::uuid`,
    [eventId],
  )).rows.length;
const orderCount = (id: string) => orm.em.fork().count(Orders, { id });

// One MikroORM transaction: the order row and its event.
const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const placed = OrderPlaced.create({ orderId });
await orm.em.fork().transactional(async (em) => {
  await em.insert(Orders, { id: orderId });
  await outbox.store(forOutbox(em), [placed]);
});
// A rolled-back one: neither.
const refusedId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const refused = OrderPlaced.create({ orderId: refusedId });
await assert.rejects(
  orm.em.fork().transactional(async (em) => {
    await em.insert(Orders, { id: refusedId });
    await outbox.store(forOutbox(em), [refused]);
    throw new Error("payment refused");
  }),
  /payment refused/,
);
assert.deepEqual([
  [await orderCount(orderId), await eventCount(placed.eventId)],
  [await orderCount(refusedId), await eventCount(refused.eventId)],
], [[1, 1], [0, 0]]);

// The relay: the listener writes through MikroORM in context.tx.
const { completed } = await outbox.processPending();
const reserved = await orm.em.fork().count(Reservations, { orderId });
assert.deepEqual([completed, reserved], [1, 1]);
console.log(
  "mikro-orm: committed 1 order + 1 event; rolled back 0 + 0; relay: 1 reservation through mikro-orm",
);
await orm.close();
