// Stores events one per transaction at a steady pace, for the latency
// figures of bench:outbox:
//   deno run -A bench/outbox/_storer.ts <url> outbox <tablePrefix> <count> <everyMs>
//   deno run -A bench/outbox/_storer.ts <url> graphile - <count> <everyMs>
// The outbox's events carry their n; graphile-worker's jobs carry n and
// `at`, the Date.now() of their creation.
import pg from "pg";
import { inTransaction } from "../../tests/postgres/_transaction.ts";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";

const [url, kind, prefix, count, every] = Deno.args as string[];
const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on("error", () => {});
const outbox = kind === "outbox"
  ? new PostgresOutbox(pool, { tablePrefix: prefix! })
  : undefined;
outbox?.registerAny("write-row", () => {});
const started = performance.now();
for (let n = 0; n < Number(count); n++) {
  // A steady pace: event n is due at n × every ms from the start.
  const wait = started + n * Number(every) - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  if (kind === "graphile") {
    await pool.query(
      "SELECT graphile_worker.add_job('write_row', json_build_object('n', $1::int, 'at', $2::float8))",
      [n, Date.now()],
    );
    continue;
  }
  await inTransaction(
    pool,
    (client) => outbox!.store(client, createEvent("bench.tick", { n })),
  );
}
await pool.end();
