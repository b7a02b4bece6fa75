// A relay in its own process, for the real-server suites and the bench:
//   deno run -A --no-check tests/postgres/_relay.ts <url> <tablePrefix> <listener ids, comma-separated> <mode>
// Each listener writes one row per run into <tablePrefix>effects through
// context.tx, and (all modes but "restart") one row into
// <tablePrefix>outside through the pool, outside context.tx, before it.
// Mode "crash": leases of 1 s, and each listener run kills its own process
// with SIGKILL now and then, either before its write through context.tx or
// after it (before the savepoint that follows, or its transaction's COMMIT):
// either way its transaction, with the earlier publications of its batch
// that succeeded in it, rolls back, and the rows of the batch not yet
// committed stay leased until their lease ends. It says which on stderr
// first. Mode "ordered": the same
// kills, with orderingKey = payload.key, and the listener writes
// (key, n, listener) into <tablePrefix>ordered through context.tx. Mode
// "steady": no kills, and it fails if publications stay pending for 10 s
// while it has nothing to claim (they would be waiting for a live relay's
// lease). Mode "restart": no kills, leases of 2 s; it goes on through
// connection errors (the server restarts under it) until nothing is pending.
// It relays until no publication is pending, then prints {"completed": n} on
// stdout.
import pg from "pg";
import { PostgresOutbox } from "../../postgres.ts";

const MODES = ["crash", "ordered", "steady", "restart"];
const [url, prefix, ids, mode = ""] = Deno.args;
if (!url || !prefix || !ids || !MODES.includes(mode)) {
  console.error(
    `usage: _relay.ts <url> <tablePrefix> <ids> ${MODES.join("|")}`,
  );
  Deno.exit(2);
}
const kills = mode === "crash" || mode === "ordered";
const KILL_CHANCE = 1 / 200;

function maybeDie(point: string): void {
  if (kills && Math.random() < KILL_CHANCE) {
    Deno.stderr.writeSync(new TextEncoder().encode(`kill:${point}\n`));
    Deno.kill(Deno.pid, "SIGKILL");
  }
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
// No "error" listener of its own: the outbox listens on the pool and on the
// clients it checks out, so a server restart cannot end this process.
const outbox = new PostgresOutbox(pool, {
  tablePrefix: prefix,
  leaseMs: kills ? 1000 : mode === "restart" ? 2000 : 60_000,
  retryDelayMs: 0,
  maxAttempts: 1000,
  circuitBreaker: { threshold: 5, pauseMs: 200 },
  ...(mode === "ordered"
    ? { orderingKey: (event) => event.payload.key as string }
    : {}),
});
for (const id of ids.split(",")) {
  outbox.registerAny(id, async (event, { tx, listenerId }) => {
    if (mode !== "restart") {
      await pool.query(
        `INSERT INTO ${prefix}outside (event_id, listener) VALUES ($1::text::uuid, $2::text)`,
        [event.eventId, listenerId],
      );
    }
    maybeDie("before-write");
    await tx.query(
      `INSERT INTO ${prefix}effects (event_id, listener) VALUES ($1::text::uuid, $2::text)`,
      [event.eventId, listenerId],
    );
    if (mode === "ordered") {
      await tx.query(
        `INSERT INTO ${prefix}ordered (key, n, listener) VALUES ($1, $2, $3)`,
        [event.payload.key, event.payload.n, listenerId],
      );
    }
    maybeDie("before-commit");
  });
}

let completed = 0;
let idleSince = Date.now();
for (;;) {
  let result = { completed: 0, retried: 0, failed: 0 };
  try {
    result = await outbox.processPending({ limit: 25 });
  } catch (error) {
    if (mode !== "restart") throw error;
    await new Promise((resolve) => setTimeout(resolve, 200));
    continue;
  }
  completed += result.completed;
  if (result.completed + result.retried + result.failed > 0) {
    idleSince = Date.now();
    continue;
  }
  let pending: number;
  try {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'pending'`,
    );
    pending = (rows[0] as { n: number }).n;
  } catch (error) {
    if (mode !== "restart") throw error;
    continue;
  }
  if (pending === 0) break;
  // Steady relays never die, so nothing should wait for a lease to expire:
  // publications left pending under a live relay's lease are a bug.
  if (mode === "steady" && Date.now() - idleSince > 10_000) {
    console.error("publications stayed pending for 10 s under other leases");
    Deno.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
console.log(JSON.stringify({ completed }));
await pool.end();
