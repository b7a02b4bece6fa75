// The child process of the NATS tests that need a real nats-server (deno
// test runs without network access): `relay` or `consumer` as its argument.
// Prints one JSON line with what it saw.
//
// relay: natsRelay made while the connection is up, closed, and
// disconnected; what each run did ("published", or the error's message).
// consumer: consumeEvents over three published events, the first failing
// its dispatch, twice: with a retryDelayMs that throws (`retryDelayMs`), and
// with an onError that throws on every report and the default retryDelayMs
// (`onError`; console.error's lines recorded).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { PGlite } from "@electric-sql/pglite";
import {
  createEvent,
  defineEvent,
  InProcessEventDispatcher,
} from "../../mod.ts";
import {
  consumeEvents,
  DEFAULT_STREAM,
  ensureConsumer,
  ensureStream,
  natsRelay,
  RECONNECT_FOREVER,
} from "../../nats.ts";
import { PostgresInbox } from "../../postgres.ts";
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

async function relayScenario(server: { url: string; stop(): Promise<void> }) {
  // No redial within the test: the relay made after the disconnect hears no
  // status event before it runs.
  const options = {
    servers: [server.url],
    ...RECONNECT_FOREVER,
    reconnectTimeWait: 60_000,
  };
  const nc = await connect(options);
  await ensureStream(await jetstreamManager(nc));
  const outcome: Record<string, string> = {};
  outcome.up = await relayOnce(nc, 5_000);

  const closed = await connect(options);
  await closed.close();
  outcome.closed = await relayOnce(closed, 5_000);

  const disconnected = (async () => {
    for await (const { type } of nc.status()) if (type == "disconnect") return;
  })();
  await server.stop();
  await disconnected;
  outcome.disconnected = await relayOnce(nc, 1_000);
  await nc.close();
  return outcome;
}

const OrderPlaced = defineEvent<"order.placed", { orderId: string }>(
  "order.placed",
);

async function consumerScenario(
  server: { url: string },
  faulty: "retryDelayMs" | "onError",
) {
  const nc = await connect({ servers: [server.url], ...RECONNECT_FOREVER });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm);
  // An ack wait far beyond the test: a redelivery within it is the nak's.
  await ensureConsumer(jsm, { name: "ledger", ackWaitMs: 300_000 });
  const relay = natsRelay(jetstream(nc), { source: "/orders" });
  const orders = ["o_broken", "o_1", "o_2"];
  for (const orderId of orders) await relay(OrderPlaced.create({ orderId }));

  const db = new PGlite();
  await db.query("CREATE TABLE effects (order_id text)");
  const inbox = new PostgresInbox(db);
  await inbox.migrate();
  const deliveries: string[] = [];
  const errors: string[] = [];
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), 20_000);
  const counts = await consumeEvents({
    consumer: await jetstream(nc).consumers.get(DEFAULT_STREAM, "ledger"),
    inbox,
    name: "ledger",
    definitions: [OrderPlaced],
    dispatcher: (tx) => {
      const dispatcher = new InProcessEventDispatcher();
      dispatcher.register(OrderPlaced, async function book(event) {
        const { orderId } = event.payload;
        deliveries.push(orderId);
        if (orderId == "o_broken") {
          // The second delivery (the nak's) ends the scenario.
          if (deliveries.filter((id) => id == orderId).length == 2) {
            stop.abort();
          }
          throw new Error("ledger down");
        }
        await tx.query("INSERT INTO effects VALUES ($1)", [orderId]);
      });
      return dispatcher;
    },
    ...(faulty == "retryDelayMs"
      ? {
        retryDelayMs: () => {
          throw new Error("delay table missing");
        },
        onError: (error) => errors.push(String(error)),
      }
      : {
        onError: (error) => {
          errors.push(String(error));
          throw new Error("the log shipper is down");
        },
      }),
    signal: stop.signal,
    expiresMs: 1_000,
  });
  clearTimeout(deadline);
  console.error = consoleError;
  const { rows } = await db.query<{ order_id: string }>(
    "SELECT order_id FROM effects ORDER BY order_id",
  );
  await db.close();
  await nc.close();
  return {
    counts,
    deliveries,
    errors,
    logged,
    effects: rows.map((row) => row.order_id),
  };
}

/** Runs `scenario` on a nats-server of its own, stopped after it. */
async function withServer<T>(
  scenario: (server: { url: string; stop(): Promise<void> }) => Promise<T>,
): Promise<T> {
  const server = await startNats();
  let serverRuns = true;
  try {
    return await scenario({
      url: server.url,
      stop: () => {
        serverRuns = false;
        return server.stop();
      },
    });
  } finally {
    if (serverRuns) await server.stop();
  }
}

// Both consumer scenarios in one process (one start fewer), each on a
// server of its own: a message left over from one cannot reach the other.
console.log(JSON.stringify(
  Deno.args[0] == "consumer"
    ? {
      retryDelayMs: await withServer((server) =>
        consumerScenario(server, "retryDelayMs")
      ),
      onError: await withServer((server) =>
        consumerScenario(server, "onError")
      ),
    }
    : await withServer(relayScenario),
));
