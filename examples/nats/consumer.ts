// The consumer, as its own process: a durable JetStream pull consumer whose
// handlers write their effects through the PostgresInbox transaction
// (`consumeEvents` of the ./nats entry), so each runs once per event.
//   NATS_URL=127.0.0.1:4222 DATABASE_URL=postgres://... deno run -A examples/nats/consumer.ts
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { defineEvent, InProcessEventDispatcher } from "../../mod.ts";
import {
  consumeEvents,
  DEFAULT_STREAM,
  ensureConsumer,
  ensureStream,
  RECONNECT_FOREVER,
} from "../../nats.ts";
import { PostgresInbox } from "../../postgres.ts";

const InviteCreated = defineEvent<"invite.created", { email: string }>(
  "invite.created",
);
const nats = await connect({
  servers: (Deno.env.get("NATS_URL") ?? "127.0.0.1:4222").split(","),
  ...RECONNECT_FOREVER,
});
const jsm = await jetstreamManager(nats);
await ensureStream(jsm);
await ensureConsumer(jsm, { name: "mailer" });
const db = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
const inbox = new PostgresInbox(db);
await inbox.migrate();
await db.query("CREATE TABLE IF NOT EXISTS welcome_emails (email text)");
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
Deno.addSignalListener("SIGINT", () => stop.abort());
await consumeEvents({
  consumer: await jetstream(nats).consumers.get(DEFAULT_STREAM, "mailer"),
  inbox,
  name: "mailer",
  definitions: [InviteCreated],
  dispatcher: (tx) => {
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register(InviteCreated, async function sendWelcome(event) {
      await tx.query("INSERT INTO welcome_emails VALUES ($1)", [
        event.payload.email,
      ]);
    });
    return dispatcher;
  },
  signal: stop.signal,
});
await nats.close();
await db.end();
