// Batches (issue #23): a relay runs each listener's share of a claimed batch
// in one transaction, each publication under a savepoint, and completes the
// successes with one statement before the commit. On PGlite; the same on a
// real server with concurrent relays: tests/postgres/outbox_suite.ts.
//
// The ledgers are apart from the outbox's bookkeeping: a table the listeners
// write through context.tx (with the transaction id they ran in, to show the
// batch shared one), and counts of listener runs kept in memory.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent, type DomainEvent } from "../../mod.ts";
import {
  type OutboxHandler,
  type PgPoolLike,
  PostgresOutbox,
  type PostgresOutboxOptions,
  type SqlQueryable,
} from "../../postgres.ts";
import { outboxFixture, tablePrefixOf } from "./_outbox_fixture.ts";

const fixture = outboxFixture();
const { db, freshPrefix, storeIn, rows } = fixture;

/** A migrated outbox on fresh tables, and its effects table. */
async function fresh(
  options: PostgresOutboxOptions = {},
): Promise<{ outbox: PostgresOutbox; effects: string }> {
  const outbox = await fixture.fresh(options);
  const effects = `${tablePrefixOf(outbox)}effects`;
  await db.query(
    `CREATE TABLE ${effects} (seq bigserial, n int NOT NULL, listener text NOT NULL, txid bigint NOT NULL)`,
  );
  return { outbox, effects };
}

/** Writes the ledger row of one run: its n, its listener and its transaction. */
async function writeEffect(
  tx: SqlQueryable,
  effects: string,
  n: number,
  listenerId: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO ${effects} (n, listener, txid) VALUES ($1, $2, txid_current())`,
    [n, listenerId],
  );
}

/**
 * A listener that counts its runs of each n in `runs`, writes its ledger row,
 * then throws when `fails(n, run)` holds.
 */
function countingWriter(
  effects: string,
  runs: Map<number, number>,
  fails: (n: number, run: number) => boolean,
): OutboxHandler {
  return async (event, { tx, listenerId }) => {
    const n = event.payload.n as number;
    const run = (runs.get(n) ?? 0) + 1;
    runs.set(n, run);
    await writeEffect(tx, effects, n, listenerId);
    if (fails(n, run)) throw new Error(`n = ${n} fails at run ${run}`);
  };
}

function jobs(count: number): DomainEvent[] {
  return Array.from({ length: count }, (_, n) => createEvent("job", { n }));
}

/** Publications' status and attempts, in id order. */
function states(outbox: PostgresOutbox) {
  return rows<{ status: string; attempts: number }>(
    `SELECT status, attempts FROM ${outbox.tables.publications} ORDER BY id`,
  );
}

describe("batches: one transaction per listener's share, a savepoint per publication", () => {
  it("rolls back a failing publication's context.tx writes while its neighbours in the same transaction commit and complete, 50 at most per transaction", async () => {
    const { outbox, effects } = await fresh({ maxAttempts: 3 });
    const runs = new Map<number, number>();
    outbox.registerAny(
      "writer",
      countingWriter(effects, runs, (n, run) => n === 2 && run === 1),
    );
    await storeIn(outbox, jobs(60));
    assert.deepEqual(await outbox.processPending(), {
      completed: 59,
      retried: 1,
      failed: 0,
    });
    // Without a savepoint per publication, either n = 2's row would be
    // there (its writes kept) or its neighbours' rows would be gone (the
    // whole transaction rolled back).
    const written = await rows<{ n: number; txid: string }>(
      `SELECT n, txid::text AS txid FROM ${effects} ORDER BY seq`,
    );
    assert.deepEqual(
      written.map((row) => row.n),
      [...Array(60).keys()].filter((n) => n !== 2),
    );
    // Two transactions: n = 0..49 (but 2) in the first, 50..59 in the
    // second. One each would prove nothing about savepoints.
    const txids = [...new Set(written.map((row) => row.txid))];
    assert.deepEqual(
      txids.map((txid) => written.filter((row) => row.txid === txid).length),
      [49, 10],
    );
    const pending = (await states(outbox)).flatMap((state, n) =>
      state.status === "completed" ? [] : [{ n, ...state }]
    );
    assert.deepEqual(pending, [{ n: 2, status: "pending", attempts: 1 }]);
    // The retry runs n = 2 alone: its neighbours are not run again.
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    for (let n = 0; n < 60; n++) {
      assert.equal(runs.get(n), n === 2 ? 2 : 1, `n = ${n}`);
    }
    assert.equal(
      (await rows(`SELECT DISTINCT n FROM ${effects}`)).length,
      60,
    );
  });

  it("runs no neighbour twice when publications fail mid-batch, whether first, in the middle or last of a transaction", async () => {
    const { outbox, effects } = await fresh({
      maxAttempts: 2,
      circuitBreaker: false,
    });
    const failing = new Set([0, 7, 8, 19]); // first, middle, a pair, last
    const runs = new Map<number, number>();
    outbox.registerAny(
      "writer",
      countingWriter(effects, runs, (n) => failing.has(n)),
    );
    await storeIn(outbox, jobs(20));
    assert.deepEqual(await outbox.processPending({ limit: 20 }), {
      completed: 16,
      retried: 4,
      failed: 0,
    });
    assert.deepEqual(await outbox.processPending({ limit: 20 }), {
      completed: 0,
      retried: 0,
      failed: 4,
    });
    // Each healthy n ran once; a batch that re-ran its neighbours after a
    // failure (a rollback of the whole transaction, then a rerun) would
    // count 2 or more here.
    for (let n = 0; n < 20; n++) {
      assert.equal(runs.get(n), failing.has(n) ? 2 : 1, `n = ${n}`);
    }
    // What the failures wrote is gone; the healthy ones of the first batch
    // committed together (n = 0 failed first, with nothing to keep: its
    // transaction was rolled back, and the rest ran in the next one).
    const written = await rows<{ n: number; txid: string }>(
      `SELECT n, txid::text AS txid FROM ${effects} ORDER BY n`,
    );
    assert.deepEqual(
      written.map((row) => row.n),
      [...Array(20).keys()].filter((n) => !failing.has(n)),
    );
    assert.equal(new Set(written.map((row) => row.txid)).size, 1);
    assert.equal((await outbox.failed()).length, 4);
  });

  it("fails a listener that leaves context.tx aborted (it caught a failed statement), and completes the others of its transaction", async () => {
    const { outbox, effects } = await fresh({ maxAttempts: 1 });
    outbox.registerAny("writer", async (event, { tx, listenerId }) => {
      const n = event.payload.n as number;
      await writeEffect(tx, effects, n, listenerId);
      if (n === 1) {
        // Swallowed: the transaction is aborted, the listener returns.
        await tx.query("SELECT 1 / 0").catch(() => {});
      }
    });
    await storeIn(outbox, jobs(3));
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 0,
      failed: 1,
    });
    const [dead] = await outbox.failed();
    assert.equal(dead?.event.payload.n, 1);
    assert.match(dead?.lastError ?? "", /current transaction is aborted/);
    assert.deepEqual(
      (await rows<{ n: number }>(`SELECT n FROM ${effects} ORDER BY n`))
        .map((row) => row.n),
      [0, 2],
    );
  });

  it("does not complete or run a publication whose lease was taken over before its share's transaction locked it", async () => {
    const { outbox, effects } = await fresh();
    const prefix = outbox.tables.events.slice(0, -6);
    const runs: number[] = [];
    // "taker" is registered first: its share of the batch runs (and commits)
    // before the writer's begins.
    outbox.registerAny("taker", async (event, { tx }) => {
      // Another relay takes over the writer's n = 2 (as after an expired
      // lease: a new token; PGlite has one connection, so it happens in
      // this one, committed before the writer's transaction locks its rows).
      if (event.payload.n === 0) {
        await tx.query(
          `UPDATE ${outbox.tables.publications} AS p SET lease_token = gen_random_uuid()
           FROM ${outbox.tables.events} AS e
           WHERE e.event_id = p.event_id AND p.listener_id = 'writer'
             AND (e.body::json -> 'payload' ->> 'n')::int = 2`,
        );
      }
    });
    outbox.registerAny("writer", async (event, { tx, listenerId }) => {
      const n = event.payload.n as number;
      runs.push(n);
      await writeEffect(tx, effects, n, listenerId);
    });
    await storeIn(outbox, jobs(4));
    // Completing every claimed id at the end of the batch (instead of the
    // ones whose lease held when their transaction locked them) would count
    // 8 and complete the writer's n = 2.
    assert.deepEqual(await outbox.processPending(), {
      completed: 7,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(runs, [0, 1, 3]);
    assert.deepEqual(
      (await states(outbox)).map((state) => state.status),
      [
        ...["completed", "completed", "completed", "completed"],
        ...["completed", "pending", "completed", "completed"],
      ],
    );
    // Once that lease ends, a relay runs it, once.
    await db.query(
      `UPDATE ${prefix}publications SET locked_until = now() - interval '1 second' WHERE status = 'pending'`,
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(runs, [0, 1, 3, 2]);
  });

  it("runs the publications of a transaction that cannot commit again one per transaction, so that the one at fault fails alone (its neighbours' context.tx writes once, their listeners at least once)", async () => {
    const { outbox, effects } = await fresh({ maxAttempts: 3 });
    await db.query(
      `CREATE TABLE ${effects}_checked (n int,
         CONSTRAINT once UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)`,
    );
    const runs = new Map<number, number>();
    let duplicate = true;
    outbox.registerAny("writer", async (event, { tx }) => {
      const n = event.payload.n as number;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await tx.query(`INSERT INTO ${effects}_checked VALUES ($1)`, [n]);
      // A duplicate the deferred constraint refuses only at COMMIT, which
      // no savepoint can single out.
      if (n === 1 && duplicate) {
        await tx.query(`INSERT INTO ${effects}_checked VALUES ($1)`, [n]);
      }
    });
    await storeIn(outbox, jobs(3));
    // Left as it was, the shared transaction would fail at every retry and
    // n = 0 and n = 2 would never complete, n = 1 never be charged.
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 1,
      failed: 0,
    });
    assert.deepEqual([...runs], [[0, 2], [1, 2], [2, 2]]);
    assert.deepEqual(await states(outbox), [
      { status: "completed", attempts: 0 },
      { status: "pending", attempts: 1 },
      { status: "completed", attempts: 0 },
    ]);
    const [{ last_error }] = await rows<{ last_error: string }>(
      `SELECT last_error FROM ${outbox.tables.publications} WHERE status = 'pending'`,
    ) as [{ last_error: string }];
    assert.match(last_error, /"[a-z0-9_]*once"/);
    duplicate = false;
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(
      (await rows<{ n: number }>(`SELECT n FROM ${effects}_checked ORDER BY n`))
        .map((row) => row.n),
      [0, 1, 2],
    );
  });

  it("gives each listener its own transaction: one listener's failures never touch another's", async () => {
    const { outbox, effects } = await fresh({ maxAttempts: 1 });
    for (const id of ["audit", "email"]) {
      outbox.registerAny(id, async (event, { tx, listenerId }) => {
        const n = event.payload.n as number;
        await writeEffect(tx, effects, n, listenerId);
        if (listenerId === "email" && n === 0) throw new Error("bounced");
      });
    }
    await storeIn(outbox, jobs(3));
    assert.deepEqual(await outbox.processPending(), {
      completed: 5,
      retried: 0,
      failed: 1,
    });
    const written = await rows<
      { listener: string; ns: number[]; txids: number }
    >(
      `SELECT listener, array_agg(n ORDER BY n) AS ns, count(DISTINCT txid)::int AS txids
       FROM ${effects} GROUP BY listener ORDER BY listener`,
    );
    assert.deepEqual(written, [
      { listener: "audit", ns: [0, 1, 2], txids: 1 },
      { listener: "email", ns: [1, 2], txids: 1 },
    ]);
  });

  it("keeps each key in store order per listener under batches of 3 relays, with failures and retries", async () => {
    const prefix = freshPrefix();
    const effects = `${prefix}effects`;
    const relays = [0, 1, 2].map(() =>
      new PostgresOutbox(db, {
        tablePrefix: prefix,
        retryDelayMs: 0,
        maxAttempts: 100,
        circuitBreaker: false,
        orderingKey: (event) => event.payload.key as string,
      })
    );
    await relays[0]!.migrate();
    await db.query(
      `CREATE TABLE ${effects} (seq bigserial, key text, n int, listener text)`,
    );
    const runs = new Map<string, number>();
    for (const relay of relays) {
      for (const id of ["ship", "bill"]) {
        relay.registerAny(id, async (event, { tx, listenerId }) => {
          const { key, n } = event.payload as { key: string; n: number };
          const name = `${listenerId}:${key}:${n}`;
          runs.set(name, (runs.get(name) ?? 0) + 1);
          await tx.query(
            `INSERT INTO ${effects} (key, n, listener) VALUES ($1, $2, $3)`,
            [key, n, listenerId],
          );
          // Every third event fails on its first run: the key waits for it.
          if (n % 3 === 1 && runs.get(name) === 1) throw new Error(name);
        });
      }
    }
    const KEYS = 6, PER_KEY = 8;
    const events: DomainEvent[] = [];
    for (let n = 0; n < PER_KEY; n++) {
      for (let k = 0; k < KEYS; k++) {
        events.push(createEvent("step", { key: `k${k}`, n }));
      }
    }
    await storeIn(relays[0]!, events);
    await Promise.all(relays.map(async (relay) => {
      for (let idle = 0; idle < 3;) {
        const { completed, retried } = await relay.processPending({ limit: 7 });
        idle = completed + retried ? 0 : idle + 1;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }));
    // In run order, each listener and key must read 0, 1, ..., 7: a lost
    // event leaves a gap, a duplicate repeats an n, and a publication run
    // before an earlier one of its key (batches completing out of order)
    // swaps two.
    const ledger = await rows<{ listener: string; key: string; ns: number[] }>(
      `SELECT listener, key, array_agg(n ORDER BY seq) AS ns FROM ${effects}
       GROUP BY listener, key ORDER BY listener, key`,
    );
    assert.equal(ledger.length, KEYS * 2);
    for (const { listener, key, ns } of ledger) {
      assert.deepEqual(ns, [...Array(PER_KEY).keys()], `${listener} ${key}`);
    }
    assert.deepEqual(
      await rows(
        `SELECT status, count(*)::int AS n FROM ${prefix}publications GROUP BY status`,
      ),
      [{ status: "completed", n: KEYS * PER_KEY * 2 }],
    );
  });

  it("with concurrency 4, runs each listener's share in 4 transactions and counts every outcome once", async () => {
    const { outbox, effects } = await fresh({ circuitBreaker: false });
    const runs = new Map<string, number>();
    for (const id of ["writer", "other"]) {
      outbox.registerAny(id, async (event, { tx, listenerId }) => {
        const n = event.payload.n as number;
        runs.set(`${id} ${n}`, (runs.get(`${id} ${n}`) ?? 0) + 1);
        await writeEffect(tx, effects, n, listenerId);
        if (id === "writer" && n % 7 === 3) throw new Error(`no ${n}`);
      });
    }
    await storeIn(outbox, jobs(40));
    // Six of the writer's fail (n = 3, 10, 17, 24, 31, 38). Counts added as
    // each transaction ends would lose those of the transactions running
    // meanwhile: fewer than 74 completed.
    assert.deepEqual(await outbox.processPending({ concurrency: 4 }), {
      completed: 74,
      retried: 6,
      failed: 0,
    });
    assert.equal(runs.size, 80);
    assert.deepEqual(new Set(runs.values()), new Set([1]));
    const written = await rows<{ listener: string; n: number; txids: number }>(
      `SELECT listener, count(*)::int AS n, count(DISTINCT txid)::int AS txids
       FROM ${effects} GROUP BY listener ORDER BY listener`,
    );
    // Each share in 4 parts of 10, one transaction each.
    assert.deepEqual(written, [
      { listener: "other", n: 40, txids: 4 },
      { listener: "writer", n: 34, txids: 4 },
    ]);
  });

  it("leaves a share to its lease when no transaction can begin (the pool lends a client for the claim, then none), and rejects saying how many", async () => {
    const { outbox } = await fresh();
    let lent = 0;
    const refusing: PgPoolLike = {
      query: (text, params) => db.query(text, params),
      connect: () =>
        lent++ === 0
          ? Promise.resolve({
            query: (text: string, params?: unknown[]) => db.query(text, params),
            release() {},
          })
          : Promise.reject(new Error("sorry, too many clients")),
    };
    const relay = new PostgresOutbox(refusing, {
      tablePrefix: outbox.tables.events.slice(0, -6),
    });
    let runs = 0;
    for (const id of ["a", "b"]) relay.registerAny(id, () => void runs++);
    await storeIn(relay, jobs(3));
    await assert.rejects(relay.processPending(), (error: unknown) => {
      assert.match(
        String(error),
        /outcome of 6 publication\(s\) could not be recorded/,
      );
      assert.match(String((error as Error).cause), /too many clients/);
      return true;
    });
    assert.equal(runs, 0);
    const leased = await rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${outbox.tables.publications}
       WHERE status = 'pending' AND locked_until > now()`,
    );
    assert.deepEqual(leased, [{ n: 6 }]);
  });

  it("claims nothing when the pool lends no client at all, and rejects with its error", async () => {
    const { outbox } = await fresh();
    const refusing: PgPoolLike = {
      query: (text, params) => db.query(text, params),
      connect: () => Promise.reject(new Error("sorry, too many clients")),
    };
    const relay = new PostgresOutbox(refusing, {
      tablePrefix: outbox.tables.events.slice(0, -6),
    });
    let runs = 0;
    relay.registerAny("a", () => void runs++);
    await storeIn(relay, jobs(3));
    await assert.rejects(relay.processPending(), /too many clients/);
    assert.equal(runs, 0);
    const leased = await rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${outbox.tables.publications}
       WHERE locked_until IS NOT NULL OR lease_token IS NOT NULL`,
    );
    assert.deepEqual(leased, [{ n: 0 }]);
  });
});
