// The consumer, in another process: a durable JetStream pull consumer that
// reads CloudEvents, checks each against its definition, dispatches it in
// process, and acks only after every handler succeeded. Handlers with
// effects claim the event in a PostgresInbox inside the effect's
// transaction, so a redelivery (after a crash before the ack) runs nothing
// twice.
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { type InProcessEventDispatcher, InvalidEventError } from "../../mod.ts";
import { fromCloudEvent } from "../../cloudevents.ts";

/** Options for {@linkcode consumeEvents}. */
export interface ConsumeOptions {
  /** The durable pull consumer. */
  consumer: Consumer;
  /** Runs the handlers of each event. */
  dispatcher: InProcessEventDispatcher;
  /**
   * Reads one message's JSON into an event, e.g.
   * `(json) => fromCloudEvent(json, { definitions: [InviteCreated] })`, so
   * that each payload is checked by its definition; throws
   * InvalidEventError for a bad one. Default: `fromCloudEvent(json)`.
   */
  read?: (json: string) => Parameters<InProcessEventDispatcher["dispatch"]>[0];
  /** Stops the loop after the current batch. */
  signal: AbortSignal;
  /** Messages fetched per batch. */
  batch?: number;
  /** Told of a fetch that failed; the loop fetches again after a pause. */
  onFetchError?: (error: unknown) => void;
  /** Called before each ack: the place a test crashes the process. */
  beforeAck?: (message: JsMsg) => void;
}

/** How many messages were acked, retried and terminated. */
export interface ConsumeCounts {
  acked: number;
  retried: number;
  terminated: number;
}

/**
 * Pulls, dispatches and acks until `signal` aborts. A message that is not a
 * valid event is terminated (redelivering it cannot help); a dispatch that
 * fails is nak'ed, so JetStream redelivers it after a pause.
 */
export async function consumeEvents(
  options: ConsumeOptions,
): Promise<ConsumeCounts> {
  const { consumer, dispatcher, signal, batch = 100, beforeAck, onFetchError } =
    options;
  const read = options.read ?? ((json: string) => fromCloudEvent(json));
  const counts = { acked: 0, retried: 0, terminated: 0 };
  async function handle(message: JsMsg): Promise<void> {
    let event;
    try {
      event = read(message.string());
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      message.term(error.message);
      counts.terminated++;
      return;
    }
    try {
      await dispatcher.dispatch(event);
    } catch {
      message.nak(500);
      counts.retried++;
      return;
    }
    beforeAck?.(message);
    await message.ackAck();
    counts.acked++;
  }
  while (!signal.aborted) {
    try {
      const messages = await consumer.fetch({
        max_messages: batch,
        expires: 1000,
      });
      for await (const message of messages) {
        await handle(message);
      }
    } catch (error) {
      // A broken fetch (missed heartbeats, a reconnect) loses nothing: what
      // was not acked is redelivered. Try again after a pause.
      onFetchError?.(error);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return counts;
}

if (import.meta.main) {
  const { connect } = await import("@nats-io/transport-node");
  const { AckPolicy, jetstream, jetstreamManager } = await import(
    "@nats-io/jetstream"
  );
  const { default: pg } = await import("pg");
  const { InProcessEventDispatcher, defineEvent } = await import(
    "../../mod.ts"
  );
  const { PostgresInbox } = await import("../../postgres.ts");
  const { ensureStream, STREAM } = await import("./relay.ts");

  const InviteCreated = defineEvent<"invite.created", { email: string }>(
    "invite.created",
  );
  const nats = await connect({
    servers: Deno.env.get("NATS_URL") ?? "127.0.0.1:4222",
  });
  const jsm = await jetstreamManager(nats);
  await ensureStream(jsm);
  await jsm.consumers.add(STREAM, {
    durable_name: "mailer",
    ack_policy: AckPolicy.Explicit,
  });
  const db = new pg.Pool({
    connectionString: Deno.env.get("DATABASE_URL") ?? "",
  });
  const inbox = new PostgresInbox(db);
  await inbox.migrate();
  await db.query("CREATE TABLE IF NOT EXISTS welcome_emails (email text)");
  const dispatcher = new InProcessEventDispatcher();
  dispatcher.register(InviteCreated, async function sendWelcome(event) {
    const sent = await inbox.handle(
      "send-welcome",
      event,
      (tx) =>
        tx.query("INSERT INTO welcome_emails VALUES ($1)", [
          event.payload.email,
        ]),
    );
    console.log(
      `${event.eventId} ${sent ? "welcome email queued" : "already done"}`,
    );
  });
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  Deno.addSignalListener("SIGINT", () => stop.abort());
  await consumeEvents({
    consumer: await jetstream(nats).consumers.get(STREAM, "mailer"),
    dispatcher,
    read: (json) => fromCloudEvent(json, { definitions: [InviteCreated] }),
    signal: stop.signal,
  });
  await nats.drain();
  await db.end();
}
