// The figures of issue #23 in bench:outbox (called by bench/outbox_server.ts
// with its server): creation-to-listener latency, drain throughput against
// graphile-worker doing the same work per job in separate processes (relays
// on default options, then at graphile-worker's concurrency of 10; in
// rounds that run each once, graphile-worker on a vacuumed jobs table), and
// outbox.stats() over 1,000,000 completed publications. Returns Markdown;
// with drainOnly (BENCH_OUTBOX=drain), the drain throughput alone.
import type pg from "pg";
import { runMigrations } from "graphile-worker";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { fillCompleted } from "../../tests/postgres/_fill_completed.ts";
import { inTransaction } from "../../tests/postgres/_transaction.ts";

const JOBS = 10_000;
/** The relays' `concurrency`: the default, then graphile-worker's. */
const CONCURRENCIES = [1, 10];
/**
 * Drain rounds, each running every configuration once and graphile-worker
 * beside it; a ratio is taken within its round, and the table shows the
 * median over rounds (BENCH_DRAIN_ROUNDS, default 3).
 */
const DRAIN_ROUNDS = Number(Deno.env.get("BENCH_DRAIN_ROUNDS") ?? 3);
if (!Number.isInteger(DRAIN_ROUNDS) || DRAIN_ROUNDS < 1) {
  throw new TypeError(
    "BENCH_DRAIN_ROUNDS: a whole number of rounds, at least 1",
  );
}
const TICKS = 200;
const TICK_MS = 5;
const here = (file: string) => new URL(file, import.meta.url).pathname;

/** The children still running, killed if the bench fails half-way. */
const running = new Set<Deno.ChildProcess>();

interface Child {
  readonly pid: number;
  go(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `deno run -A <script> ...args` and resolves once it prints "ready". */
async function spawnReady(script: string, args: string[]): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", here(script), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  running.add(child);
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} ended before it was ready`);
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const writer = child.stdin.getWriter();
  return {
    pid: child.pid,
    go: () => writer.write(new TextEncoder().encode("go\n")),
    async stop() {
      await writer.close();
      await child.status;
      running.delete(child);
    },
  };
}

async function run(script: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", here(script), ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
}

/** Resolves once `table` holds `count` rows, checking every 20 ms. */
async function until(pool: pg.Pool, table: string, count: number) {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${table}`,
    );
    if (rows[0].n >= count) return;
    if (Date.now() > deadline) throw new Error(`${table}: timed out`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function latencies(pool: pg.Pool, table: string) {
  const { rows } = await pool.query(
    `SELECT latency_ms::float8 AS ms FROM ${table} ORDER BY 1`,
  );
  const sorted = (rows as { ms: number }[]).map((row) => row.ms);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

async function outboxTables(pool: pg.Pool, prefix: string) {
  const outbox = new PostgresOutbox(pool, { tablePrefix: prefix });
  await outbox.migrate();
  await pool.query(
    `CREATE TABLE ${prefix}effects (n int NOT NULL, latency_ms float8 NOT NULL)`,
  );
  outbox.registerAny("write-row", () => {});
  return outbox;
}

async function outboxLatency(url: string, pool: pg.Pool) {
  const prefix = "latency_";
  await outboxTables(pool, prefix);
  const relay = await spawnReady("_outbox_relay.ts", [url, prefix]);
  await relay.go();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await run("_storer.ts", [url, "outbox", prefix, `${TICKS}`, `${TICK_MS}`]);
  await until(pool, `${prefix}effects`, TICKS);
  await relay.stop();
  return await latencies(pool, `${prefix}effects`);
}

async function graphileLatency(url: string, pool: pg.Pool) {
  await pool.query("TRUNCATE gw_effects");
  const worker = await spawnReady("_graphile_worker.ts", [url, "10"]);
  await worker.go();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await run("_storer.ts", [url, "graphile", "-", `${TICKS}`, `${TICK_MS}`]);
  await until(pool, "gw_effects", TICKS);
  await worker.stop();
  return await latencies(pool, "gw_effects");
}

/**
 * CPU time in ms from /proc: of process `pid` itself, or (`children`) of
 * its children that ended, as the postmaster counts its backends.
 */
function cpuMs(pid: number, children = false): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`)
    .replace(/^.*\) /, "").split(" ");
  const at = children ? 13 : 11; // utime, stime (or cutime, cstime)
  return (Number(fields[at]) + Number(fields[at + 1])) * 10;
}

/** The server's main process, whose ended children are its backends. */
let postmaster = 0;

interface Drained {
  readonly rate: number;
  /** CPU per job, µs: the workers' processes and the server's backends. */
  readonly cpu: number;
}

async function drain(
  pool: pg.Pool,
  table: string,
  children: Child[],
): Promise<Drained> {
  const processes = () =>
    children.reduce((sum, child) => sum + cpuMs(child.pid), 0);
  const [before, serverBefore] = [processes(), cpuMs(postmaster, true)];
  const started = performance.now();
  await Promise.all(children.map((child) => child.go()));
  await until(pool, table, JOBS);
  const seconds = (performance.now() - started) / 1000;
  const used = processes() - before;
  // Their backends end with them; the postmaster then counts their CPU.
  await Promise.all(children.map((child) => child.stop()));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const server = cpuMs(postmaster, true) - serverBefore;
  const drained = { rate: JOBS / seconds, cpu: (used + server) * 1000 / JOBS };
  console.error(
    `drained ${table} with ${children.length} process(es): ${
      Math.round(drained.rate)
    }/s, ${Math.round(drained.cpu)} µs of CPU per job`,
  );
  return drained;
}

async function outboxDrain(
  url: string,
  pool: pg.Pool,
  relays: number,
  concurrency: number,
  round: number,
) {
  const prefix = `drain${relays}_${concurrency}_${round}_`;
  const outbox = await outboxTables(pool, prefix);
  for (let start = 0; start < JOBS; start += 500) {
    await inTransaction(pool, (client) =>
      outbox.store(
        client,
        Array.from(
          { length: 500 },
          (_, n) => createEvent("bench.job", { n: start + n }),
        ),
      ));
  }
  const children = await Promise.all(
    Array.from(
      { length: relays },
      () => spawnReady("_outbox_relay.ts", [url, prefix, `${concurrency}`]),
    ),
  );
  return await drain(pool, `${prefix}effects`, children);
}

async function graphileDrain(url: string, pool: pg.Pool, workers: number) {
  await pool.query("TRUNCATE gw_effects");
  // The jobs of the drain before are deleted but still in its table: each
  // drain starts on a vacuumed one, as every outbox drain on new tables.
  await pool.query(
    "VACUUM graphile_worker._private_jobs, graphile_worker._private_job_queues",
  );
  await pool.query(
    `SELECT graphile_worker.add_job('write_row', json_build_object('n', n, 'at', 0))
     FROM generate_series(1, ${JOBS}) AS n`,
  );
  const children = await Promise.all(
    Array.from(
      { length: workers },
      () => spawnReady("_graphile_worker.ts", [url, "10"]),
    ),
  );
  return await drain(pool, "gw_effects", children);
}

async function statsOnBigTable(pool: pg.Pool) {
  const outbox = new PostgresOutbox(pool, { tablePrefix: "big_" });
  await outbox.migrate();
  for (const id of ["audit", "email", "search"]) {
    outbox.registerAny(id, () => {});
  }
  await fillCompleted((text) => pool.query(text), outbox, 1_000_000);
  await inTransaction(pool, (client) =>
    outbox.store(
      client,
      Array.from({ length: 100 }, () => createEvent("fresh")),
    ));
  const times: number[] = [];
  for (let round = 0; round < 22; round++) {
    const started = performance.now();
    await outbox.stats();
    if (round >= 2) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), max: times.at(-1)! };
}

const met = (ok: boolean) => ok ? "met" : "not met";

/** The median of `values` (the upper middle one of an even count). */
export function median(values: number[]): number {
  return percentile(values.toSorted((a, b) => a - b), 0.5);
}

/**
 * Runs the figures of issue #23 on the server at `url`, whose data directory
 * is `dir`; returns Markdown.
 */
export async function peerFigures(
  url: string,
  pool: pg.Pool,
  dir: string,
  drainOnly = false,
): Promise<string> {
  postmaster = Number(
    Deno.readTextFileSync(`${dir}/postmaster.pid`).split("\n")[0],
  );
  try {
    return await figures(url, pool, drainOnly);
  } finally {
    for (const child of running) child.kill("SIGKILL");
  }
}

async function latencyFigures(url: string, pool: pg.Pool): Promise<string[]> {
  const outboxLate = await outboxLatency(url, pool);
  const graphileLate = await graphileLatency(url, pool);
  return [
    `**creation-to-listener latency** (${TICKS} events, one per transaction every ~${TICK_MS} ms from another process; fsync on; one relay process on default options / one graphile-worker process, concurrency 10)\n`,
    "| | p50 | p99 | goal |",
    "| --- | --: | --: | --- |",
    `| outbox | ${outboxLate.p50} ms | ${outboxLate.p99} ms | p50 ≤ 10 ms: ${
      met(outboxLate.p50 <= 10)
    }; p99 ≤ 50 ms: ${met(outboxLate.p99 <= 50)} |`,
    `| graphile-worker 0.16.6 | ${graphileLate.p50} ms | ${graphileLate.p99} ms | (peer) |`,
    "",
  ];
}

async function figures(
  url: string,
  pool: pg.Pool,
  drainOnly: boolean,
): Promise<string> {
  await runMigrations({ connectionString: url });
  await pool.query(
    "CREATE TABLE gw_effects (n int NOT NULL, latency_ms float8 NOT NULL)",
  );
  const lines: string[] = [];
  if (!drainOnly) lines.push(...await latencyFigures(url, pool));
  const rounds: Record<string, Drained>[] = [];
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    const rates: Record<string, Drained> = {};
    for (const processes of [1, 4]) {
      rates[`g${processes}`] = await graphileDrain(url, pool, processes);
      for (const concurrency of CONCURRENCIES) {
        rates[`o${processes}c${concurrency}`] = await outboxDrain(
          url,
          pool,
          processes,
          concurrency,
          round,
        );
      }
    }
    rounds.push(rates);
  }
  lines.push(
    `**drain throughput** (${
      JOBS.toLocaleString("en")
    } jobs/publications, each writing one row — the outbox's through \`context.tx\` — in separate processes, fsync on: relays on default options (concurrency 1), then at \`concurrency: 10\` (and \`limit: 500\`, 50 per transaction) as graphile-worker's workers, which run at concurrency 10 in every row; median of ${DRAIN_ROUNDS} rounds, each running every row once, a ratio taken within its round, its range in brackets)\n`,
    "| processes | outbox concurrency | graphile-worker | outbox | ratio | goal | CPU per job, graphile-worker / outbox (workers + server) |",
    "| --------: | -----------------: | --------------: | -----: | ----: | ---- | ---: |",
  );
  const rate = (n: number) => `${Math.round(n).toLocaleString("en")}/s`;
  for (const [processes, goal] of [[1, 2], [4, 3]] as const) {
    const g = rounds.map((rates) => rates[`g${processes}`]!);
    for (const concurrency of CONCURRENCIES) {
      const o = rounds.map((rates) => rates[`o${processes}c${concurrency}`]!);
      const ratios = o.map((drained, at) => drained.rate / g[at]!.rate);
      const ratio = median(ratios);
      const [gCpu, oCpu] = [
        median(g.map((d) => d.cpu)),
        median(o.map((d) => d.cpu)),
      ];
      lines.push(
        `| ${processes} | ${concurrency} | ${
          rate(median(g.map((d) => d.rate)))
        } | ${rate(median(o.map((d) => d.rate)))} | ${ratio.toFixed(2)}× (${
          Math.min(...ratios).toFixed(2)
        }–${Math.max(...ratios).toFixed(2)}) | ≥ ${goal}×: ${
          met(ratio >= goal)
        } | ${Math.round(gCpu)} / ${Math.round(oCpu)} µs (${
          (gCpu / oCpu).toFixed(2)
        }×) |`,
      );
    }
  }
  if (drainOnly) return lines.join("\n");
  const stats = await statsOnBigTable(pool);
  lines.push(
    "",
    "**outbox.stats()** with 1,000,000 completed publications and 100 pending (20 calls)\n",
    "| p50 | slowest | goal |",
    "| --: | ------: | ---- |",
    `| ${stats.p50.toFixed(1)} ms | ${stats.max.toFixed(1)} ms | ≤ 100 ms: ${
      met(stats.max <= 100)
    } |`,
  );
  return lines.join("\n");
}
