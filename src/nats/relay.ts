import {
  checkArgument,
  checkInteger,
  checkOptions,
} from "../_shared/_arguments.ts";
import { describeError } from "../_shared/_messages.ts";
import { toCloudEvent } from "../cloudevents/cloud_event.ts";
import type { DomainEvent } from "../event/types.ts";
import { checkName, checkSubjectPrefix } from "./_checks.ts";
import type {
  JetStreamPublisher,
  NatsConnectionStatus,
} from "./jetstream_types.ts";
import { DEFAULT_STREAM } from "./setup.ts";
import { DEFAULT_SUBJECT_PREFIX, subjectOf } from "./subject.ts";

/**
 * Options for {@linkcode natsRelay}.
 *
 * @example Usage
 * ```ts
 * import type { NatsRelayOptions } from "@seedwork/domain-events/nats";
 *
 * const options: NatsRelayOptions = { source: "/invites", timeoutMs: 2_000 };
 * ```
 */
export interface NatsRelayOptions {
  /**
   * The CloudEvents `source` of every event: a non-empty URI-reference
   * without whitespace, e.g. `"/invites"`.
   */
  source: string;
  /**
   * The stream that must store the events: a publish that lands anywhere
   * else is refused by the server.
   *
   * @default {"DOMAIN_EVENTS"}
   */
  stream?: string;
  /**
   * The subject prefix, as {@linkcode subjectOf} uses it.
   *
   * @default {"events"}
   */
  subjectPrefix?: string;
  /**
   * How long a publish waits for JetStream's acknowledgement, in
   * milliseconds (100 to 60,000): during an outage each run of the listener
   * fails after this long, so that the outbox retries it later (and its
   * circuit breaker pauses the relay).
   *
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * The connection `js` runs on (`nc`): while it is disconnected (every
   * server away, the client reconnecting) or closed, the listener fails at
   * once, without waiting `timeoutMs`, with an Error saying since when. Its
   * state when the relay is made counts too (`nc.isClosed()`, and `nc.rtt()`,
   * which rejects at once while disconnected); then its status events. Without
   * it, a run during an outage fails after `timeoutMs`.
   */
  connection?: NatsConnectionStatus;
}

/**
 * A durable listener for `outbox.registerAny` that relays every stored event
 * to JetStream: CloudEvents JSON (`toCloudEvent`) on the subject
 * {@linkcode subjectOf} maps its type to, with the header
 * `Nats-Msg-Id: <eventId>`. It resolves once JetStream acknowledged the
 * message (stored, or recognised as a duplicate within the stream's
 * duplicate window), so the outbox marks the publication completed only
 * then. A relay that publishes and dies before that mark publishes again
 * after the outbox's lease: the stream keeps one copy.
 *
 * When the broker is unreachable the listener fails fast with an Error
 * that says so: at once while `connection` is disconnected (every server
 * down), within `timeoutMs` otherwise (the stream without a leader, a lost
 * acknowledgement), its cause attached: the outbox records the attempt and retries, and its
 * circuit breaker (`circuitBreaker: { threshold, pauseMs }`) pauses the
 * listener after `threshold` consecutive failures instead of spending the
 * publications' attempts on the outage.
 *
 * @param js `jetstream(nc)` of `@nats-io/jetstream`, on a connection made
 *   with {@linkcode RECONNECT_FOREVER}.
 * @param options The CloudEvents source, the stream, the subject prefix and the ack timeout.
 * @returns The listener.
 * @throws {TypeError} When `js` has no `publish` method or an option is not valid.
 *
 * @example A publish and its acknowledgement (here an in-memory stand-in for `jetstream(nc)`)
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { natsRelay, type JetStreamPublisher } from "@seedwork/domain-events/nats";
 * import assert from "node:assert/strict";
 *
 * const stored = new Map<string, string>();
 * const js: JetStreamPublisher = {
 *   publish(subject, payload, { msgID }) {
 *     const duplicate = stored.has(msgID);
 *     if (!duplicate) stored.set(msgID, `${subject} ${payload}`);
 *     return Promise.resolve({ stream: "DOMAIN_EVENTS", seq: stored.size, duplicate });
 *   },
 * };
 * const relay = natsRelay(js, { source: "/invites" });
 * const event = createEvent("invite.created", { email: "ada@example.com" });
 * await relay(event);
 * await relay(event); // published again after a crash: stored once
 * assert.equal(stored.size, 1);
 * assert.match(stored.get(event.eventId)!, /^events\.invite\.created \{"specversion":"1\.0"/);
 * // In an application: outbox.registerAny("nats-relay", relay);
 * ```
 */
export function natsRelay(
  js: JetStreamPublisher,
  options: NatsRelayOptions,
): (event: DomainEvent) => Promise<void> {
  checkArgument(
    typeof js?.publish == "function",
    "js",
    "a JetStream client (jetstream(nc))",
    js,
  );
  checkOptions(
    options,
    ["source", "stream", "subjectPrefix", "timeoutMs", "connection"],
    "natsRelay",
  );
  const {
    source,
    stream = DEFAULT_STREAM,
    subjectPrefix = DEFAULT_SUBJECT_PREFIX,
    timeoutMs = 5_000,
    connection,
  } = options;
  checkArgument(
    typeof source == "string" && /^\S+$/.test(source),
    "source",
    "a non-empty URI-reference without whitespace",
    source,
  );
  checkName(stream, "stream");
  checkSubjectPrefix(subjectPrefix);
  checkInteger(timeoutMs, "timeoutMs", 100, 60_000);
  checkArgument(
    connection === undefined || typeof connection?.status == "function",
    "connection",
    "a NATS connection (nc)",
    connection,
  );
  const link: Link = { down: "", heard: false };
  if (connection) watch(connection, link);
  return async function relayToNats(event: DomainEvent): Promise<void> {
    const subject = subjectOf(event.eventType, subjectPrefix);
    const payload = JSON.stringify(toCloudEvent(event, { source }));
    if (link.down) {
      throw new Error(
        `natsRelay: the broker is unreachable, the NATS connection is ${link.down}; event ${event.eventId} was not published on ${subject}`,
      );
    }
    try {
      await js.publish(subject, payload, {
        msgID: event.eventId,
        timeout: timeoutMs,
        expect: { streamName: stream },
      });
    } catch (cause) {
      throw new Error(
        `natsRelay: JetStream did not acknowledge event ${event.eventId} on ${subject} within ${timeoutMs} ms; the broker is unreachable or stream ${stream} is unavailable (${
          describeError(cause)
        })`,
        { cause },
      );
    }
  };
}

interface Link {
  /** How the connection is down, "" while it is connected. */
  down: string;
  /** Whether a status event came: it is newer than the probe at start. */
  heard: boolean;
}

// The state at start (closed, or disconnected: status events tell only of
// changes), then the status events. A status stream that fails leaves the
// timeout to tell.
function watch(connection: NatsConnectionStatus, link: Link): void {
  if (connection.isClosed?.()) link.down = "closed";
  else probe(connection, link);
  follow(connection, link);
}

async function probe(connection: NatsConnectionStatus, link: Link) {
  const asked = new Date().toISOString();
  try {
    await connection.rtt?.();
  } catch {
    if (!link.heard) {
      link.down =
        `disconnected since before ${asked} (the client is reconnecting)`;
    }
  }
}

async function follow(connection: NatsConnectionStatus, link: Link) {
  try {
    for await (const { type } of connection.status()) {
      if (type == "disconnect" || type == "reconnecting") {
        link.heard = true;
        link.down ||= `disconnected since ${
          new Date().toISOString()
        } (the client is reconnecting)`;
      } else if (type == "reconnect") {
        link.heard = true;
        link.down = "";
      } else if (type == "close") {
        link.heard = true;
        link.down = "closed";
      }
    }
  } catch {
    link.down = "";
  }
}
