// Wake-up on commit on a real PostgreSQL server (imported by outbox_suite.ts,
// run by `deno task test:postgres`): a relay's listening connection killed
// with pg_terminate_backend still delivers (polling, then a new LISTEN), and
// one NOTIFY wakes 4 relays that run each publication once. The relays poll
// once a minute where only the notification can explain a delivery.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import type { PostgresServer } from "../_servers/postgres.ts";
import { suiteServer, waitFor } from "./_suite_server.ts";
import { inTransaction } from "./_transaction.ts";

let server: PostgresServer;
let pool: pg.Pool;
suiteServer(20, (started) => ({ server, pool } = started));

/** The server processes that LISTEN on `channel`, by pid. */
async function listeners(channel: string): Promise<number[]> {
  const { rows } = await pool.query(
    "SELECT pid FROM pg_stat_activity WHERE query = $1 ORDER BY pid",
    [`LISTEN ${channel}`],
  );
  return (rows as { pid: number }[]).map((row) => row.pid);
}

async function prepare(prefix: string): Promise<PostgresOutbox> {
  const outbox = new PostgresOutbox(pool, { tablePrefix: prefix });
  await outbox.migrate();
  await pool.query(`CREATE TABLE ${prefix}effects (event_id uuid NOT NULL)`);
  return outbox;
}

function recordEffects(outbox: PostgresOutbox, prefix: string): void {
  outbox.registerAny("effects", async (event, { tx }) => {
    await tx.query(`INSERT INTO ${prefix}effects VALUES ($1)`, [event.eventId]);
  });
}

async function effects(prefix: string): Promise<{ n: number; d: number }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM ${prefix}effects`,
  );
  return rows[0] as { n: number; d: number };
}

async function storeInOneTransaction(
  outbox: PostgresOutbox,
  count: number,
): Promise<void> {
  await inTransaction(pool, (client) =>
    outbox.store(
      client,
      Array.from({ length: count }, (_, n) => createEvent("wake.test", { n })),
    ));
}

describe("PostgresOutbox wake-up on a real PostgreSQL server", () => {
  it("a lost notification (listening connection killed) still delivers by polling, and the relay LISTENs again", async () => {
    const prefix = "notify_lost_";
    const outbox = await prepare(prefix);
    recordEffects(outbox, prefix);
    const errors: unknown[] = [];
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 200,
      onError: (error) => errors.push(error),
    });
    const channel = outbox.tables.publications;
    await waitFor(
      async () => (await listeners(channel)).length === 1,
      "LISTEN",
    );
    const [first] = await listeners(channel);
    await pool.query("SELECT pg_terminate_backend($1)", [first]);
    // Stored while nobody listens: no notification reaches the relay.
    await storeInOneTransaction(outbox, 1);
    await waitFor(async () => (await effects(prefix)).n === 1, "delivery");
    await waitFor(async () => {
      const now = await listeners(channel);
      return now.length === 1 && now[0] !== first;
    }, "a new LISTEN");
    controller.abort();
    await loop;
    assert.deepEqual(await effects(prefix), { n: 1, d: 1 });
    assert.match(String(errors[0]), /lost the connection listening on/);
    assert.deepEqual(await listeners(channel), []);
  });

  // A server or proxy that takes the connection and drops it right away:
  // every listening backend is killed from outside as soon as its LISTEN
  // shows in pg_stat_activity. The killed pids are the ledger of connections
  // that reached LISTEN. Had the pause gone back to 250 ms after each LISTEN
  // (as it did), the relay would connect about 3 times a second, 12 or more
  // in 4 s, every gap about the same; backing off, the gaps double (250 ms,
  // 500 ms, 1 s, 2 s: 5 connections). A slower machine only widens the gaps.
  // Meanwhile polling delivers what is stored.
  it("a listening connection dropped right after each LISTEN: reconnects back off, polling still delivers", async () => {
    const prefix = "notify_flap_";
    const outbox = await prepare(prefix);
    recordEffects(outbox, prefix);
    const channel = outbox.tables.publications;
    const controller = new AbortController();
    const started = Date.now();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 200,
      onError: () => {},
    });
    const killedAt: number[] = [];
    let stored = false;
    while (Date.now() - started < 4_000) {
      const { rows } = await pool.query(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity" +
          " WHERE query = $1",
        [`LISTEN ${channel}`],
      );
      for (const _ of rows) killedAt.push(Date.now());
      if (!stored && Date.now() - started > 2_000) {
        await storeInOneTransaction(outbox, 1);
        stored = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitFor(async () => (await effects(prefix)).n === 1, "delivery");
    controller.abort();
    await loop;
    const gaps = killedAt.slice(1).map((at, n) => at - killedAt[n]!);
    assert.ok(
      killedAt.length >= 2 && killedAt.length <= 6,
      `${killedAt.length} listening connections in 4 s, gaps ${gaps} ms`,
    );
    assert.ok(
      gaps.at(-1)! >= 900,
      `the last pause did not grow: gaps ${gaps} ms`,
    );
    assert.deepEqual(await effects(prefix), { n: 1, d: 1 });
  });

  // Stopping while the listener waits for the pool: a pool of 2, one
  // connection held by the relay's listener, the other by the test, then the
  // listening backend killed and the freed place taken by the test at once
  // (its connect queued before the listener's reconnect, 250 ms later). The
  // listener's pool.connect() now waits for as long as the test holds both.
  // (A pool of 1 cannot show it: the relay's batches need the pool too, and
  // would hold stopping up themselves.) Before the bound, stopping waited for
  // that connect; now it returns, and the connection the pool hands over
  // later is given back: every client of the pool ends idle, none waiting.
  it("stopping while the listener waits on an exhausted pool returns, and the connection it gets later is released", async () => {
    const prefix = "notify_full_";
    await prepare(prefix);
    const small = new pg.Pool({ connectionString: server.url, max: 2 });
    small.on("error", () => {});
    const outbox = new PostgresOutbox(small, { tablePrefix: prefix });
    const channel = outbox.tables.publications;
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
      onError: () => {},
    });
    const held: pg.PoolClient[] = [];
    try {
      await waitFor(
        async () => (await listeners(channel)).length === 1,
        "LISTEN",
      );
      held.push(await small.connect());
      const [listening] = await listeners(channel);
      const taking = small.connect();
      await pool.query("SELECT pg_terminate_backend($1)", [listening]);
      held.push(await taking);
      await waitFor(
        () => small.waitingCount === 1,
        "the listener waiting for a connection",
      );
      controller.abort();
      const stopped = await Promise.race([
        loop.then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, 10_000, false)),
      ]);
      assert.ok(stopped, "stopping waited for the pool");
      for (const client of held.splice(0)) client.release();
      await waitFor(
        () => small.waitingCount === 0 && small.idleCount === small.totalCount,
        "every connection idle",
      );
      assert.deepEqual(await listeners(channel), []);
    } finally {
      for (const client of held) client.release();
      controller.abort();
      await loop;
      await small.end();
    }
  });

  it("4 relays woken by one NOTIFY run each of 2,000 publications once", async () => {
    const prefix = "notify_four_";
    const first = await prepare(prefix);
    const relays = [first];
    for (let n = 1; n < 4; n++) {
      relays.push(new PostgresOutbox(pool, { tablePrefix: prefix }));
    }
    for (const relay of relays) recordEffects(relay, prefix);
    const controller = new AbortController();
    const loops = relays.map((relay) =>
      relay.start({ signal: controller.signal, intervalMs: 60_000, limit: 50 })
    );
    const channel = first.tables.publications;
    await waitFor(
      async () => (await listeners(channel)).length === 4,
      "4 LISTENs",
    );
    await storeInOneTransaction(first, 2_000);
    await waitFor(
      async () => (await effects(prefix)).n >= 2_000,
      "2,000 effects",
    );
    controller.abort();
    await Promise.all(loops);
    assert.deepEqual(await effects(prefix), { n: 2_000, d: 2_000 });
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'completed'`,
    );
    assert.deepEqual(rows, [{ n: 2_000 }]);
  });
});
