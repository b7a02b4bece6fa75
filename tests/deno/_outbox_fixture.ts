// One PGlite database per test file and the outbox helpers the PGlite tests
// share. Not a test file itself: `deno test` runs only names ending in
// `_test.ts`. Call `outboxFixture()` once, at the top of a test file.
import { after, before } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import type { DomainEvent } from "../../mod.ts";
import {
  type PgPoolLike,
  PostgresOutbox,
  type PostgresOutboxOptions,
  type StoreResult,
} from "../../postgres.ts";

/** The file's database and what its tests do with outboxes on it. */
export interface OutboxFixture {
  /** The file's database: ready in every test, closed after the file. */
  readonly db: PGlite;
  /** A table prefix no other outbox of this file uses. */
  freshPrefix(): string;
  /**
   * A migrated outbox on fresh tables: the file's defaults, then `options`
   * (a `tablePrefix` among them shares tables on purpose).
   */
  fresh(
    options?: PostgresOutboxOptions,
    database?: PGlite | PgPoolLike,
  ): Promise<PostgresOutbox>;
  /** Stores `events` through `outbox` in a transaction of its own. */
  storeIn(
    outbox: PostgresOutbox,
    events: DomainEvent | readonly DomainEvent[],
  ): Promise<StoreResult>;
  /** The rows `sql` selects. */
  rows<T>(sql: string): Promise<T[]>;
  /** `count(*)` of `table`. */
  count(table: string): Promise<number>;
  /** Publications by status, e.g. `{ pending: 2, completed: 1 }`. */
  statuses(outbox: PostgresOutbox): Promise<Record<string, number>>;
  /** Runs batches of `limit` until one does nothing; returns how many ran. */
  drain(outbox: PostgresOutbox, limit?: number): Promise<number>;
}

/**
 * Opens a PGlite database before the file's tests and closes it after them.
 * `defaults` are the options of every `fresh()` outbox: failures retry at
 * once unless the file says otherwise.
 */
export function outboxFixture(
  defaults: PostgresOutboxOptions = { retryDelayMs: 0 },
): OutboxFixture {
  const db = new PGlite();
  let prefixes = 0;
  before(() => db.waitReady);
  after(() => db.close());
  const freshPrefix = () => `t${++prefixes}_`;
  const rows = async <T>(sql: string): Promise<T[]> =>
    (await db.query<T>(sql)).rows;
  return {
    db,
    freshPrefix,
    async fresh(options = {}, database = db) {
      const outbox = new PostgresOutbox(database, {
        tablePrefix: freshPrefix(),
        ...defaults,
        ...options,
      });
      await outbox.migrate();
      return outbox;
    },
    storeIn: (outbox, events) =>
      db.transaction((tx) => outbox.store(tx, events)),
    rows,
    async count(table) {
      const [row] = await rows<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table}`,
      );
      return row?.n ?? -1;
    },
    async statuses(outbox) {
      const counted = await rows<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM ${outbox.tables.publications} GROUP BY status`,
      );
      return Object.fromEntries(counted.map((row) => [row.status, row.n]));
    },
    async drain(outbox, limit = 100) {
      for (let batches = 0;; batches++) {
        const { completed, retried, failed } = await outbox.processPending({
          limit,
        });
        if (completed + retried + failed === 0) return batches;
      }
    },
  };
}

/** The table prefix `outbox` was made with, to open its tables again. */
export function tablePrefixOf(outbox: PostgresOutbox): string {
  return outbox.tables.events.slice(0, -"events".length);
}

export { until } from "../_until.ts";
