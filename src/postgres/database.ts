// What the PostgreSQL outbox needs from a driver, declared structurally so
// that the library imports no driver: a `pg` Pool, a PGlite instance, their
// clients and transactions all fit as they are.

/**
 * A result with rows, as `pg` and PGlite return them.
 *
 * @example Usage
 * ```ts
 * import type { SqlResult } from "@seedwork/domain-events/postgres";
 *
 * const result: SqlResult = { rows: [{ id: 1 }] };
 * ```
 */
export interface SqlResult {
  /** The rows, one object per row keyed by column name. */
  readonly rows: readonly unknown[];
}

/**
 * Anything that runs one SQL statement with `$1`-style parameters: a PGlite
 * instance or transaction, a `pg` Pool or client (inside `BEGIN` when it
 * should be transactional). Other drivers fit through a few lines of
 * adapter (docs/outbox.md shows postgres.js).
 *
 * @example The shape, for an adapter to another driver
 * ```ts
 * import type { SqlQueryable } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const queryable: SqlQueryable = {
 *   query(text, params = []) {
 *     seen.push(text);
 *     return Promise.resolve({ rows: [{ params }] });
 *   },
 * };
 * assert.deepEqual((await queryable.query("SELECT $1::int", [1])).rows, [{ params: [1] }]);
 * assert.deepEqual(seen, ["SELECT $1::int"]);
 * ```
 */
export interface SqlQueryable {
  /** Runs `text` with `params` and resolves with its rows. */
  query(text: string, params?: unknown[]): Promise<SqlResult>;
}

/**
 * A PGlite instance, as {@linkcode PostgresOutbox} uses it: it runs a
 * callback inside one transaction.
 *
 * @example Usage
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import type { PGliteLike } from "@seedwork/domain-events/postgres";
 *
 * function forTheOutbox(db: PGlite): PGliteLike {
 *   return db;
 * }
 * ```
 */
export interface PGliteLike extends SqlQueryable {
  /** Runs `callback` inside `BEGIN`/`COMMIT`; a rejection rolls back. */
  transaction<T>(callback: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/**
 * A client checked out of a `pg` Pool.
 *
 * @example Usage
 * ```ts
 * import type { PgPoolClientLike } from "@seedwork/domain-events/postgres";
 *
 * async function inTransaction(client: PgPoolClientLike): Promise<void> {
 *   try {
 *     await client.query("BEGIN");
 *     await client.query("COMMIT");
 *   } finally {
 *     client.release();
 *   }
 * }
 * ```
 */
export interface PgPoolClientLike extends SqlQueryable {
  /** Gives the client back to its pool; with an error, the pool drops it. */
  release(error?: Error | boolean): void;
}

/**
 * A `pg` Pool, as {@linkcode PostgresOutbox} uses it: it lends clients.
 *
 * @example Usage
 * ```ts
 * import pg from "pg";
 * import type { PgPoolLike } from "@seedwork/domain-events/postgres";
 *
 * function forTheOutbox(pool: pg.Pool): PgPoolLike {
 *   return pool;
 * }
 * ```
 */
export interface PgPoolLike extends SqlQueryable {
  /** Checks a client out of the pool. */
  connect(): Promise<PgPoolClientLike>;
}

/**
 * The database a {@linkcode PostgresOutbox} runs on: a `pg` Pool or a PGlite
 * instance, told apart by shape (PGlite has `transaction`, a Pool `connect`).
 *
 * @example Usage
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import type { PostgresDatabase } from "@seedwork/domain-events/postgres";
 *
 * function forTheOutbox(db: PGlite): PostgresDatabase {
 *   return db;
 * }
 * ```
 */
export type PostgresDatabase = PgPoolLike | PGliteLike;
