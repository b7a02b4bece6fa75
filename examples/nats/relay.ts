// The relay, as its own process: a durable outbox listener that publishes
// every stored event to NATS JetStream (`natsRelay` of the ./nats entry).
//   NATS_URL=127.0.0.1:4222 DATABASE_URL=postgres://... deno run -A examples/nats/relay.ts
// Store events from your application with an outbox that registers the same
// listener id ("nats-relay"); this process runs it.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { ensureStream, natsRelay, RECONNECT_FOREVER } from "../../nats.ts";
import { PostgresOutbox } from "../../postgres.ts";

const nats = await connect({
  servers: (Deno.env.get("NATS_URL") ?? "127.0.0.1:4222").split(","),
  ...RECONNECT_FOREVER,
});
await ensureStream(await jetstreamManager(nats));
const db = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
const outbox = new PostgresOutbox(db, {
  // An outage pauses the relay instead of spending its attempts.
  circuitBreaker: { threshold: 5, pauseMs: 10_000 },
});
outbox.registerAny(
  "nats-relay",
  natsRelay(jetstream(nats), { source: "/invites", connection: nats }),
);
await outbox.migrate();
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
Deno.addSignalListener("SIGINT", () => stop.abort());
await outbox.start({ signal: stop.signal, onError: console.error });
await nats.close();
await db.end();
