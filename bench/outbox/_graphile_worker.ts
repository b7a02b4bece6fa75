// A graphile-worker process for bench:outbox, the peer:
//   deno run -A bench/outbox/_graphile_worker.ts <url> <concurrency>
// Prints "ready" once loaded, starts its worker on a line on stdin, and runs
// the task `write_row` (one INSERT of the job's n and its creation-to-start
// latency into gw_effects) until stdin closes.
import { Logger, run } from "graphile-worker";

const [url, concurrency] = Deno.args as [string, string];
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  .getReader();
console.log("ready");
await lines.read(); // go
const runner = await run({
  connectionString: url,
  concurrency: Number(concurrency),
  noHandleSignals: true,
  pollInterval: 1000,
  logger: new Logger(() => () => {}),
  taskList: {
    write_row: async (payload, helpers) => {
      const { n, at } = payload as { n: number; at: number };
      const latency = Date.now() - at;
      await helpers.query(
        "INSERT INTO gw_effects (n, latency_ms) VALUES ($1, $2)",
        [n, latency],
      );
    },
  },
});
while (!(await lines.read()).done) { /* wait for stdin to close */ }
await runner.stop();
