// The relay: a durable outbox listener that publishes every stored event to
// NATS JetStream as CloudEvents JSON, with `Nats-Msg-Id` = eventId, so that
// JetStream drops a second publish of the same event (a relay that crashed
// after publishing and before its publication was marked completed runs the
// listener again). Run it as its own process:
//   NATS_URL=127.0.0.1:4222 DATABASE_URL=postgres://... deno run -A examples/nats/relay.ts
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { DomainEvent } from "../../mod.ts";
import { toCloudEvent } from "../../cloudevents.ts";

/** The stream every relayed event goes to, and its subjects. */
export const STREAM = "DOMAIN_EVENTS";
export const SUBJECT_PREFIX = "events";

/**
 * Creates the stream when missing. Its duplicate window (10 minutes) must
 * outlast a relay's longest outage: within it, a re-published event is
 * stored once.
 */
export async function ensureStream(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.add({
    name: STREAM,
    subjects: [`${SUBJECT_PREFIX}.>`],
    duplicate_window: 600_000 * 1_000_000, // nanoseconds
  });
}

/** The subject of an event: NATS wildcards in a type become `_`. */
export function subjectOf(event: DomainEvent): string {
  return `${SUBJECT_PREFIX}.${event.eventType.replace(/[*>]/g, "_")}`;
}

/**
 * A durable listener for `outbox.registerAny`: publishes the event and
 * resolves once JetStream has stored it (or recognised it as a duplicate).
 */
export function natsRelay(
  js: JetStreamClient,
  source: string,
): (event: DomainEvent) => Promise<void> {
  return async function relayToNats(event: DomainEvent): Promise<void> {
    await js.publish(
      subjectOf(event),
      JSON.stringify(toCloudEvent(event, { source })),
      { msgID: event.eventId },
    );
  };
}

if (import.meta.main) {
  const { connect } = await import("@nats-io/transport-node");
  const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
  const { default: pg } = await import("pg");
  const { PostgresOutbox } = await import("../../postgres.ts");

  const nats = await connect({
    servers: Deno.env.get("NATS_URL") ?? "127.0.0.1:4222",
  });
  await ensureStream(await jetstreamManager(nats));
  const db = new pg.Pool({
    connectionString: Deno.env.get("DATABASE_URL") ?? "",
  });
  const outbox = new PostgresOutbox(db);
  outbox.registerAny("nats-relay", natsRelay(jetstream(nats), "/invites"));
  await outbox.migrate();
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  await outbox.start({ signal: stop.signal, intervalMs: 200 });
  await nats.drain();
  await db.end();
}
