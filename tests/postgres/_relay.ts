// A relay in its own process, for the real-server suite and the bench:
//   deno run -A --no-check tests/postgres/_relay.ts <url> <tablePrefix> <listener ids, comma-separated> <mode>
// Each listener writes one row per run into <tablePrefix>effects through
// context.tx. Mode "crash": leases of 1 s, and each listener run kills its own
// process with SIGKILL now and then, either before writing (after the
// previous publication's COMMIT, the rest of the batch still leased) or after
// writing (before COMMIT); it says which on stderr first. Mode "steady": no
// kills, and it fails if publications stay pending for 10 s while it has
// nothing to claim (they would be waiting for a live relay's lease). It relays until no publication is pending, then prints
// {"completed": n} on stdout.
import pg from "pg";
import { PostgresOutbox } from "../../postgres.ts";

const [url, prefix, ids, mode] = Deno.args;
if (!url || !prefix || !ids || (mode !== "crash" && mode !== "steady")) {
  console.error("usage: _relay.ts <url> <tablePrefix> <ids> crash|steady");
  Deno.exit(2);
}
const crash = mode === "crash";
const KILL_CHANCE = 1 / 200;

function maybeDie(point: string): void {
  if (crash && Math.random() < KILL_CHANCE) {
    Deno.stderr.writeSync(new TextEncoder().encode(`kill:${point}\n`));
    Deno.kill(Deno.pid, "SIGKILL");
  }
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
const outbox = new PostgresOutbox(pool, {
  tablePrefix: prefix,
  leaseMs: crash ? 1000 : 60_000,
  retryDelayMs: 0,
  maxAttempts: 1000,
});
for (const id of ids.split(",")) {
  outbox.registerAny(id, async (event, { tx, listenerId }) => {
    maybeDie("before-write");
    await tx.query(
      `INSERT INTO ${prefix}effects (event_id, listener) VALUES ($1::text::uuid, $2::text)`,
      [event.eventId, listenerId],
    );
    maybeDie("before-commit");
  });
}

let completed = 0;
let idleSince = Date.now();
for (;;) {
  const result = await outbox.processPending({ limit: 25 });
  completed += result.completed;
  if (result.completed + result.retried + result.failed > 0) {
    idleSince = Date.now();
    continue;
  }
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM ${prefix}publications WHERE status = 'pending'`,
  );
  if ((rows[0] as { n: number }).n === 0) break;
  // Steady relays never die, so nothing should wait for a lease to expire:
  // publications left pending under a live relay's lease are a bug.
  if (!crash && Date.now() - idleSince > 10_000) {
    console.error("publications stayed pending for 10 s under other leases");
    Deno.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
console.log(JSON.stringify({ completed }));
await pool.end();
