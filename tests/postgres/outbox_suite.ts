// PostgresOutbox on a real PostgreSQL server: crash, concurrency and poison.
// Run with `deno task test:postgres`: it starts a throwaway server on a free
// loopback port (tests/_servers/postgres.ts) and stops it at the end. Not
// named *_test.ts, so `deno task test` (which needs nothing installed) skips it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createEvent, type DomainEvent } from "../../mod.ts";
import { PostgresOutbox, type PostgresOutboxOptions } from "../../postgres.ts";
import type { PostgresServer } from "../_servers/postgres.ts";
import { suiteServer } from "./_suite_server.ts";
import { inTransaction } from "./_transaction.ts";
import { until } from "../_until.ts";
// Wake-up on commit (issue #23), with its own server.
import "./outbox_notify.ts";
// outbox.stats() over 1,000,000 completed publications (issue #23), same.
import "./outbox_stats.ts";
// backfill racing purgeCompleted, same.
import "./outbox_backfill.ts";
// The relay's statements find their rows by primary key on a backlog, same.
import "./outbox_plans.ts";

let server: PostgresServer;
let pool: pg.Pool;
suiteServer(4, (started) => ({ server, pool } = started));

/** A migrated outbox with an effects table, and `ids` registered as no-op listeners. */
async function prepare(prefix: string, ids: string[]): Promise<PostgresOutbox> {
  const outbox = new PostgresOutbox(pool, { tablePrefix: prefix });
  await outbox.migrate();
  await pool.query(
    `CREATE TABLE ${prefix}effects (event_id uuid NOT NULL, listener text NOT NULL);
     CREATE TABLE ${prefix}outside (event_id uuid NOT NULL, listener text NOT NULL);
     CREATE TABLE ${prefix}ordered (seq bigserial, key text NOT NULL, n int NOT NULL, listener text NOT NULL)`,
  );
  for (const id of ids) outbox.registerAny(id, () => {});
  return outbox;
}

/** Pending publications of the tables of `prefix`. */
async function pendingOf(prefix: string): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'pending'`,
  );
  return (rows[0] as { n: number }).n;
}

/** Stores `count` events in transactions of 500. */
async function storeEvents(
  outbox: PostgresOutbox,
  count: number,
): Promise<DomainEvent[]> {
  const events = Array.from(
    { length: count },
    (_, n) => createEvent("load.event", { n }, { correlationId: "load" }),
  );
  for (let start = 0; start < count; start += 500) {
    await inTransaction(
      pool,
      (client) => outbox.store(client, events.slice(start, start + 500)),
    );
  }
  return events;
}

/** Publications by status, and the effects: total rows, distinct pairs, and the most for one pair. */
async function tally(prefix: string): Promise<{
  statuses: Record<string, number>;
  effects: number;
  pairs: number;
  most: number;
}> {
  const statuses = await pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${prefix}publications GROUP BY status`,
  );
  const effects = await pool.query<
    { effects: number; pairs: number; most: number }
  >(
    `SELECT coalesce(sum(n), 0)::int AS effects, count(*)::int AS pairs, coalesce(max(n), 0)::int AS most
     FROM (SELECT count(*) AS n FROM ${prefix}effects GROUP BY event_id, listener) AS per_pair`,
  );
  const row = effects.rows[0] as {
    effects: number;
    pairs: number;
    most: number;
  };
  return {
    statuses: Object.fromEntries(
      (statuses.rows as { status: string; n: number }[]).map((
        r,
      ) => [r.status, r.n]),
    ),
    ...row,
  };
}

/** The effects written outside context.tx: total rows and distinct pairs. */
async function outsideEffects(
  prefix: string,
): Promise<{ effects: number; pairs: number }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS effects,
       count(DISTINCT (event_id, listener))::int AS pairs FROM ${prefix}outside`,
  );
  return rows[0] as { effects: number; pairs: number };
}

/** Effects whose (event, listener) pair has no completed publication: must be none. */
async function strayEffects(prefix: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${prefix}effects AS f
     WHERE NOT EXISTS (SELECT 1 FROM ${prefix}publications AS p
       WHERE p.event_id = f.event_id AND p.listener_id = f.listener AND p.status = 'completed')`,
  );
  return rows[0]?.n ?? -1;
}

interface Child {
  readonly process: Deno.ChildProcess;
  readonly done: Promise<
    { status: Deno.CommandStatus; stdout: string; stderr: string }
  >;
}

function spawnRelay(
  prefix: string,
  ids: string[],
  mode: "crash" | "ordered" | "steady" | "restart",
): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("./_relay.ts", import.meta.url).pathname,
      server.url,
      prefix,
      ids.join(","),
      mode,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = (async () => {
    const [status, stdout, stderr] = await Promise.all([
      process.status,
      new Response(process.stdout).text(),
      new Response(process.stderr).text(),
    ]);
    return { status, stdout, stderr };
  })();
  return { process, done };
}

describe("PostgresOutbox on a real PostgreSQL server", () => {
  it("crash: relays killed with SIGKILL before and after COMMIT lose nothing; 1,000 events × 3 listeners each complete exactly once", async () => {
    const prefix = "crash_";
    const ids = ["email", "crm", "audit"];
    const outbox = await prepare(prefix, ids);
    await storeEvents(outbox, 1000);
    const kills = { "before-write": 0, "before-commit": 0, external: 0 };
    let finished = 0;
    const deadline = Date.now() + 240_000;
    const pending = async () =>
      (await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'pending'`,
      )).rows[0]?.n ?? -1;

    async function relayUntilDone(): Promise<void> {
      while (Date.now() < deadline && await pending() > 0) {
        const child = spawnRelay(prefix, ids, "crash");
        // An outside kill at a random moment: before, during or after a COMMIT.
        let killedHere = false;
        const timer = setTimeout(() => {
          killedHere = true;
          try {
            child.process.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, 300 + Math.random() * 2500);
        const { status, stderr } = await child.done;
        clearTimeout(timer);
        const point = /kill:(before-write|before-commit)/.exec(stderr)?.[1] as
          | "before-write"
          | "before-commit"
          | undefined;
        if (point) kills[point]++;
        else if (status.signal === "SIGKILL" && killedHere) kills.external++;
        else if (status.success) finished++;
        else assert.fail(`relay exited with ${status.code}: ${stderr}`);
      }
    }
    // One outside kill for certain: a steady relay, as soon as it has
    // completed publications, that is in the middle of its batches.
    const completed = async () =>
      (await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'completed'`,
      )).rows[0]?.n ?? -1;
    const steady = spawnRelay(prefix, ids, "steady");
    while (await completed() === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    steady.process.kill("SIGKILL");
    const { status } = await steady.done;
    assert.equal(status.signal, "SIGKILL", "the steady relay ended first");
    kills.external++;

    await Promise.all([relayUntilDone(), relayUntilDone()]);

    const result = await tally(prefix);
    console.log(
      `crash: ${
        JSON.stringify(kills)
      } kills, ${finished} relays ran to the end`,
    );
    assert.deepEqual(result, {
      statuses: { completed: 3000 },
      effects: 3000,
      pairs: 3000,
      most: 1,
    });
    assert.equal(await strayEffects(prefix), 0);
    // Effects written outside context.tx, through the pool: at least once.
    // Every pair has one (none lost); a run killed after that write and
    // before its COMMIT ran again and wrote it again (duplicates).
    const outside = await outsideEffects(prefix);
    console.log(
      `crash: effects outside context.tx: ${outside.effects} for ${outside.pairs} pairs, ${
        outside.effects - outside.pairs
      } duplicated (at-least-once); inside: 3000 for 3000, 0 duplicated`,
    );
    assert.equal(outside.pairs, 3000, "an effect outside context.tx was lost");
    assert(
      outside.effects - outside.pairs >=
        kills["before-write"] + kills["before-commit"],
      "a run killed after its outside write was not run again",
    );
    assert(
      kills["before-write"] > 0,
      "no relay died after a COMMIT, before writing",
    );
    assert(
      kills["before-commit"] > 0,
      "no relay died between its write and COMMIT",
    );
    assert(kills.external > 0, "no relay was killed from outside");
  });

  it("concurrency: 4 relays drain 10,000 publications, each completed exactly once", async () => {
    const prefix = "concurrency_";
    const ids = ["email", "crm"];
    const outbox = await prepare(prefix, ids);
    await storeEvents(outbox, 5000);
    const started = performance.now();
    const children = [0, 1, 2, 3].map(() => spawnRelay(prefix, ids, "steady"));
    const outcomes = await Promise.all(children.map((child) => child.done));
    const seconds = (performance.now() - started) / 1000;
    for (const { status, stderr } of outcomes) assert(status.success, stderr);
    const perRelay = outcomes.map(({ stdout }) =>
      JSON.parse(stdout).completed as number
    );
    console.log(
      `concurrency: ${perRelay.join(" + ")} = ${
        perRelay.reduce((a, b) => a + b)
      } publications in ${seconds.toFixed(1)} s (process start-up included)`,
    );
    assert.equal(perRelay.reduce((a, b) => a + b), 10_000);
    assert(perRelay.every((n) => n > 0), "a relay got no work: not concurrent");
    assert.deepEqual(await tally(prefix), {
      statuses: { completed: 10_000 },
      effects: 10_000,
      pairs: 10_000,
      most: 1,
    });
  });

  it("ordering per key: 4 relays killed at random run every key's events in store order, 0 lost, 0 duplicated", async () => {
    const prefix = "ordered_";
    const ids = ["ship", "bill"];
    const outbox = new PostgresOutbox(pool, {
      tablePrefix: prefix,
      orderingKey: (event) => event.payload.key as string,
    });
    await prepare(prefix, []);
    for (const id of ids) outbox.registerAny(id, () => {});
    // 40 keys × 15 events, interleaved, stored in transactions of 100:
    // within a key, n is the store order.
    const KEYS = 40, PER_KEY = 15;
    const events: DomainEvent[] = [];
    for (let n = 0; n < PER_KEY; n++) {
      for (let k = 0; k < KEYS; k++) {
        events.push(createEvent("order.step", { key: `order-${k}`, n }));
      }
    }
    for (let start = 0; start < events.length; start += 100) {
      await inTransaction(
        pool,
        (client) => outbox.store(client, events.slice(start, start + 100)),
      );
    }
    const deadline = Date.now() + 240_000;
    let killed = 0;
    async function relayUntilDone(): Promise<void> {
      while (Date.now() < deadline && await pendingOf(prefix) > 0) {
        const child = spawnRelay(prefix, ids, "ordered");
        const timer = setTimeout(() => {
          try {
            child.process.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, 500 + Math.random() * 3000);
        const { status, stderr } = await child.done;
        clearTimeout(timer);
        if (status.signal === "SIGKILL") killed++;
        else assert(status.success, stderr);
      }
    }
    await Promise.all([0, 1, 2, 3].map(() => relayUntilDone()));
    console.log(`ordered: ${killed} relays killed with SIGKILL`);
    assert(killed > 0, "no relay was killed");
    // The ledger, written through context.tx in run order (seq): for each
    // listener and key, n must read 0, 1, ..., 14. A lost event leaves a gap,
    // a duplicate repeats an n, an overtaking retry or relay swaps two.
    const { rows } = await pool.query(
      `SELECT listener, key, array_agg(n ORDER BY seq) AS ns
       FROM ${prefix}ordered GROUP BY listener, key`,
    );
    assert.equal(rows.length, KEYS * ids.length);
    const expected = Array.from({ length: PER_KEY }, (_, n) => n);
    for (
      const row of rows as { listener: string; key: string; ns: number[] }[]
    ) {
      assert.deepEqual(row.ns, expected, `${row.listener} ${row.key}`);
    }
    assert.deepEqual(await tally(prefix), {
      statuses: { completed: KEYS * PER_KEY * ids.length },
      effects: KEYS * PER_KEY * ids.length,
      pairs: KEYS * PER_KEY * ids.length,
      most: 1,
    });
  });

  it("PostgreSQL restarted (pg_ctl restart -m immediate) under 2 running relays: they reconnect by themselves, 0 lost, 0 duplicated", async () => {
    const prefix = "restart_";
    const ids = ["email", "crm"];
    const outbox = await prepare(prefix, ids);
    await storeEvents(outbox, 3000);
    const children = [0, 1].map(() => spawnRelay(prefix, ids, "restart"));
    const completed = async () =>
      (await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'completed'`,
      )).rows[0]?.n ?? -1;
    while (await completed() < 500) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = await completed();
    await server.restart();
    console.log(
      `restart: the server restarted after ${before} of 6000 publications`,
    );
    assert(before < 6000, "the relays finished before the restart");
    const outcomes = await Promise.all(children.map((child) => child.done));
    for (const { status, stderr } of outcomes) assert(status.success, stderr);
    assert.deepEqual(await tally(prefix), {
      statuses: { completed: 6000 },
      effects: 6000,
      pairs: 6000,
      most: 1,
    });
  });

  it("poison: a listener that always fails ends failed after maxAttempts with its error; resubmit runs it again", async () => {
    const outbox = new PostgresOutbox(pool, {
      tablePrefix: "poison_",
      maxAttempts: 3,
      retryDelayMs: 0,
    });
    await outbox.migrate();
    let poisoned = true;
    let runs = 0;
    outbox.register("payment.captured", "ledger", (event) => {
      runs++;
      if (poisoned) throw new Error(`ledger refuses ${event.eventId}`);
    });
    outbox.register("payment.captured", "healthy", () => {});
    const event = createEvent("payment.captured", { amount: 12 });
    await inTransaction(pool, (client) => outbox.store(client, event));
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await outbox.processPending());
    assert.deepEqual(results, [
      { completed: 1, retried: 1, failed: 0 },
      { completed: 0, retried: 1, failed: 0 },
      { completed: 0, retried: 0, failed: 1 },
      { completed: 0, retried: 0, failed: 0 },
    ]);
    assert.equal(runs, 3);
    const [dead, ...others] = await outbox.failed();
    assert.equal(others.length, 0);
    assert.equal(dead?.listenerId, "ledger");
    assert.equal(dead?.attempts, 3);
    assert.match(
      dead?.lastError ?? "",
      new RegExp(`^Error: ledger refuses ${event.eventId}`),
    );
    assert.deepEqual(dead?.event, event);
    poisoned = false;
    assert.equal(await outbox.resubmit({ listenerId: "ledger" }), 1);
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.equal(runs, 4);
    assert.deepEqual(await outbox.failed(), []);
  });
});

// Batches (issue #23): each listener's share of a claimed batch runs in one
// transaction, each publication under a savepoint. The ledgers are tables
// the listeners write through context.tx (with txid_current(), to show that
// a batch shared one transaction) and counts of runs kept in this process.
describe("PostgresOutbox batches on a real PostgreSQL server", () => {
  /** A relay of `prefix` on a pool of its own. */
  function relayOn(prefix: string, options: PostgresOutboxOptions = {}) {
    const own = new pg.Pool({ connectionString: server.url, max: 3 });
    const outbox = new PostgresOutbox(own, {
      tablePrefix: prefix,
      retryDelayMs: 0,
      ...options,
    });
    return { outbox, end: () => own.end() };
  }

  it("rolls back a failing publication's context.tx writes while its neighbours in the same transaction commit and complete, and runs no neighbour again", async () => {
    const prefix = "batch_";
    await prepare(prefix, []);
    await pool.query(`ALTER TABLE ${prefix}effects ADD COLUMN txid bigint`);
    const { outbox, end } = relayOn(prefix, { circuitBreaker: false });
    const runs = new Map<number, number>();
    const failing = new Set([0, 13, 14, 49]);
    outbox.registerAny("writer", async (event, { tx, listenerId }) => {
      const n = event.payload.n as number;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await tx.query(
        `INSERT INTO ${prefix}effects VALUES ($1::text::uuid, $2::text, txid_current())`,
        [event.eventId, listenerId],
      );
      if (failing.has(n) && runs.get(n) === 1) throw new Error(`${n} fails`);
    });
    await storeEvents(outbox, 50);
    try {
      assert.deepEqual(await outbox.processPending({ limit: 50 }), {
        completed: 46,
        retried: 4,
        failed: 0,
      });
      // Without a savepoint per publication, the failures' rows would be
      // there, or their neighbours' gone; one txid shows it was one batch.
      const { rows } = await pool.query<{ n: number; txids: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT txid)::int AS txids FROM ${prefix}effects`,
      );
      assert.deepEqual(rows, [{ n: 46, txids: 1 }]);
      assert.deepEqual(await outbox.processPending({ limit: 50 }), {
        completed: 4,
        retried: 0,
        failed: 0,
      });
      // A neighbour run again after a failure would count 2 here.
      for (let n = 0; n < 50; n++) {
        assert.equal(runs.get(n), failing.has(n) ? 2 : 1, `n = ${n}`);
      }
      assert.deepEqual(await tally(prefix), {
        statuses: { completed: 50 },
        effects: 50,
        pairs: 50,
        most: 1,
      });
    } finally {
      await end();
    }
  });

  it("keeps the publications of a transaction locked past their lease: another relay cannot take them over, each runs and completes once", async () => {
    const prefix = "batch_lease_";
    await prepare(prefix, []);
    const slow = relayOn(prefix, { leaseMs: 300 });
    const other = relayOn(prefix);
    const runs = { slow: [] as number[], other: [] as number[] };
    let started!: () => void;
    const slowStarted = new Promise<void>((resolve) => started = resolve);
    let finished!: () => void;
    const otherFinished = new Promise<void>((resolve) => finished = resolve);
    for (const [name, relay] of [["slow", slow], ["other", other]] as const) {
      relay.outbox.registerAny("writer", async (event, { tx, listenerId }) => {
        const n = event.payload.n as number;
        runs[name].push(n);
        await tx.query(
          `INSERT INTO ${prefix}effects VALUES ($1::text::uuid, $2::text)`,
          [event.eventId, listenerId],
        );
        // The first one outlives the lease of its batch, until the other
        // relay is done.
        if (name === "slow" && n === 0) {
          started();
          await otherFinished;
        }
      });
    }
    await storeEvents(slow.outbox, 4);
    try {
      const slowBatch = slow.outbox.processPending();
      await slowStarted;
      await new Promise((resolve) => setTimeout(resolve, 400));
      // n = 1..3 are not started but locked with n = 0 at the start of the
      // transaction of their share: past their lease, another relay's claim
      // (FOR UPDATE SKIP LOCKED) still passes them by. (Had it taken them
      // over, they would run twice and the effects below count 2, or, had
      // the slow relay then dropped them, the other relay would count 3.)
      const taken = await other.outbox.processPending().finally(finished);
      assert.deepEqual(taken, { completed: 0, retried: 0, failed: 0 });
      assert.deepEqual(await slowBatch, {
        completed: 4,
        retried: 0,
        failed: 0,
      });
      assert.deepEqual(runs, { slow: [0, 1, 2, 3], other: [] });
      assert.deepEqual(await tally(prefix), {
        statuses: { completed: 4 },
        effects: 4,
        pairs: 4,
        most: 1,
      });
    } finally {
      await Promise.all([slow.end(), other.end()]);
    }
  });

  it("concurrency 4 runs a batch's transactions at once on their own connections: each publication once, a failure rolls back alone, and a listener using the pool gets the connection left for it", async () => {
    const prefix = "batch_concurrent_";
    await prepare(prefix, []);
    await pool.query(`ALTER TABLE ${prefix}effects ADD COLUMN txid bigint`);
    // 4 transactions and 1 connection for the listener's own query.
    const own = new pg.Pool({ connectionString: server.url, max: 5 });
    const outbox = new PostgresOutbox(own, {
      tablePrefix: prefix,
      retryDelayMs: 0,
      circuitBreaker: false,
    });
    const runs = new Map<number, number>();
    let running = 0, most = 0;
    outbox.registerAny("writer", async (event, { tx, listenerId }) => {
      const n = event.payload.n as number;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      most = Math.max(most, ++running);
      try {
        await own.query("SELECT pg_sleep(0.002)");
        await tx.query(
          `INSERT INTO ${prefix}effects VALUES ($1::text::uuid, $2::text, txid_current())`,
          [event.eventId, listenerId],
        );
        if (n % 10 === 5 && runs.get(n) === 1) throw new Error(`once ${n}`);
      } finally {
        running--;
      }
    });
    await storeEvents(outbox, 200);
    try {
      // 20 fail once and are retried: they run twice, the others once.
      assert.deepEqual(
        await outbox.processPending({ limit: 200, concurrency: 4 }),
        { completed: 180, retried: 20, failed: 0 },
      );
      assert.deepEqual(await outbox.processPending({ concurrency: 4 }), {
        completed: 20,
        retried: 0,
        failed: 0,
      });
      assert.equal(runs.size, 200);
      for (const [n, count] of runs) {
        assert.equal(count, n % 10 === 5 ? 2 : 1, `n = ${n}`);
      }
      // Listeners of different transactions ran at the same time.
      assert.ok(most > 1, `at most ${most} at once`);
      // 4 parts of 50, then 4 of 5 for the retries: 8 transactions at least
      // (more where the first one of a transaction failed).
      const { rows } = await pool.query(
        `SELECT count(DISTINCT txid)::int AS n FROM ${prefix}effects`,
      );
      assert.ok(rows[0].n >= 8, `${rows[0].n} transactions`);
      assert.deepEqual(await tally(prefix), {
        statuses: { completed: 200 },
        effects: 200,
        pairs: 200,
        most: 1,
      });
    } finally {
      await own.end();
    }
  });

  it("ordering per key under batches of 4 concurrent relays, with failures and retries: each key in store order, 0 lost, 0 duplicated", async () => {
    const prefix = "batch_ordered_";
    await prepare(prefix, []);
    const KEYS = 20, PER_KEY = 12;
    const relays = [0, 1, 2, 3].map(() =>
      relayOn(prefix, {
        maxAttempts: 100,
        circuitBreaker: false,
        orderingKey: (event) => event.payload.key as string,
      })
    );
    const runs = new Map<string, number>();
    for (const { outbox } of relays) {
      for (const id of ["ship", "bill"]) {
        outbox.registerAny(id, async (event, { tx, listenerId }) => {
          const { key, n } = event.payload as { key: string; n: number };
          const name = `${listenerId}:${key}:${n}`;
          runs.set(name, (runs.get(name) ?? 0) + 1);
          await tx.query(
            `INSERT INTO ${prefix}ordered (key, n, listener) VALUES ($1, $2, $3)`,
            [key, n, listenerId],
          );
          // Every fourth event fails on its first run: its key waits.
          if (n % 4 === 1 && runs.get(name) === 1) throw new Error(name);
        });
      }
    }
    const events: DomainEvent[] = [];
    for (let n = 0; n < PER_KEY; n++) {
      for (let k = 0; k < KEYS; k++) {
        events.push(createEvent("order.step", { key: `order-${k}`, n }));
      }
    }
    await inTransaction(
      pool,
      (client) => relays[0]!.outbox.store(client, events),
    );
    try {
      await Promise.all(relays.map(async ({ outbox }) => {
        while (await pendingOf(prefix) > 0) {
          const { completed, retried } = await outbox.processPending({
            limit: 25,
          });
          if (!completed && !retried) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      }));
    } finally {
      await Promise.all(relays.map(({ end }) => end()));
    }
    // In run order (seq), each listener and key must read
    // 0, 1, ..., 11: a lost event leaves a gap, a duplicate repeats an n, a
    // batch running a key's publication before an earlier one swaps two.
    const { rows } = await pool.query(
      `SELECT listener, key, array_agg(n ORDER BY seq) AS ns
       FROM ${prefix}ordered GROUP BY listener, key`,
    );
    assert.equal(rows.length, KEYS * 2);
    const expected = [...Array(PER_KEY).keys()];
    for (
      const row of rows as { listener: string; key: string; ns: number[] }[]
    ) {
      assert.deepEqual(row.ns, expected, `${row.listener} ${row.key}`);
    }
    assert.equal(await pendingOf(prefix), 0);
  });
});

describe("PostgresOutbox.store on a pg client: preparedStatements", () => {
  it("by default runs as a statement named after the publications table (one per prefix, prepared once per connection); with preparedStatements: false prepares none; same results, same NOTIFY at commit", async () => {
    const outbox = (tablePrefix: string, options: PostgresOutboxOptions) => {
      const made = new PostgresOutbox(pool, { tablePrefix, ...options });
      made.registerAny("audit", () => {});
      return made;
    };
    const named = [outbox("prepared_a_", {}), outbox("prepared_b_", {})];
    const text = outbox("prepared_c_", { preparedStatements: false });
    for (const each of [...named, text]) await each.migrate();
    const listener = await pool.connect();
    const notified: string[] = [];
    listener.on("notification", ({ channel }) => notified.push(channel));
    // One fresh connection per case: pg_prepared_statements shows only what
    // the outbox prepared on it (pg's unnamed statements never appear).
    const storeTwice = async (outboxes: PostgresOutbox[]) => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const event = createEvent("a.b");
        const results = [];
        await client.query("BEGIN");
        for (const each of [...outboxes, ...outboxes]) {
          results.push(await each.store(client, event));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(notified, [], "nothing is notified before commit");
        await client.query("COMMIT");
        const { rows } = await client.query(
          `SELECT name, from_sql, generic_plans + custom_plans AS runs
           FROM pg_prepared_statements ORDER BY name`,
        );
        return { results, prepared: rows };
      } finally {
        await client.end();
      }
    };
    try {
      await listener.query(
        "LISTEN prepared_a_publications; LISTEN prepared_c_publications",
      );
      const one = { events: 1, publications: 1 };
      const none = { events: 0, publications: 0 };
      const byDefault = await storeTwice(named);
      assert.deepEqual(byDefault.results, [one, one, none, none]);
      // Each name prepared once and run twice: parsed and planned once.
      assert.deepEqual(byDefault.prepared, [
        { name: "prepared_a_publications.store", from_sql: false, runs: "2" },
        { name: "prepared_b_publications.store", from_sql: false, runs: "2" },
      ]);
      await until(() => notified.length === 1, "the first commit's NOTIFY");
      notified.length = 0;
      const withText = await storeTwice([text]);
      assert.deepEqual(withText.results, [one, none]);
      assert.deepEqual(withText.prepared, []);
      await until(() => notified.length === 1, "the second commit's NOTIFY");
      assert.deepEqual(notified, ["prepared_c_publications"]);
    } finally {
      await listener.query("UNLISTEN *");
      listener.release();
    }
  });
});
