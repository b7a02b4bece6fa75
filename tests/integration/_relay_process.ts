// A relay process for the integration suite: an outbox whose one listener is
// natsRelay. Env: NATS_URLS (comma-separated), DATABASE_URL, LEASE_MS, and
// CRASH_AFTER_PUBLISH=n to die by SIGKILL right after the n-th publish,
// before its publication is marked completed. Stops on SIGTERM, exit code 0.
import { jetstream } from "@nats-io/jetstream";
import type { DomainEvent } from "../../mod.ts";
import { natsRelay } from "../../nats.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { connectNats, pool, RELAY_LISTENER, STREAM_NAME } from "./_setup.ts";

const crashAfter = Number(Deno.env.get("CRASH_AFTER_PUBLISH") ?? Infinity);
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
const nats = await connectNats(Deno.env.get("NATS_URLS")!);
const db = pool(Deno.env.get("DATABASE_URL")!);
// An outage must pause the relay, not spend its publications' attempts: the
// default maxAttempts (5) stays, so "0 dead letters" is the breaker's doing.
const outbox = new PostgresOutbox(db, {
  leaseMs: Number(Deno.env.get("LEASE_MS") ?? 60_000),
  retryDelayMs: 1_000,
  circuitBreaker: { threshold: 3, pauseMs: 2_000 },
});
const relay = natsRelay(jetstream(nats), {
  source: "/integration",
  stream: STREAM_NAME,
  timeoutMs: 1_000,
  connection: nats,
});
let published = 0;
outbox.registerAny(RELAY_LISTENER, async (event: DomainEvent) => {
  await relay(event);
  if (++published >= crashAfter) Deno.kill(Deno.pid, "SIGKILL");
});
await outbox.start({
  signal: stop.signal,
  intervalMs: 100,
  limit: 20,
  onError: (error) => console.error(`relay ${Deno.pid}: ${error}`),
});
await nats.close();
await db.end();
