// A relay process for the integration suite: examples/nats/relay.ts's
// listener, with a crash switch. Env: NATS_URL, DATABASE_URL, LEASE_MS, and
// CRASH_AFTER_PUBLISH=n to die by SIGKILL right after the n-th publish,
// before its publication is marked completed. Stops on SIGTERM.
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import pg from "pg";
import { PostgresOutbox } from "../../postgres.ts";
import { natsRelay } from "../../examples/nats/relay.ts";

const crashAfter = Number(Deno.env.get("CRASH_AFTER_PUBLISH") ?? Infinity);
const nats = await connect({ servers: Deno.env.get("NATS_URL")! });
const db = new pg.Pool({
  connectionString: Deno.env.get("DATABASE_URL")!,
  max: 4,
});
const outbox = new PostgresOutbox(db, {
  leaseMs: Number(Deno.env.get("LEASE_MS") ?? 60_000),
  retryDelayMs: 100,
});
const relay = natsRelay(jetstream(nats), "/integration");
let published = 0;
outbox.registerAny("nats-relay", async (event) => {
  await relay(event);
  if (++published >= crashAfter) Deno.kill(Deno.pid, "SIGKILL");
});
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
await outbox.start({ signal: stop.signal, intervalMs: 50, limit: 50 });
await nats.drain();
await db.end();
