/**
 * `deno task bench:outbox`: PostgresOutbox on a real PostgreSQL server it
 * starts and stops (tests/_servers/postgres.ts). Prints Markdown tables:
 *
 * 1. `store` of N events (3 listeners each) inside BEGIN/COMMIT, against the
 *    same rows inserted by hand (two multi-row INSERTs with parameters) in
 *    one transaction: the median of alternating rounds, and the ratio (goals
 *    ≤ 1.2× for 1 event, ≤ 1.0× for 100, ≤ 1.5× otherwise).
 * 2. Relay throughput, publications/s, with 1 and 4 relays (each its own
 *    pool of 2 connections, in this process), listeners writing one row
 *    through `context.tx`.
 * 3. bench/outbox/peer.ts (issue #23): creation-to-listener latency, drain
 *    throughput against graphile-worker (concurrency 10) in separate
 *    processes, the relays on default options and then at `concurrency: 10`
 *    (with `limit: 500`), as the table says (the median of 3 rounds, each
 *    running every row once; BENCH_DRAIN_ROUNDS sets how many), and
 *    outbox.stats() over 1,000,000 completed publications.
 *
 * The server runs with fsync off (the store rounds and stats() measure the
 * outbox rather than the disk), switched on (PostgreSQL's default) for the
 * latency and drain figures, where the cost of a commit is what batches save.
 *
 * The store rounds and the relay throughput run on a server with fsync off
 * (they measure the outbox rather than the disk); part 3 on a second server
 * with fsync on, PostgreSQL's default and production's: there a commit costs
 * its WAL flush, which graphile-worker pays per job and the outbox per batch
 * (issue #23's figures for graphile-worker, 1,406 to 1,729 jobs/s, match a
 * server with fsync on; with it off it runs at about 3,100/s here).
 *
 * `BENCH_OUTBOX=drain deno task bench:outbox` runs only the drain
 * throughput against graphile-worker (part of 3), for quick iterations.
 * `BENCH_OUTBOX=store deno task bench:outbox` runs only the store rounds
 * (part 1), on the server with fsync off.
 *
 * Not named *_bench.ts: `deno bench bench/` (which needs no server) skips it.
 *
 * @module
 */
import pg from "pg";
import { createEvent, type DomainEvent } from "../mod.ts";
import { PostgresOutbox } from "../postgres.ts";
import {
  type PostgresServer,
  startPostgres,
} from "../tests/_servers/postgres.ts";
import { median, peerFigures } from "./outbox/peer.ts";

const LISTENERS = ["email", "crm", "audit"];
const ROUNDS = 15;

function events(count: number): DomainEvent[] {
  return Array.from(
    { length: count },
    (_, n) =>
      createEvent("invite.created", {
        inviteId: `inv_${n}`,
        email: `u${n}@example.com`,
      }, {
        correlationId: "req-1",
        metadata: { tenant: "acme" },
      }),
  );
}

async function inTransaction(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<unknown>,
): Promise<number> {
  const client = await pool.connect();
  try {
    const started = performance.now();
    await client.query("BEGIN");
    await work(client);
    await client.query("COMMIT");
    return performance.now() - started;
  } finally {
    client.release();
  }
}

/** The same rows `store` writes, by hand: one INSERT per table. */
async function insertByHand(
  client: pg.PoolClient,
  prefix: string,
  batch: DomainEvent[],
): Promise<void> {
  const eventParams: unknown[] = [];
  const eventRows = batch.map((event, i) => {
    eventParams.push(
      event.eventId,
      event.eventType,
      event.occurredAt,
      event.correlationId,
      event.causationId,
      JSON.stringify(event),
    );
    const at = i * 6;
    return `($${at + 1}::uuid, $${at + 2}, $${at + 3}::timestamptz, $${
      at + 4
    }, $${at + 5}, $${at + 6}::json)`;
  });
  await client.query(
    `INSERT INTO ${prefix}events (event_id, event_type, occurred_at, correlation_id, causation_id, body) VALUES ${
      eventRows.join(", ")
    }`,
    eventParams,
  );
  const publicationParams: unknown[] = [];
  const publicationRows: string[] = [];
  for (const event of batch) {
    for (const listener of LISTENERS) {
      publicationParams.push(event.eventId, listener);
      const at = publicationParams.length;
      publicationRows.push(`($${at - 1}::uuid, $${at})`);
    }
  }
  await client.query(
    `INSERT INTO ${prefix}publications (event_id, listener_id) VALUES ${
      publicationRows.join(", ")
    }`,
    publicationParams,
  );
}

async function storeVersusHand(
  pool: pg.Pool,
  size: number,
): Promise<{ store: number; hand: number }> {
  const prefix = `store${size}_`;
  const outbox = new PostgresOutbox(pool, { tablePrefix: prefix });
  await outbox.migrate();
  for (const id of LISTENERS) outbox.registerAny(id, () => {});
  const storeTimes: number[] = [];
  const handTimes: number[] = [];
  for (let round = 0; round < ROUNDS + 2; round++) {
    const a = events(size);
    const b = events(size);
    const storeTime = await inTransaction(
      pool,
      (client) => outbox.store(client, a),
    );
    const handTime = await inTransaction(
      pool,
      (client) => insertByHand(client, prefix, b),
    );
    if (round >= 2) { // the first two rounds warm up
      storeTimes.push(storeTime);
      handTimes.push(handTime);
    }
  }
  return { store: median(storeTimes), hand: median(handTimes) };
}

async function relayThroughput(
  url: string,
  setup: pg.Pool,
  relays: number,
  publications: number,
): Promise<number> {
  const prefix = `relay${relays}_`;
  const outbox = new PostgresOutbox(setup, { tablePrefix: prefix });
  await outbox.migrate();
  await setup.query(
    `CREATE TABLE ${prefix}effects (event_id uuid NOT NULL, listener text NOT NULL)`,
  );
  for (const id of LISTENERS) outbox.registerAny(id, () => {});
  const all = events(Math.ceil(publications / LISTENERS.length));
  for (let start = 0; start < all.length; start += 500) {
    await inTransaction(
      setup,
      (client) => outbox.store(client, all.slice(start, start + 500)),
    );
  }
  const pools = Array.from(
    { length: relays },
    () => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on("error", () => {}); // idle clients at shutdown
      return pool;
    },
  );
  const started = performance.now();
  const counts = await Promise.all(pools.map(async (pool) => {
    const relay = new PostgresOutbox(pool, { tablePrefix: prefix });
    for (const id of LISTENERS) {
      relay.registerAny(id, async (event, { tx, listenerId }) => {
        await tx.query(
          `INSERT INTO ${prefix}effects VALUES ($1::text::uuid, $2::text)`,
          [event.eventId, listenerId],
        );
      });
    }
    let completed = 0;
    for (;;) {
      const { completed: done } = await relay.processPending({ limit: 50 });
      if (!done) return completed;
      completed += done;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pools.map((pool) => pool.end()));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== all.length * LISTENERS.length) {
    throw new Error(`relayed ${total} of ${all.length * LISTENERS.length}`);
  }
  return total / seconds;
}

/** Issue #23: 1 event ≤ 1.2×, 100 ≤ 1.0×; otherwise DESIGN.md's ≤ 1.5×. */
function goalOfStore(size: number, ratio: number): string {
  const goal = size === 1 ? 1.2 : size === 100 ? 1.0 : 1.5;
  return `≤ ${goal.toFixed(1)}×: ${ratio <= goal ? "met" : "not met"}`;
}

const drainOnly = Deno.env.get("BENCH_OUTBOX") === "drain";
const storeOnly = Deno.env.get("BENCH_OUTBOX") === "store";
const version = await withServer({ fsync: false }, async (server, pool) => {
  const { rows } = await pool.query("SHOW server_version");
  if (drainOnly) return rows[0].server_version;
  console.log(
    "**store vs. the same rows inserted by hand, one transaction, 3 listeners per event** (median of 15 rounds, fsync off)\n",
  );
  console.log(
    "| events per transaction | hand-written INSERTs | outbox.store | ratio | goal |",
  );
  console.log(
    "| ---------------------: | -------------------: | -----------: | ----: | ----------- |",
  );
  for (const size of [1, 10, 100, 1000]) {
    const { store, hand } = await storeVersusHand(pool, size);
    const ratio = store / hand;
    console.log(
      `| ${size} | ${hand.toFixed(2)} ms | ${store.toFixed(2)} ms | ${
        ratio.toFixed(2)
      }× | ${goalOfStore(size, ratio)} |`,
    );
  }
  if (storeOnly) return rows[0].server_version;
  console.log(
    "\n**relay throughput** (3 listeners, each writing one row through `context.tx`; batches of 50; fsync off)\n",
  );
  console.log("| relays | publications | publications/s |");
  console.log("| -----: | -----------: | -------------: |");
  for (const relays of [1, 4]) {
    const rate = await relayThroughput(server.url, pool, relays, 6000);
    console.log(
      `| ${relays} | 6,000 | ${Math.round(rate).toLocaleString("en")} |`,
    );
  }
  return rows[0].server_version;
});
// Issue #23: latency, throughput against graphile-worker, stats().
if (!storeOnly) {
  await withServer({ fsync: true }, async (server, pool) => {
    console.log(
      `\n${await peerFigures(server.url, pool, server.dir, drainOnly)}`,
    );
  });
}
console.log(
  `\nPostgreSQL ${version} on 127.0.0.1, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, ${
    new Date().toISOString().slice(0, 10)
  }`,
);

/** Runs `work` on a server of its own, started and stopped around it. */
async function withServer<T>(
  options: { readonly fsync: boolean },
  work: (server: PostgresServer, pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const server = await startPostgres(options);
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => {}); // idle clients at shutdown
  try {
    return await work(server, pool);
  } finally {
    await pool.end();
    await server.stop();
  }
}
