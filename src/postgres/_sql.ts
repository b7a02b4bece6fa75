import { checkArgument } from "../_shared/_arguments.ts";
import type { PostgresDatabase, SqlQueryable, SqlResult } from "./database.ts";

/** Tells whether `value` has a `query` method. */
export function isQueryable(value: unknown): value is SqlQueryable {
  return typeof value === "object" && value !== null &&
    typeof (value as { query?: unknown }).query === "function";
}

/** What node-postgres's Client and PoolClient have beyond a query, all public. */
interface PgClient {
  escapeIdentifier(text: string): string;
  escapeLiteral(text: string): string;
  query(
    config: { name: string; text: string; values: unknown[] | undefined },
  ): Promise<SqlResult>;
}

/**
 * `queryable`, running its queries as the named statement `name` when
 * `enabled` and it is a node-postgres client (it has `escapeIdentifier` and
 * `escapeLiteral`; PGlite and adapters do not): pg then has the server parse
 * and plan the text once per connection instead of at every call. Anything
 * else is `queryable` itself, called with `(text, params)`.
 *
 * The name is safe when it is used for one text only in a process: pg keeps
 * prepared statements per connection, a connection belongs to one process,
 * and pg rejects a name reused for another text rather than run the wrong one.
 */
export function namedOn(
  queryable: SqlQueryable,
  name: string,
  enabled: boolean,
): SqlQueryable {
  const client = queryable as SqlQueryable & Partial<PgClient>;
  return enabled && typeof client.escapeIdentifier == "function" &&
      typeof client.escapeLiteral == "function"
    ? {
      query: (text, values) =>
        (client as PgClient).query({ name, text, values }),
    }
    : queryable;
}

/**
 * Checks that `db` is a `pg` Pool or a PGlite instance, by shape: `query`,
 * and `transaction` (PGlite) or `connect` (a Pool).
 *
 * @throws {TypeError} When it is neither.
 */
export function checkDatabase(db: unknown): void {
  checkArgument(
    isQueryable(db) &&
      (typeof (db as { transaction?: unknown }).transaction === "function" ||
        typeof (db as { connect?: unknown }).connect === "function"),
    "db",
    "a pg Pool or a PGlite instance (query with transaction or connect)",
    db,
  );
  // pg emits "error" on a Pool for an idle client whose connection was cut
  // (a server restart): unlistened, it ends the process. The pool drops that
  // client and connects anew on the next query: nothing else to do.
  // Removed first, so that a pool shared by several outboxes has it once.
  const pool = db as object;
  if (isEmitter(pool)) {
    pool.removeListener("error", ignore);
    pool.on("error", ignore);
  }
}

/** What pg's Pool and Client have of Node's EventEmitter. */
interface ErrorEmitter {
  on(event: "error", listener: () => void): unknown;
  removeListener(event: "error", listener: () => void): unknown;
}

function isEmitter(value: object): value is ErrorEmitter {
  return typeof (value as Partial<ErrorEmitter>).on === "function" &&
    typeof (value as Partial<ErrorEmitter>).removeListener === "function";
}

function ignore(): void {}

/**
 * Runs `work` inside one transaction on `db`: PGlite's own `transaction`, or
 * `BEGIN`/`COMMIT` on a client of the pool. A rejection of `work` or of the
 * commit rolls back and rejects with the same error.
 */
export async function inTransaction<T>(
  db: PostgresDatabase,
  work: (tx: SqlQueryable) => Promise<T>,
): Promise<T> {
  if ("transaction" in db) return await db.transaction(work);
  const client = await db.connect();
  // pg also emits "error" on a checked-out client whose connection is cut;
  // the query in flight rejects with it, so listening is all it takes to
  // keep it from ending the process.
  const emitter = isEmitter(client) ? client : undefined;
  emitter?.on("error", ignore);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw error;
    }
  } finally {
    emitter?.removeListener("error", ignore);
    client.release(broken);
  }
}

/**
 * Checks a table prefix: lower-case letters, digits and underscores, starting
 * with a letter or an underscore, at most 40 characters (PostgreSQL keeps 63
 * bytes of a name, and the outbox appends suffixes).
 */
export function checkTablePrefix(prefix: unknown): string {
  checkArgument(
    typeof prefix === "string" && /^[a-z_][a-z0-9_]{0,39}$/.test(prefix),
    "tablePrefix",
    "lower-case letters, digits and underscores (at most 40, not starting with a digit)",
    prefix,
  );
  return prefix as string;
}
