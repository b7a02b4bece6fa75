// The child process of nats_relay_test.ts (deno test runs without network
// access): natsRelay on a real nats-server and a real client, made while the
// connection is up, closed, and disconnected. Prints one JSON line: what
// each relay run did ("published", or the error's message).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createEvent } from "../../mod.ts";
import { ensureStream, natsRelay, RECONNECT_FOREVER } from "../../nats.ts";
import { startNats } from "../_servers/nats.ts";

async function relayOnce(nc: NatsConnection, timeoutMs: number) {
  const relay = natsRelay(jetstream(nc), {
    source: "/live",
    connection: nc,
    timeoutMs,
  });
  // What the outbox does before it runs a listener takes a round trip to the
  // database at least: a macrotask here.
  await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    await relay(createEvent("invite.created"));
    return "published";
  } catch (error) {
    return (error as Error).message;
  }
}

const server = await startNats();
let serverRuns = true;
const outcome: Record<string, string> = {};
try {
  // No redial within the test: the relay made after the disconnect hears no
  // status event before it runs.
  const options = {
    servers: [server.url],
    ...RECONNECT_FOREVER,
    reconnectTimeWait: 60_000,
  };
  const nc = await connect(options);
  await ensureStream(await jetstreamManager(nc));
  outcome.up = await relayOnce(nc, 5_000);

  const closed = await connect(options);
  await closed.close();
  outcome.closed = await relayOnce(closed, 5_000);

  const disconnected = (async () => {
    for await (const { type } of nc.status()) if (type == "disconnect") return;
  })();
  serverRuns = false;
  await server.stop();
  await disconnected;
  outcome.disconnected = await relayOnce(nc, 1_000);
  await nc.close();
} finally {
  if (serverRuns) await server.stop();
}
console.log(JSON.stringify(outcome));
