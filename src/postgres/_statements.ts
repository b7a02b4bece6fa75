/**
 * The SQL of the PostgreSQL outbox, built once per table prefix (checked by
 * `checkTablePrefix` before it gets here: no user input is interpolated
 * unchecked). Every value travels as a parameter; lists travel as one JSON
 * text parameter, so `pg` and PGlite send them the same way.
 */

/** The statements of one outbox, for its table prefix. */
export interface OutboxStatements {
  /** Idempotent DDL, one statement each, run in one transaction. */
  readonly migrate: readonly string[];
  /** $1 [{ n: index, i: id, t: type, o: occurredAt ms, c: correlation, k: causation, g: ordering key, b: event JSON }] JSON, $2 [{ n: index, i: event id, l: listener id }] JSON → { events, publications }; with a publication, NOTIFY on the channel named after the publications table (delivered at commit). */
  readonly store: string;
  /**
   * $1 limit, $2 lease ms, $3 lease token, $4 listener ids JSON → claimed
   * rows, by id. A publication with an ordering key waits while one of its
   * listener and key whose event was stored earlier (by `seq`, so a
   * backfilled publication keeps its event's place) is not completed. The
   * claimed rows are updated by primary key and each body read by its
   * event's: joined instead, the planner may scan both tables whole.
   */
  readonly claim: string;
  /**
   * Run before `claim`, in its transaction: the planner then walks the
   * partial index of pending rows in order and stops at the limit. On tables
   * never analyzed (new, restored, or bulk-filled since autovacuum last ran)
   * it otherwise reads and sorts every pending row for each claim.
   */
  readonly planByIndex: string;
  /**
   * $1 lease token, $2 ids JSON → the rows this claim still holds, locked
   * until the transaction ends, in id order. It waits for the row locks
   * rather than skipping them: another relay's claim statement may hold one
   * for a moment (and then passes it by), or the transaction of a relay that
   * took it over, until that one commits. Only a pending row holds a lease
   * token (every other change clears it), so it tests no status: with one,
   * the planner may walk the whole partial index of pending rows for ids it
   * would find by primary key (9 ms for 50 ids among 20,000 pending).
   */
  readonly lock: string;
  /** $1 ids JSON. */
  readonly complete: string;
  /** $1 id, $2 lease token, $3 error text, $4 retry delay ms or null to fail now, $5 max attempts → { status }. */
  readonly fail: string;
  /** $1 id, $2 lease token, $3 delay ms, $4 error text or null to keep it → { status }: pending again, attempts unchanged. */
  readonly defer: string;
  /** $1 lease token, $2 ids JSON: their leases end, nothing else changes (by primary key, as `lock`). */
  readonly release: string;
  /** $1 listener id, $2 event type or null for all, $3 ISO time or null → { count }. */
  readonly backfill: string;
  /**
   * $1 limit → failed rows: [0] oldest failure first, [1] newest first (the
   * partial index of failed rows scanned backward).
   */
  readonly failed: readonly [string, string];
  /** $1 listener id or null, $2 event id or null, $3 publication id or null → { count }. */
  readonly resubmit: string;
  /** $1 ISO time → { publications, events }. */
  readonly purge: string;
}

/** Builds the statements for tables named `${prefix}events` and `${prefix}publications`. */
export function outboxStatements(prefix: string): OutboxStatements {
  const events = `${prefix}events`;
  const publications = `${prefix}publications`;
  return {
    migrate: [
      `SELECT pg_advisory_xact_lock(hashtext('${publications}'))`,
      `CREATE TABLE IF NOT EXISTS ${events} (` +
      "event_id uuid PRIMARY KEY," +
      " event_type text NOT NULL," +
      " occurred_at timestamptz NOT NULL," +
      " correlation_id text," +
      " causation_id text," +
      " body json NOT NULL," +
      " stored_at timestamptz NOT NULL DEFAULT now())",
      `ALTER TABLE ${events}` +
      " ADD COLUMN IF NOT EXISTS seq bigint GENERATED ALWAYS AS IDENTITY," +
      " ADD COLUMN IF NOT EXISTS ordering_key text",
      `CREATE TABLE IF NOT EXISTS ${publications} (` +
      "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY," +
      ` event_id uuid NOT NULL REFERENCES ${events} (event_id),` +
      " listener_id text NOT NULL," +
      " status text NOT NULL DEFAULT 'pending'" +
      " CHECK (status IN ('pending', 'completed', 'failed'))," +
      " attempts integer NOT NULL DEFAULT 0," +
      " available_at timestamptz NOT NULL DEFAULT now()," +
      " locked_until timestamptz," +
      " lease_token uuid," +
      " last_error text," +
      " created_at timestamptz NOT NULL DEFAULT now()," +
      " completed_at timestamptz," +
      " failed_at timestamptz," +
      " UNIQUE (event_id, listener_id))",
      `ALTER TABLE ${publications} ADD COLUMN IF NOT EXISTS ordering_key text`,
      `CREATE INDEX IF NOT EXISTS ${publications}_due` +
      ` ON ${publications} (available_at, id) WHERE status = 'pending'`,
      `CREATE INDEX IF NOT EXISTS ${publications}_ordering` +
      ` ON ${publications} (listener_id, ordering_key, id)` +
      " WHERE status <> 'completed' AND ordering_key IS NOT NULL",
      `CREATE INDEX IF NOT EXISTS ${events}_stored` +
      ` ON ${events} (event_type, seq)`,
      `CREATE INDEX IF NOT EXISTS ${publications}_completed` +
      ` ON ${publications} (completed_at) WHERE status = 'completed'`,
      `CREATE INDEX IF NOT EXISTS ${publications}_failed` +
      ` ON ${publications} (failed_at) WHERE status = 'failed'`,
    ],
    store: `WITH inserted AS (
        INSERT INTO ${events} (event_id, event_type, occurred_at,
          correlation_id, causation_id, ordering_key, body)
        SELECT i, t, to_timestamp(o / 1000), c, k, g, b::json
        FROM json_to_recordset($1::text::json) AS input(n int, i uuid,
          t text, o float8, c text, k text, g text, b text)
        ORDER BY n
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id, ordering_key
      ), created AS (
        INSERT INTO ${publications} (event_id, listener_id, ordering_key)
        SELECT t.i, t.l, e.ordering_key
        FROM json_to_recordset($2::text::json) AS t(n int, i uuid, l text)
        JOIN inserted AS e ON e.event_id = t.i
        ORDER BY t.n
        RETURNING 1
      ), notified AS (
        SELECT pg_notify('${publications}', '') FROM created LIMIT 1
      )
      SELECT (SELECT count(*) FROM inserted)::int AS events,
        (SELECT count(*) FROM created)::int AS publications
      FROM (SELECT count(*) FROM notified) AS wake_relays_at_commit`,
    claim: `WITH due AS (
        SELECT id FROM ${publications} AS p
        WHERE status = 'pending' AND available_at <= now()
          AND (locked_until IS NULL OR locked_until <= now())
          AND listener_id = ANY (ARRAY(
            SELECT json_array_elements_text($4::text::json)))
          AND (ordering_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM ${publications} AS q
            JOIN ${events} AS qe ON qe.event_id = q.event_id
            WHERE q.listener_id = p.listener_id
              AND q.ordering_key = p.ordering_key
              AND q.status <> 'completed'
              AND qe.seq < (SELECT seq FROM ${events} WHERE event_id = p.event_id)
          ))
        ORDER BY available_at, id
        LIMIT $1::int
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE ${publications} AS p
        SET locked_until = now() + $2::float8 * interval '1 millisecond',
          lease_token = $3::text::uuid
        WHERE p.id = ANY (ARRAY(SELECT id FROM due))
        RETURNING p.id, p.listener_id, p.attempts, (SELECT e.body::text
          FROM ${events} AS e WHERE e.event_id = p.event_id) AS body
      )
      SELECT id::text AS id, listener_id, attempts, body
      FROM claimed ORDER BY claimed.id`,
    planByIndex: "SELECT set_config('enable_seqscan', 'off', true)," +
      " set_config('enable_bitmapscan', 'off', true)",
    lock: `SELECT id::text AS id FROM ${publications}
      WHERE lease_token = $1::text::uuid
        AND id = ANY (ARRAY(
          SELECT json_array_elements_text($2::text::json)::bigint))
      ORDER BY id FOR UPDATE`,
    complete: `UPDATE ${publications}
      SET status = 'completed', completed_at = now(), locked_until = NULL,
        lease_token = NULL
      WHERE id = ANY (ARRAY(
        SELECT json_array_elements_text($1::text::json)::bigint))`,
    fail: `UPDATE ${publications}
      SET attempts = attempts + 1, last_error = $3::text,
        status = CASE WHEN $4::float8 IS NULL OR attempts + 1 >= $5::int
          THEN 'failed' ELSE 'pending' END,
        failed_at = CASE WHEN $4::float8 IS NULL OR attempts + 1 >= $5::int
          THEN now() END,
        available_at = now() + coalesce($4::float8, 0) * interval '1 millisecond',
        locked_until = NULL, lease_token = NULL
      WHERE id = $1::text::bigint AND lease_token = $2::text::uuid
        AND status = 'pending'
      RETURNING status`,
    defer: `UPDATE ${publications}
      SET available_at = now() + $3::float8 * interval '1 millisecond',
        last_error = coalesce($4::text, last_error),
        locked_until = NULL, lease_token = NULL
      WHERE id = $1::text::bigint AND lease_token = $2::text::uuid
        AND status = 'pending'
      RETURNING status`,
    release: `UPDATE ${publications}
      SET locked_until = NULL, lease_token = NULL
      WHERE lease_token = $1::text::uuid
        AND id = ANY (ARRAY(
          SELECT json_array_elements_text($2::text::json)::bigint))`,
    backfill: "WITH created AS (" +
      `INSERT INTO ${publications} (event_id, listener_id, ordering_key)` +
      ` SELECT event_id, $1::text, ordering_key FROM ${events}` +
      " WHERE ($2::text IS NULL OR event_type = $2::text)" +
      " AND ($3::text IS NULL OR stored_at >= $3::text::timestamptz)" +
      " ORDER BY seq FOR KEY SHARE" +
      " ON CONFLICT (event_id, listener_id) DO NOTHING" +
      " RETURNING 1)" +
      " SELECT count(*)::int AS count FROM created",
    failed: ["", " DESC"].map((order) =>
      "SELECT p.id::text AS id, p.listener_id, p.attempts, p.last_error," +
      " (extract(epoch FROM p.failed_at) * 1000)::float8 AS failed_ms," +
      " e.body::text AS body" +
      ` FROM ${publications} AS p JOIN ${events} AS e ON e.event_id = p.event_id` +
      " WHERE p.status = 'failed'" +
      ` ORDER BY p.failed_at${order}, p.id${order}` +
      " LIMIT $1::int"
    ) as [string, string],
    resubmit: "WITH resubmitted AS (" +
      `UPDATE ${publications}` +
      " SET status = 'pending', attempts = 0, available_at = now(), failed_at = NULL" +
      " WHERE status = 'failed'" +
      " AND ($1::text IS NULL OR listener_id = $1::text)" +
      " AND ($2::text IS NULL OR event_id = $2::text::uuid)" +
      " AND ($3::text IS NULL OR id = $3::text::bigint)" +
      " RETURNING 1)" +
      " SELECT count(*)::int AS count FROM resubmitted",
    purge: "WITH purged AS (" +
      `DELETE FROM ${publications}` +
      " WHERE status = 'completed' AND completed_at < $1::text::timestamptz" +
      " RETURNING id)," +
      " orphans AS (" +
      `DELETE FROM ${events} WHERE event_id IN (` +
      `SELECT event_id FROM ${events} AS e` +
      " WHERE e.stored_at < $1::text::timestamptz" +
      ` AND NOT EXISTS (SELECT 1 FROM ${publications} AS p` +
      " WHERE p.event_id = e.event_id AND p.id NOT IN (SELECT id FROM purged))" +
      " FOR UPDATE SKIP LOCKED)" +
      " RETURNING 1)" +
      " SELECT (SELECT count(*) FROM purged)::int AS publications," +
      " (SELECT count(*) FROM orphans)::int AS events",
  };
}
