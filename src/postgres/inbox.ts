import { assertDomainEvent } from "../event/guards.ts";
import type { DomainEvent } from "../event/types.ts";
import {
  checkDatabase,
  checkTablePrefix,
  inTransaction,
  isQueryable,
} from "./_sql.ts";
import type { PostgresDatabase, SqlQueryable } from "./database.ts";
import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
import { checkDate } from "./_outbox_options.ts";
import { namingMigrate } from "./_missing.ts";
import { isUnstorable } from "./_text.ts";

/**
 * Options for {@linkcode PostgresInbox}.
 */
export interface PostgresInboxOptions {
  /**
   * Prefix of the inbox table, `${tablePrefix}processed`: lower-case
   * letters, digits and underscores, at most 40 characters, not starting
   * with a digit.
   *
   * @default {"inbox_"}
   */
  tablePrefix?: string;
}

/**
 * The consumer side of at-least-once delivery: it remembers which events
 * each consumer has processed, so that a redelivered event's effects happen
 * once.
 *
 * A consumer's effects and its claim on the event (a row keyed by consumer
 * and `eventId`, inserted with a plain `INSERT`) commit in one transaction.
 * A second delivery finds the row and runs nothing; a delivery racing the
 * first waits on the row's lock and then finds it; an effect that fails
 * rolls the claim back, so the next delivery runs it again. Effects outside
 * the transaction (an HTTP call, an email) are not covered: they happen at
 * least once.
 *
 * Each consumer name is its own inbox: give every handler with effects its
 * own name, and each runs once per event.
 *
 * @example A redelivered event runs its effect once
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { createEvent } from "@seedwork/domain-events";
 * import { PostgresInbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * await db.query("CREATE TABLE credits (order_id text)");
 * const inbox = new PostgresInbox(db);
 * await inbox.migrate();
 *
 * const event = createEvent("order.paid", { orderId: "o_1" });
 * const credit = (tx: { query(text: string, params?: unknown[]): Promise<unknown> }) =>
 *   tx.query("INSERT INTO credits VALUES ($1)", [event.payload.orderId]);
 * assert.equal(await inbox.handle("credit-points", event, credit), true);
 * assert.equal(await inbox.handle("credit-points", event, credit), false); // redelivered
 * assert.deepEqual((await db.query("SELECT * FROM credits")).rows, [{ order_id: "o_1" }]);
 * await db.close();
 * ```
 */
export class PostgresInbox {
  /** The inbox table's name, from `tablePrefix`. */
  readonly table: string;
  #db: PostgresDatabase;

  /**
   * Creates the inbox; it touches the database only when called.
   *
   * @param db A `pg` Pool or a PGlite instance.
   * @param options The table prefix.
   * @throws {TypeError} When `db` is neither, or `tablePrefix` is not valid.
   */
  constructor(db: PostgresDatabase, options: PostgresInboxOptions = {}) {
    checkDatabase(db);
    checkOptions(options, ["tablePrefix"], "PostgresInbox");
    const { tablePrefix = "inbox_" } = options;
    this.table = `${checkTablePrefix(tablePrefix)}processed`;
    this.#db = db;
  }

  /**
   * Creates the table when missing: safe to run at every start, from
   * several processes at once.
   *
   * @returns A promise that resolves once the table exists.
   */
  async migrate(): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
        this.table,
      ]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          consumer text NOT NULL,
          event_id uuid NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, event_id)
        )`,
      );
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${this.table}_processed_at ON ${this.table} (processed_at)`,
      );
    });
  }

  /**
   * Claims `event` for `consumer` inside the caller's transaction `tx`:
   * `true` the first time, `false` when it was processed already (or a
   * concurrent delivery committed its claim first). Run the effects through
   * the same `tx` only when it returns `true`.
   *
   * @param tx What the caller's transaction runs on.
   * @param consumer The consumer's name, 1 to 128 characters.
   * @param event The event.
   * @returns Whether this transaction claimed the event.
   * @throws {InvalidEventError} When `event` is not a domain event.
   * @throws {TypeError} When `tx` has no `query` method or `consumer` is not valid.
   *
   * @example Inside your own transaction
   * ```ts
   * import { PGlite } from "@electric-sql/pglite";
   * import { createEvent } from "@seedwork/domain-events";
   * import { PostgresInbox } from "@seedwork/domain-events/postgres";
   * import assert from "node:assert/strict";
   *
   * const db = new PGlite();
   * const inbox = new PostgresInbox(db);
   * await inbox.migrate();
   * const event = createEvent("order.paid");
   * const first = await db.transaction((tx) => inbox.claim(tx, "ledger", event));
   * const again = await db.transaction((tx) => inbox.claim(tx, "ledger", event));
   * assert.deepEqual([first, again], [true, false]);
   * await db.close();
   * ```
   */
  async claim(
    tx: SqlQueryable,
    consumer: string,
    event: DomainEvent,
  ): Promise<boolean> {
    checkArgument(isQueryable(tx), "tx", "an object with a query method", tx);
    checkConsumer(consumer);
    assertDomainEvent(event);
    const { rows } = await namingMigrate("claim", this.table, () =>
      tx.query(
        `INSERT INTO ${this.table} (consumer, event_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING event_id`,
        [consumer, event.eventId],
      ), "inbox");
    return rows.length === 1;
  }

  /**
   * Runs `effect` for `event` once per `consumer`: in one transaction, it
   * claims the event and, when the claim is new, runs `effect` with that
   * transaction, so its writes and the claim commit together.
   *
   * @param consumer The consumer's name, 1 to 128 characters.
   * @param event The event.
   * @param effect What to do, writing through the transaction it gets.
   * @returns `true` when `effect` ran and committed, `false` when the event had been processed.
   * @throws {InvalidEventError} When `event` is not a domain event.
   * @throws {TypeError} When `consumer` is not valid.
   * @throws What `effect` throws: the claim is rolled back with its writes.
   */
  handle(
    consumer: string,
    event: DomainEvent,
    effect: (tx: SqlQueryable) => unknown,
  ): Promise<boolean> {
    try {
      checkArgument(
        typeof effect === "function",
        "effect",
        "a function of the transaction",
        effect,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return inTransaction(this.#db, async (tx) => {
      if (!await this.claim(tx, consumer, event)) return false;
      await effect(tx);
      return true;
    });
  }

  /**
   * Forgets the claims processed before `olderThan`: past that, a
   * redelivered event would run again, so keep them longer than the broker
   * may redeliver (its deduplication window and retention).
   *
   * @param options `olderThan`: the cut-off date.
   * @returns How many claims were deleted.
   * @throws {TypeError} When `olderThan` is not a valid Date.
   */
  async purge(options: { olderThan: Date }): Promise<number> {
    const olderThan = options?.olderThan;
    checkDate(olderThan, "olderThan");
    const { rows } = await namingMigrate(
      "purge",
      this.table,
      () =>
        this.#db.query(
          `DELETE FROM ${this.table} WHERE processed_at < $1 RETURNING 1`,
          [olderThan.toISOString()],
        ),
      "inbox",
    );
    return rows.length;
  }
}

function checkConsumer(consumer: unknown): void {
  checkArgument(
    typeof consumer == "string" && consumer.length >= 1 &&
      consumer.length <= 128 && !isUnstorable(consumer),
    "consumer",
    "a consumer name of 1 to 128 characters, without NUL or lone surrogates",
    consumer,
  );
}
