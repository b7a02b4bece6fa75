// A consumer process for the integration suite: consumeEvents, whose one
// handler records every delivery in the `deliveries` ledger (outside the
// inbox, as they come from JetStream) and its effect in `effects` (through
// the inbox's transaction). Env:
// NATS_URLS (comma-separated), DATABASE_URL, and CRASH_BEFORE_ACK=n to die
// by SIGKILL before acking the n-th message, its effect committed. Stops on
// SIGTERM, exit code 0, also during an outage.
import { jetstream } from "@nats-io/jetstream";
import { InProcessEventDispatcher } from "../../mod.ts";
import {
  consumeEvents,
  type JetStreamMessage,
  type JetStreamPullConsumer,
} from "../../nats.ts";
import { PostgresInbox } from "../../postgres.ts";
import {
  connectNats,
  CONSUMER,
  InviteCreated,
  OrderPlaced,
  pool,
  retry,
  STREAM_NAME,
} from "./_setup.ts";

const crashBefore = Number(Deno.env.get("CRASH_BEFORE_ACK") ?? Infinity);
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
const nats = await connectNats(Deno.env.get("NATS_URLS")!);
const db = pool(Deno.env.get("DATABASE_URL")!);
const inbox = new PostgresInbox(db);

let consumer: JetStreamPullConsumer | undefined;
try {
  consumer = await retry(
    "consumers.get",
    () => jetstream(nats).consumers.get(STREAM_NAME, CONSUMER),
    stop.signal,
  );
} catch {
  // stopped while the broker was away
}
/** Every delivery, in the ledger, before the inbox sees it. */
async function recordDelivery(message: JetStreamMessage): Promise<void> {
  let eventId: string | null = null;
  try {
    eventId = JSON.parse(message.string()).id;
  } catch {
    // not JSON: consumeEvents terminates it
  }
  await retry(
    "record a delivery",
    () =>
      db.query("INSERT INTO deliveries (event_id, pid) VALUES ($1, $2)", [
        eventId,
        Deno.pid,
      ]),
  );
}

let acks = 0;
function crashingBeforeAck(message: JetStreamMessage): JetStreamMessage {
  return {
    info: message.info,
    string: () => message.string(),
    ack: () => message.ack(),
    nak: (millis) => message.nak(millis),
    term: (reason) => message.term(reason),
    ackAck: () => {
      if (++acks >= crashBefore) Deno.kill(Deno.pid, "SIGKILL");
      return message.ackAck();
    },
  };
}
if (consumer) {
  const pull = consumer;
  const result = await consumeEvents({
    consumer: {
      async fetch(options) {
        const messages = await pull.fetch(options);
        return {
          stop: () => messages.stop(),
          async *[Symbol.asyncIterator]() {
            for await (const message of messages) {
              await recordDelivery(message);
              yield crashingBeforeAck(message);
            }
          },
        };
      },
    },
    inbox,
    name: "record-effect",
    definitions: [InviteCreated, OrderPlaced],
    dispatcher: (tx) => {
      const dispatcher = new InProcessEventDispatcher();
      dispatcher.registerAny(async function recordEffect(event) {
        await tx.query("INSERT INTO effects (event_id, pid) VALUES ($1, $2)", [
          event.eventId,
          Deno.pid,
        ]);
      });
      return dispatcher;
    },
    signal: stop.signal,
    batch: 50,
    expiresMs: 2_000,
    onError: (error) => console.error(`consumer ${Deno.pid}: ${error}`),
  });
  console.error(`consumer ${Deno.pid} stopped: ${JSON.stringify(result)}`);
}
await nats.close();
await db.end();
