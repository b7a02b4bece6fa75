// A consumer process for the integration suite: examples/nats/consumer.ts's
// loop, whose one handler records its effect through a PostgresInbox, and
// every delivery outside it. Env: NATS_URL, DATABASE_URL, and
// CRASH_BEFORE_ACK=n to die by SIGKILL before acking the n-th message, its
// effect committed. Stops on SIGTERM.
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import pg from "pg";
import { InProcessEventDispatcher } from "../../mod.ts";
import { PostgresInbox } from "../../postgres.ts";
import { consumeEvents } from "../../examples/nats/consumer.ts";
import { fromCloudEvent } from "../../cloudevents.ts";
import { CONSUMER, InviteCreated, OrderPlaced, STREAM_NAME } from "./_setup.ts";

const crashBefore = Number(Deno.env.get("CRASH_BEFORE_ACK") ?? Infinity);
const nats = await connect({ servers: Deno.env.get("NATS_URL")! });
const db = new pg.Pool({
  connectionString: Deno.env.get("DATABASE_URL")!,
  max: 4,
});
const inbox = new PostgresInbox(db);
const dispatcher = new InProcessEventDispatcher();
dispatcher.registerAny(async function recordEffect(event) {
  await db.query("INSERT INTO deliveries (event_id) VALUES ($1)", [
    event.eventId,
  ]);
  await inbox.handle(
    "record-effect",
    event,
    (tx) =>
      tx.query("INSERT INTO effects (event_id) VALUES ($1)", [event.eventId]),
  );
});
const consumer = await jetstream(nats).consumers.get(STREAM_NAME, CONSUMER);
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
let received = 0;
await consumeEvents({
  consumer,
  dispatcher,
  signal: stop.signal,
  batch: 50,
  read: (json) =>
    fromCloudEvent(json, { definitions: [InviteCreated, OrderPlaced] }),
  onFetchError: (error) => console.error(`consumer ${Deno.pid}: ${error}`),
  beforeAck: () => {
    if (++received >= crashBefore) Deno.kill(Deno.pid, "SIGKILL");
  },
});
await nats.drain();
await db.end();
