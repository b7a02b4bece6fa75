// PostgresInbox on PGlite: each consumer's effects run once per event.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PGlite } from "@electric-sql/pglite";
import { createEvent, InvalidEventError } from "../../mod.ts";
import type { DomainEvent } from "../../mod.ts";
import { PostgresInbox, type SqlQueryable } from "../../postgres.ts";
import { outboxFixture } from "./_outbox_fixture.ts";

// One database for the file (PGlite takes seconds to start); each test gets
// its own inbox table and credits table.
const { db, freshPrefix } = outboxFixture();

async function setup(): Promise<{ inbox: PostgresInbox; credits: string }> {
  const prefix = freshPrefix();
  await db.query(
    `CREATE TABLE ${prefix}credits (consumer text, event_id uuid)`,
  );
  const inbox = new PostgresInbox(db, { tablePrefix: prefix });
  await inbox.migrate();
  return { inbox, credits: `${prefix}credits` };
}

function credit(table: string, consumer: string, event: DomainEvent) {
  return (tx: SqlQueryable) =>
    tx.query(`INSERT INTO ${table} VALUES ($1, $2)`, [consumer, event.eventId]);
}

async function rows(table: string): Promise<unknown[]> {
  return (await db.query(`SELECT * FROM ${table} ORDER BY consumer, event_id`))
    .rows;
}

describe("PostgresInbox", () => {
  it("runs an effect once per consumer and event, however often it is delivered", async () => {
    const { inbox, credits } = await setup();
    const event = createEvent("order.paid");
    const other = createEvent("order.paid");
    const runs = [];
    for (let delivery = 0; delivery < 3; delivery++) {
      runs.push(
        await inbox.handle("ledger", event, credit(credits, "ledger", event)),
      );
      runs.push(
        await inbox.handle("points", event, credit(credits, "points", event)),
      );
    }
    runs.push(
      await inbox.handle("ledger", other, credit(credits, "ledger", other)),
    );
    assert.deepEqual(runs, [true, true, false, false, false, false, true]);
    const expected = [
      { consumer: "ledger", event_id: event.eventId },
      { consumer: "ledger", event_id: other.eventId },
      { consumer: "points", event_id: event.eventId },
    ].sort((a, b) =>
      a.consumer.localeCompare(b.consumer) || (a.event_id < b.event_id ? -1 : 1)
    );
    assert.deepEqual(await rows(credits), expected);
  });

  it("rolls the claim back with the effect's writes when the effect fails", async () => {
    const { inbox, credits } = await setup();
    const event = createEvent("order.paid");
    await assert.rejects(
      inbox.handle("ledger", event, async (tx) => {
        await credit(credits, "ledger", event)(tx);
        throw new Error("ledger down");
      }),
      { message: "ledger down" },
    );
    assert.deepEqual(await rows(credits), []);
    assert.equal(
      await inbox.handle("ledger", event, credit(credits, "ledger", event)),
      true,
    );
    assert.equal((await rows(credits)).length, 1);
  });

  it("claims inside the caller's transaction: a rollback forgets the claim", async () => {
    const { inbox } = await setup();
    const event = createEvent("order.paid");
    await assert.rejects(db.transaction(async (tx) => {
      assert.equal(await inbox.claim(tx, "ledger", event), true);
      throw new Error("rolled back");
    }));
    const claimed = await db.transaction((tx) =>
      inbox.claim(tx, "ledger", event)
    );
    assert.equal(claimed, true);
  });

  it("keeps inboxes with different prefixes apart, and migrates idempotently", async () => {
    const { inbox } = await setup();
    const billing = new PostgresInbox(db, { tablePrefix: "billing_" });
    await billing.migrate();
    await billing.migrate();
    assert.equal(billing.table, "billing_processed");
    const event = createEvent("order.paid");
    assert.equal(await inbox.handle("ledger", event, () => {}), true);
    assert.equal(await billing.handle("ledger", event, () => {}), true);
  });

  it("purges claims older than a date", async () => {
    const { inbox } = await setup();
    await inbox.handle("ledger", createEvent("a"), () => {});
    assert.equal(
      await inbox.purge({ olderThan: new Date(Date.now() - 60_000) }),
      0,
    );
    assert.equal(
      await inbox.purge({ olderThan: new Date(Date.now() + 60_000) }),
      1,
    );
    await assert.rejects(inbox.purge({ olderThan: new Date(NaN) }), TypeError);
    await assert.rejects(
      // @ts-expect-error: a misspelled option
      inbox.purge({ olderthan: new Date() }),
      /^TypeError: purge: unknown option "olderthan"/,
    );
    // @ts-expect-error: options are required
    await assert.rejects(inbox.purge(), TypeError);
  });

  it("refuses bad arguments with typed errors before touching the database", async () => {
    const { inbox } = await setup();
    const event = createEvent("a");
    assert.throws(() => new PostgresInbox({} as PGlite), TypeError);
    // A query method alone: neither a transaction nor a connect method.
    assert.throws(
      () => new PostgresInbox({ query() {} } as unknown as PGlite),
      /^TypeError: db: expected a pg Pool or a PGlite instance/,
    );
    assert.throws(
      () => new PostgresInbox({ query: () => {} } as unknown as PGlite),
      TypeError,
    );
    // A pg Pool's shape (query and connect) is accepted as it is.
    new PostgresInbox({ query: () => {}, connect: () => {} } as never);
    await assert.rejects(inbox.handle(42 as never, event, () => {}), {
      name: "TypeError",
      message:
        "consumer: expected a consumer name of 1 to 128 characters, without NUL or lone surrogates, got 42",
    });
    assert.throws(
      () => new PostgresInbox(db, { tablePrefix: "x; DROP TABLE y" }),
      TypeError,
    );
    await assert.rejects(inbox.handle("", event, () => {}), TypeError);
    await assert.rejects(
      inbox.handle(7 as unknown as string, event, () => {}),
      new TypeError(
        "consumer: expected a consumer name of 1 to 128 characters, without NUL or lone surrogates, got 7",
      ),
    );
    await assert.rejects(
      inbox.handle("x".repeat(129), event, () => {}),
      TypeError,
    );
    await assert.rejects(
      inbox.handle(
        "ledger",
        { eventId: "x" } as unknown as DomainEvent,
        () => {},
      ),
      InvalidEventError,
    );
    await assert.rejects(
      inbox.handle("ledger", event, "effect" as unknown as () => void),
      TypeError,
    );
    await assert.rejects(
      inbox.claim({} as SqlQueryable, "ledger", event),
      TypeError,
    );
    assert.equal(
      (await db.query(`SELECT * FROM ${inbox.table}`)).rows.length,
      0,
    );
  });
});
