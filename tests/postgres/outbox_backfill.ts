// backfill racing purgeCompleted on a real PostgreSQL server (imported by
// outbox_suite.ts, run by `deno task test:postgres`). The window is forced,
// not hoped for: another transaction holds an uncommitted publication of the
// first event, so backfill's INSERT (its snapshot taken, every event selected)
// waits on it, and meanwhile a purge commits deleting the other events. Before
// the fix backfill then rejected with PostgreSQL's foreign-key violation
// (23503); if it skipped too much, the ledger (our own count of stored events
// without the listener's publication) would be above zero.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import type { PostgresServer } from "../_servers/postgres.ts";
import { suiteServer, waitFor } from "./_suite_server.ts";
import { inTransaction } from "./_transaction.ts";

let server: PostgresServer;
let pool: pg.Pool;
suiteServer(6, (started) => ({ server, pool } = started));

/** A migrated outbox of `prefix` with 5 events stored an hour ago, none of them published. */
async function storedHourAgo(prefix: string) {
  const storing = new PostgresOutbox(pool, { tablePrefix: prefix });
  await storing.migrate();
  const stored = Array.from(
    { length: 5 },
    (_, n) => createEvent("race.event", { n }),
  );
  await inTransaction(pool, (client) => storing.store(client, stored));
  await pool.query(
    `UPDATE ${storing.tables.events} SET stored_at = now() - interval '1 hour'`,
  );
  const backfilling = new PostgresOutbox(pool, { tablePrefix: prefix });
  backfilling.registerAny("late", () => {});
  return { storing, backfilling, stored, ...storing.tables };
}

/**
 * Inserts, on `on` (a client inside a transaction, to hold it uncommitted, or
 * the pool), a pending publication of "late" for the event `eventId`.
 */
async function publishLate(
  on: pg.Pool | pg.PoolClient,
  tables: { readonly events: string; readonly publications: string },
  eventId: string,
): Promise<void> {
  await on.query(
    `INSERT INTO ${tables.publications} (event_id, listener_id, ordering_key)
     SELECT event_id, 'late', ordering_key FROM ${tables.events}
     WHERE event_id = $1::uuid`,
    [eventId],
  );
}

/** Inserts a publication of "done" for the event `eventId`, completed an hour ago. */
async function completedAnHourAgo(
  tables: { readonly events: string; readonly publications: string },
  eventId: string,
): Promise<void> {
  await pool.query(
    `INSERT INTO ${tables.publications}
       (event_id, listener_id, ordering_key, status, completed_at)
     SELECT event_id, 'done', ordering_key, 'completed',
       now() - interval '1 hour'
     FROM ${tables.events} WHERE event_id = $1::uuid`,
    [eventId],
  );
}

/** How many events are stored, and how many of them lack a publication of "late". */
async function ledger(events: string, publications: string) {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM ${events})::int AS events,
       (SELECT count(*) FROM ${events} AS e WHERE NOT EXISTS (
         SELECT 1 FROM ${publications} AS p
         WHERE p.event_id = e.event_id AND p.listener_id = 'late'))::int
         AS missing`,
  );
  return rows[0] as { events: number; missing: number };
}

/** Whether one statement starting with `start` (a LIKE pattern) waits on a lock right now. */
async function waiting(start: string): Promise<boolean> {
  const { rows } = await pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity" +
      " WHERE wait_event_type = 'Lock' AND query LIKE $1",
    [start],
  );
  return (rows[0] as { n: number }).n === 1;
}

/** Whether backfill's statement waits on a lock right now. */
const backfillWaits = () => waiting("WITH created AS%");

/** `text` as an SQL string literal. */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

describe("backfill racing purgeCompleted", () => {
  it("never rejects with a raw error, and every event left has its publication", async () => {
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      const { storing, backfilling, stored, events, publications } =
        await storedHourAgo(`race${round}_`);
      // The first event (lowest seq) is recent, so the purge keeps it; the
      // others are old and have no publication, so the purge deletes them.
      await pool.query(
        `UPDATE ${events} SET stored_at = now() + interval '1 hour'
         WHERE event_id = $1::uuid`,
        [stored[0]!.eventId],
      );
      const holder = await pool.connect();
      try {
        await holder.query("BEGIN");
        await publishLate(holder, { events, publications }, stored[0]!.eventId);
        const backfill = backfilling.backfill("late").then(
          (count) => ({ count }),
          (error: unknown) => ({ error }),
        );
        await waitFor(
          backfillWaits,
          "backfill waiting on the held publication",
        );
        const purged = await storing.purgeCompleted({ olderThan: new Date() });
        assert.deepEqual(purged, { publications: 0, events: 4 });
        // Half the rounds commit the held publication, half roll it back.
        await holder.query(round % 2 === 0 ? "COMMIT" : "ROLLBACK");
        const outcome = await backfill;
        assert.ok(
          !("error" in outcome),
          `round ${round}: ${"error" in outcome ? String(outcome.error) : ""}`,
        );
        assert.equal(outcome.count, round % 2 === 0 ? 0 : 1);
      } finally {
        holder.release();
      }
      assert.deepEqual(await ledger(events, publications), {
        events: 1,
        missing: 0,
      });
    }
  });

  // The other side: backfill has locked and given publications to the first
  // four events and waits on the fifth. Before purge skipped locked events it
  // waited for backfill, then its own foreign-key check found the new
  // publications and it rejected with 23503; here it must return at once
  // (backfill still waiting) and delete none of the events backfill holds.
  it("a purge skips the events a running backfill holds, neither waiting nor failing", async () => {
    const { storing, backfilling, stored, events, publications } =
      await storedHourAgo("held_");
    const holder = await pool.connect();
    try {
      await holder.query("BEGIN");
      await publishLate(holder, { events, publications }, stored[4]!.eventId);
      const backfill = backfilling.backfill("late");
      await waitFor(backfillWaits, "backfill waiting on the fifth event");
      const purged = await storing.purgeCompleted({ olderThan: new Date() });
      assert.deepEqual(purged, { publications: 0, events: 0 });
      assert.ok(await backfillWaits(), "purge returned before backfill did");
      await holder.query("COMMIT");
      assert.equal(await backfill, 4);
    } finally {
      holder.release();
    }
    assert.deepEqual(await ledger(events, publications), {
      events: 5,
      missing: 0,
    });
  });

  // The window purgeCompleted retries: its statement has taken its snapshot
  // and waits on a completed publication another transaction holds FOR
  // UPDATE; meanwhile a whole backfill runs and commits (purge has locked no
  // event yet, so nothing stops it). Purge's snapshot sees none of backfill's
  // publications, so it goes on to delete all 5 events, and its foreign-key
  // check, which sees committed rows, finds them: 23503. Before the retry it
  // rejected with that raw error; now a second attempt, with a snapshot that
  // sees the publications, deletes the completed publication and no event.
  it("a backfill committing inside a running purge: purge retries and deletes no event backfill covered", async () => {
    const { storing, backfilling, stored, events, publications } =
      await storedHourAgo("inside_");
    await completedAnHourAgo({ events, publications }, stored[0]!.eventId);
    const holder = await pool.connect();
    let purge: Promise<{ purged: unknown } | { error: unknown }>;
    try {
      await holder.query("BEGIN");
      await holder.query(
        `SELECT 1 FROM ${publications} WHERE listener_id = 'done' FOR UPDATE`,
      );
      purge = storing.purgeCompleted({ olderThan: new Date() }).then(
        (purged) => ({ purged }),
        (error: unknown) => ({ error }),
      );
      await waitFor(
        () => waiting("WITH purged AS%"),
        "purge waiting on the held publication",
      );
      assert.equal(await backfilling.backfill("late"), 5);
      await holder.query("COMMIT");
    } finally {
      holder.release();
    }
    const outcome = await purge;
    assert.ok(
      !("error" in outcome),
      String((outcome as { error?: unknown }).error),
    );
    assert.deepEqual(outcome.purged, { publications: 1, events: 0 });
    assert.deepEqual(await ledger(events, publications), {
      events: 5,
      missing: 0,
    });
  });

  // Past 3 attempts purgeCompleted gives up with an error of its own. Each
  // attempt must meet a new backfill inside it, which a held lock cannot
  // arrange three times in a row (the retry starts at once); a trigger can:
  // deleting the completed publication (purge's first step, after its
  // snapshot) commits, through dblink on a connection of its own, a
  // publication for the oldest event without one, as a backfill would. The
  // trigger's publications are the ledger of attempts: 3 exactly (a 4th
  // attempt, or none retried, would show), and every event is still there
  // (each attempt rolled back).
  it("a backfill inside each of 3 attempts: purgeCompleted rejects naming itself, the 23503 as cause", async () => {
    const { storing, stored, events, publications } = await storedHourAgo(
      "thrice_",
    );
    await pool.query("CREATE EXTENSION IF NOT EXISTS dblink");
    await completedAnHourAgo({ events, publications }, stored[0]!.eventId);
    const backfillOne = `INSERT INTO ${publications}
      (event_id, listener_id, ordering_key)
      SELECT event_id, 'late', ordering_key FROM ${events} AS e
      WHERE NOT EXISTS (SELECT 1 FROM ${publications} AS p
        WHERE p.event_id = e.event_id)
      ORDER BY seq LIMIT 1`;
    await pool.query(
      `CREATE FUNCTION thrice_backfill() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM dblink_exec(${literal(server.url)}, ${literal(backfillOne)});
         RETURN OLD;
       END $$`,
    );
    await pool.query(
      `CREATE TRIGGER backfill_inside BEFORE DELETE ON ${publications}
       FOR EACH ROW EXECUTE FUNCTION thrice_backfill()`,
    );
    const error = await storing.purgeCompleted({ olderThan: new Date() }).then(
      () => assert.fail("purgeCompleted resolved"),
      (error: unknown) => error as Error & { cause?: { code?: string } },
    );
    assert.match(error.message, /^purgeCompleted: /);
    assert.equal(error.cause?.code, "23503");
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${publications} WHERE listener_id = 'late'`,
    );
    assert.deepEqual(rows, [{ n: 3 }]);
    assert.equal((await ledger(events, publications)).events, 5);
  });

  // Unforced: 50 rounds of a backfill and a purge started together, each
  // round on 5 fresh events, in whatever order the server interleaves them.
  // Neither may reject: the window above (about 1 round in 50 before the
  // retry) is now retried, and 3 in a row is far out of reach.
  it("50 unforced rounds: neither rejects, and every event left has its publication", async () => {
    for (let round = 0; round < 50; round++) {
      const { storing, backfilling, events, publications } =
        await storedHourAgo(`free${round}_`);
      const [created, purged] = await Promise.all([
        backfilling.backfill("late"),
        storing.purgeCompleted({ olderThan: new Date() }),
      ]);
      const left = await ledger(events, publications);
      assert.equal(left.missing, 0, `round ${round}`);
      assert.equal(left.events, 5 - purged.events, `round ${round}`);
      assert.equal(created, left.events, `round ${round}`);
    }
  });
});
