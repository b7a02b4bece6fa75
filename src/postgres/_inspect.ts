// What an operator reads from the outbox's tables: the per-listener counts of
// `stats()` in one statement, and the stored events of one correlation id.
import type { DomainEvent } from "../event/types.ts";
import { parseEvent } from "../parse/parse_event.ts";
import { isTraceId } from "../_shared/_envelope.ts";
import {
  checkArgument,
  checkInteger,
  checkOptions,
} from "../_shared/_arguments.ts";
import type { SqlResult } from "./database.ts";
import type { EventsOptions, ListenerStats } from "./inspect_types.ts";

/** The outbox's table names, as `PostgresOutbox#tables`. */
interface Tables {
  readonly events: string;
  readonly publications: string;
}

/** Below this many rows (planner's estimate), `completed` is counted exactly. */
const EXACT_BELOW = 10_000;

/**
 * $1 listener ids JSON → one row per listener, registered or with pending or
 * failed publications, as {@linkcode ListenerStats} but `paused`. Pending and
 * failed rows are read through their partial indexes; completed ones are
 * counted only while the table is small, and estimated from
 * pg_class.reltuples and the most common values of listener_id in pg_stats
 * beyond.
 *
 * In `open`, failed rows carry NULL for the columns only pending ones need,
 * and each registered id a row of NULLs: no filter counts them, yet each
 * listener has its row. A pending row's time is capped to now(): one stored
 * after this statement's transaction began would have a negative age.
 * `exact` counts only while the table is small (a one-time filter), and at
 * most EXACT_BELOW rows: the plan's cost stays small whatever the table's
 * size (a costly plan would also be compiled by JIT).
 */
export function statsStatement(tables: Tables): string {
  const { publications } = tables;
  const rows = "(SELECT rows FROM size)";
  return "WITH open AS (SELECT listener_id," +
    " count(*) FILTER (WHERE status = 'pending')::float8 AS pending," +
    " count(*) FILTER (WHERE available_at <= now()" +
    " AND (locked_until IS NULL OR locked_until <= now()))::float8 AS due," +
    " count(*) FILTER (WHERE locked_until > now())::float8 AS leased," +
    " count(*) FILTER (WHERE status = 'failed')::float8 AS failed," +
    " min(created_at) AS oldest" +
    " FROM (SELECT listener_id, status, available_at, locked_until," +
    " least(created_at, now()) AS created_at" +
    ` FROM ${publications} WHERE status = 'pending'` +
    " UNION ALL SELECT listener_id, status, NULL, NULL, NULL" +
    ` FROM ${publications} WHERE status = 'failed'` +
    " UNION ALL SELECT json_array_elements_text($1::text::json)," +
    " NULL, NULL, NULL, NULL) AS o" +
    " GROUP BY listener_id)," +
    " size AS (SELECT c.reltuples::float8 AS rows, n.nspname AS schema" +
    " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace" +
    ` WHERE c.oid = to_regclass('${publications}')),` +
    " common AS (SELECT m.listener_id, m.freq::float8 AS freq" +
    " FROM pg_stats AS s, size," +
    " unnest(s.most_common_vals::text::text[], s.most_common_freqs)" +
    " AS m(listener_id, freq)" +
    ` WHERE s.schemaname = size.schema AND s.tablename = '${publications}'` +
    " AND s.attname = 'listener_id')," +
    " exact AS (SELECT listener_id, count(*) AS n FROM (" +
    ` SELECT listener_id FROM ${publications}` +
    ` WHERE status = 'completed' AND ${rows} < ${EXACT_BELOW}` +
    ` LIMIT ${EXACT_BELOW}) AS c` +
    " GROUP BY listener_id)" +
    ' SELECT o.listener_id AS "listenerId", pending, due, leased, failed,' +
    ` CASE WHEN ${rows} < ${EXACT_BELOW} THEN coalesce(x.n, 0)` +
    ` ELSE greatest(0, round(${rows} * coalesce(c.freq, 0)) - pending - failed)` +
    " END::float8 AS completed," +
    " round(extract(epoch FROM now() - oldest) * 1000)::float8" +
    ' AS "oldestPendingAgeMs"' +
    " FROM open AS o LEFT JOIN common AS c USING (listener_id)" +
    " LEFT JOIN exact AS x USING (listener_id)" +
    " ORDER BY o.listener_id";
}

/** Runs a statement with its parameters (the outbox names migrate() when its tables are missing). */
type Query = (text: string, params: unknown[]) => Promise<SqlResult>;

/**
 * Runs {@linkcode statsStatement} for the listeners registered on `outbox`;
 * `paused` is whether the listener's breaker is open in this process
 * (`pausedListeners`).
 */
export async function readStats(
  query: Query,
  outbox: {
    readonly tables: Tables;
    pausedListeners(): readonly { readonly listenerId: string }[];
  },
  listeners: ReadonlyMap<string, unknown>,
): Promise<ListenerStats[]> {
  const paused = new Set(
    outbox.pausedListeners().map(({ listenerId }) => listenerId),
  );
  const { rows } = await query(statsStatement(outbox.tables), [
    JSON.stringify([...listeners.keys()]),
  ]);
  return (rows as Omit<ListenerStats, "paused">[]).map((row) => ({
    ...row,
    paused: paused.has(row.listenerId),
  }));
}

/**
 * Checks the options, reads the events of the correlation id, oldest first,
 * and parses each.
 */
export async function readEvents(
  query: Query,
  outbox: { readonly tables: Tables },
  options: EventsOptions,
): Promise<DomainEvent[]> {
  checkOptions(options, ["correlationId", "limit"], "events");
  const { correlationId, limit = 1000 } = options;
  checkArgument(
    isTraceId(correlationId),
    "correlationId",
    "1-128 ASCII characters without whitespace or control characters",
    correlationId,
  );
  checkInteger(limit, "limit", 1, 10_000);
  const { rows } = await query(
    `SELECT body::text AS body FROM ${outbox.tables.events}` +
      " WHERE correlation_id = $1::text" +
      " ORDER BY occurred_at, stored_at, event_id" +
      " LIMIT $2::int",
    [correlationId, limit],
  );
  return (rows as { body: string }[]).map(({ body }) =>
    parseEvent(body, { maxLength: body.length })
  );
}
