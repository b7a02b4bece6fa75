// An outbox relay process for bench:outbox:
//   deno run -A bench/outbox/_outbox_relay.ts <url> <tablePrefix> [concurrency]
// Prints "ready" once connected, then on a line on stdin runs `start` with
// its default options until stdin closes; with `concurrency` (and a `limit`
// of 50 per transaction: 50 × concurrency), on a pool that has a connection
// for each transaction and one for LISTEN. Its one listener, "write-row",
// writes the event's n and its creation-to-start latency into
// <tablePrefix>effects through context.tx.
import pg from "pg";
import { PostgresOutbox } from "../../postgres.ts";

const [url, prefix, concurrency = "1"] = Deno.args as [string, string];
const pool = new pg.Pool({
  connectionString: url,
  max: Math.max(4, Number(concurrency) + 1),
});
pool.on("error", () => {});
const outbox = new PostgresOutbox(pool, { tablePrefix: prefix });
outbox.registerAny("write-row", async (event, { tx }) => {
  const latency = Date.now() - Date.parse(event.occurredAt);
  await tx.query(
    `INSERT INTO ${prefix}effects (n, latency_ms) VALUES ($1, $2)`,
    [(event.payload as { n: number }).n, latency],
  );
});
await pool.query("SELECT 1");
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  .getReader();
console.log("ready");
await lines.read(); // go
const controller = new AbortController();
const relaying = outbox.start({
  signal: controller.signal,
  ...concurrency === "1" ? {} : {
    concurrency: Number(concurrency),
    limit: 50 * Number(concurrency),
  },
  onError: (error) => console.error(error),
});
while (!(await lines.read()).done) { /* wait for stdin to close */ }
controller.abort();
await relaying;
await pool.end();
