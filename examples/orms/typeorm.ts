/**
 * The outbox inside TypeORM's transactions (the `postgres` driver, on `pg`).
 * The adapter (`forOutbox`) runs the library's statements through the
 * transaction's query runner, asking for the structured result (plain
 * `manager.query` returns `[rows, count]` for an UPDATE); `orm` gives the
 * EntityManager back to a listener. docs/orms.md shows it.
 *
 * An order row and its event stored in one TypeORM transaction, a rolled-back
 * transaction storing neither, and the relay running a listener that writes
 * through TypeORM in its `context.tx`.
 *
 * Run: DATABASE_URL=postgres://... deno run -A examples/orms/typeorm.ts
 * (`deno task test:orms` starts a server, runs it and checks its output).
 *
 * @module
 */
import {
  DataSource,
  type EntityManager,
  EntitySchema,
  type QueryRunner,
} from "typeorm";
import process from "node:process";
import assert from "node:assert/strict";
import { defineEvent } from "@seedwork/domain-events";
import {
  type PGliteLike,
  PostgresOutbox,
  type SqlQueryable,
} from "@seedwork/domain-events/postgres";

// The adapter: a query runner (a transaction's, or a fresh one), for the outbox.
type OutboxTx = SqlQueryable & { readonly orm: EntityManager };
function forOutbox(manager: EntityManager): OutboxTx {
  const runner: QueryRunner | undefined = manager.queryRunner;
  if (!runner) throw new TypeError("forOutbox: use a transaction's manager");
  return {
    orm: manager,
    query: async (text, params) => ({
      rows: (await runner.query(text, params, true)).records,
    }),
  };
}
/** The outbox's database: TypeORM's transactions, in PGlite's shape. */
function outboxDatabase(dataSource: DataSource): PGliteLike {
  return {
    query: async (text, params) => {
      const runner = dataSource.createQueryRunner();
      try {
        return { rows: (await runner.query(text, params, true)).records };
      } finally {
        await runner.release();
      }
    },
    transaction: (fn) =>
      dataSource.transaction((manager) => fn(forOutbox(manager))),
  };
}

type Order = { id: string };
type Reservation = { orderId: string };
const Orders = new EntitySchema<Order>({
  name: "typeorm_orders",
  columns: { id: { type: "text", primary: true } },
});
const Reservations = new EntitySchema<Reservation>({
  name: "typeorm_reservations",
  columns: { orderId: { type: "text", primary: true, name: "order_id" } },
});
const OrderPlaced = defineEvent("order.placed").withPayload<
  { orderId: string }
>();

const dataSource = new DataSource({
  type: "postgres",
  url: process.env.DATABASE_URL ?? "",
  entities: [Orders, Reservations],
  synchronize: true,
});
await dataSource.initialize();
const db = outboxDatabase(dataSource);
const outbox = new PostgresOutbox(db);
await outbox.migrate();
outbox.register(OrderPlaced, "reserve-stock", async (event, context) => {
  const manager = (context.tx as OutboxTx).orm; // TypeORM, in the relay's tx
  await manager.insert(Reservations, { orderId: event.payload.orderId });
});
const eventCount = async (eventId: string) =>
  (await db.query(
    `SELECT 1 FROM ${outbox.tables.events} WHERE event_id = $1::uuid`,
    [eventId],
  )).rows.length;
const orderCount = (id: string) => dataSource.manager.countBy(Orders, { id });

// One TypeORM transaction: the order row and its event.
const orderId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const placed = OrderPlaced.create({ orderId });
await dataSource.transaction(async (manager) => {
  await manager.insert(Orders, { id: orderId });
  await outbox.store(forOutbox(manager), [placed]);
});
// A rolled-back one: neither.
const refusedId = `ord_${crypto.randomUUID().slice(0, 8)}`;
const refused = OrderPlaced.create({ orderId: refusedId });
await assert.rejects(
  dataSource.transaction(async (manager) => {
    await manager.insert(Orders, { id: refusedId });
    await outbox.store(forOutbox(manager), [refused]);
    throw new Error("payment refused");
  }),
  /payment refused/,
);
assert.deepEqual([
  [await orderCount(orderId), await eventCount(placed.eventId)],
  [await orderCount(refusedId), await eventCount(refused.eventId)],
], [[1, 1], [0, 0]]);

// The relay: the listener writes through TypeORM in context.tx.
const { completed } = await outbox.processPending();
const reserved = await dataSource.manager.countBy(Reservations, { orderId });
assert.deepEqual([completed, reserved], [1, 1]);
console.log(
  "typeorm: committed 1 order + 1 event; rolled back 0 + 0; relay: 1 reservation through typeorm",
);
await dataSource.destroy();
