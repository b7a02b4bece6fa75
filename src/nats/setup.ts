import { checkInteger, checkOptions } from "../_shared/_arguments.ts";
import { checkName, checkSubjectPrefix } from "./_checks.ts";
import type { JetStreamManagerLike } from "./jetstream_types.ts";
import { DEFAULT_SUBJECT_PREFIX } from "./subject.ts";

/** The stream relayed events go to unless told otherwise. */
export const DEFAULT_STREAM = "DOMAIN_EVENTS";

const NANOS_PER_MS = 1_000_000;
const DAY_MS = 86_400_000;

/**
 * Options for {@linkcode ensureStream}.
 *
 * @example Usage
 * ```ts
 * import type { EnsureStreamOptions } from "@seedwork/domain-events/nats";
 *
 * const options: EnsureStreamOptions = { replicas: 3, duplicateWindowMs: 2 * 3_600_000 };
 * ```
 */
export interface EnsureStreamOptions {
  /**
   * The stream's name.
   *
   * @default {"DOMAIN_EVENTS"}
   */
  stream?: string;
  /**
   * The subject prefix; the stream stores `${subjectPrefix}.>`.
   *
   * @default {"events"}
   */
  subjectPrefix?: string;
  /**
   * How many servers keep a copy of each message: 1 on a single server, 3
   * (or 5) in a cluster, where the stream then survives the loss of one
   * (or two) servers.
   *
   * @default {1}
   */
  replicas?: number;
  /**
   * How long the stream remembers each `Nats-Msg-Id`, in milliseconds (1
   * second to 1 day): a relay that publishes an event again within it (its
   * acknowledgement was lost in an outage, or it crashed before the outbox
   * marked the publication completed) is told "duplicate" and the stream
   * keeps one copy. It must outlast a relay's longest outage plus the
   * outbox's `leaseMs` and its circuit breaker's pause: past the window a
   * late re-publish is stored again (the consumer's inbox still runs its
   * effects once). The server keeps every id of the window in memory.
   *
   * @default {3600000} (one hour)
   */
  duplicateWindowMs?: number;
}

/**
 * Creates the stream the relay publishes to, when missing: file storage,
 * subjects `${subjectPrefix}.>`, the duplicate window and replicas given.
 * A stream that exists is left as it is (change it with `nats stream edit`).
 * Safe to run at every start, from several processes at once.
 *
 * @param jsm `await jetstreamManager(nc)`.
 * @param options The stream's name, subjects, replicas and duplicate window.
 * @returns A promise that resolves once the stream exists.
 * @throws {TypeError} When an option is not valid.
 * @throws What JetStream answered when it could not create the stream.
 *
 * @example Against an in-memory stand-in (a real one: `await jetstreamManager(nc)`)
 * ```ts
 * import { ensureStream, type JetStreamManagerLike, type JetStreamStreamConfig } from "@seedwork/domain-events/nats";
 * import assert from "node:assert/strict";
 *
 * const streams = new Map<string, JetStreamStreamConfig>();
 * const missing = () => Promise.reject(new Error("stream not found"));
 * const jsm: JetStreamManagerLike = {
 *   streams: {
 *     info: (name) => streams.has(name) ? Promise.resolve(streams.get(name)) : missing(),
 *     add: (config) => Promise.resolve(streams.set(config.name, config)),
 *   },
 *   consumers: { info: missing, add: missing },
 * };
 * await ensureStream(jsm, { replicas: 3 });
 * assert.deepEqual(streams.get("DOMAIN_EVENTS"), {
 *   name: "DOMAIN_EVENTS",
 *   subjects: ["events.>"],
 *   duplicate_window: 3_600_000_000_000,
 *   num_replicas: 3,
 * });
 * ```
 */
export async function ensureStream(
  jsm: JetStreamManagerLike,
  options: EnsureStreamOptions = {},
): Promise<void> {
  checkOptions(
    options,
    ["stream", "subjectPrefix", "replicas", "duplicateWindowMs"],
    "ensureStream",
  );
  const {
    stream = DEFAULT_STREAM,
    subjectPrefix = DEFAULT_SUBJECT_PREFIX,
    replicas = 1,
    duplicateWindowMs = 3_600_000,
  } = options;
  checkName(stream, "stream");
  checkSubjectPrefix(subjectPrefix);
  checkInteger(replicas, "replicas", 1, 5);
  checkInteger(duplicateWindowMs, "duplicateWindowMs", 1_000, DAY_MS);
  await createIfMissing(
    () => jsm.streams.info(stream),
    () =>
      jsm.streams.add({
        name: stream,
        subjects: [`${subjectPrefix}.>`],
        duplicate_window: duplicateWindowMs * NANOS_PER_MS,
        num_replicas: replicas,
      }),
  );
}

/**
 * Options for {@linkcode ensureConsumer}.
 *
 * @example Usage
 * ```ts
 * import type { EnsureConsumerOptions } from "@seedwork/domain-events/nats";
 *
 * const options: EnsureConsumerOptions = { name: "mailer", ackWaitMs: 60_000 };
 * ```
 */
export interface EnsureConsumerOptions {
  /** The durable consumer's name; every process of one service shares it. */
  name: string;
  /**
   * The stream it reads.
   *
   * @default {"DOMAIN_EVENTS"}
   */
  stream?: string;
  /**
   * How long JetStream waits for an ack before it delivers a message again,
   * in milliseconds (1 second to 1 day): longer than a dispatch's slowest run.
   *
   * @default {30000}
   */
  ackWaitMs?: number;
  /**
   * The most messages delivered and not yet acked, over every process.
   *
   * @default {1000}
   */
  maxAckPending?: number;
}

/**
 * Creates a durable pull consumer with explicit acks on the stream, when
 * missing; it has the stream's replicas, and delivers each message until it
 * is acked or terminated. A consumer that exists is left as it is. Safe to
 * run at every start, from several processes at once.
 *
 * @param jsm `await jetstreamManager(nc)`.
 * @param options The consumer's name, its stream, ack wait and ack window.
 * @returns A promise that resolves once the consumer exists.
 * @throws {TypeError} When an option is not valid.
 * @throws What JetStream answered when it could not create the consumer.
 *
 * @example Against an in-memory stand-in (a real one: `await jetstreamManager(nc)`)
 * ```ts
 * import { ensureConsumer, type JetStreamConsumerConfig, type JetStreamManagerLike } from "@seedwork/domain-events/nats";
 * import assert from "node:assert/strict";
 *
 * const consumers = new Map<string, JetStreamConsumerConfig>();
 * const jsm: JetStreamManagerLike = {
 *   streams: { info: () => Promise.resolve(), add: () => Promise.resolve() },
 *   consumers: {
 *     info: (_stream, name) => consumers.has(name) ? Promise.resolve() : Promise.reject(new Error("consumer not found")),
 *     add: (_stream, config) => Promise.resolve(consumers.set(config.durable_name, config)),
 *   },
 * };
 * await ensureConsumer(jsm, { name: "mailer" });
 * assert.equal(consumers.get("mailer")?.ack_wait, 30_000_000_000);
 * ```
 */
export async function ensureConsumer(
  jsm: JetStreamManagerLike,
  options: EnsureConsumerOptions,
): Promise<void> {
  checkOptions(
    options,
    ["name", "stream", "ackWaitMs", "maxAckPending"],
    "ensureConsumer",
  );
  const {
    name,
    stream = DEFAULT_STREAM,
    ackWaitMs = 30_000,
    maxAckPending = 1_000,
  } = options;
  checkName(name, "name");
  checkName(stream, "stream");
  checkInteger(ackWaitMs, "ackWaitMs", 1_000, DAY_MS);
  checkInteger(maxAckPending, "maxAckPending", 1, 1_000_000);
  await createIfMissing(
    () => jsm.consumers.info(stream, name),
    () =>
      jsm.consumers.add(stream, {
        durable_name: name,
        ack_policy: "explicit",
        ack_wait: ackWaitMs * NANOS_PER_MS,
        max_ack_pending: maxAckPending,
      }),
  );
}

// Looks first; creates when the look fails; a creation that fails because
// another process created it at the same time is fine when a second look
// finds it.
async function createIfMissing(
  info: () => Promise<unknown>,
  add: () => Promise<unknown>,
): Promise<void> {
  try {
    await info();
    return;
  } catch {
    // missing, or unreachable: creating tells which
  }
  try {
    await add();
  } catch (error) {
    await info().catch(() => {
      throw error;
    });
  }
}

/**
 * Client settings that keep a NATS connection reconnecting for as long as
 * the broker is away, whatever the outage's length; spread them into
 * `connect()` of `@nats-io/transport-node` (or any NATS transport):
 *
 * - `maxReconnectAttempts: -1`: never give up (the client's default, 10
 *   attempts, closes the connection after about 20 s of outage, and a closed
 *   connection never comes back);
 * - `waitOnFirstConnect: true`: a process started during an outage waits
 *   for the broker instead of failing;
 * - `reconnectTimeWait: 1000`: one attempt per server per second;
 * - `pingInterval: 10000` and `maxPingOut: 3`: a server that stopped
 *   answering without closing the socket is noticed within 30 s.
 *
 * While it reconnects, publishes wait (and the relay fails after its
 * `timeoutMs`), and a consumer's pull waits for the reconnect.
 *
 * @example With @nats-io/transport-node
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { RECONNECT_FOREVER } from "@seedwork/domain-events/nats";
 *
 * const nc = await connect({ servers: ["127.0.0.1:4222", "127.0.0.1:4223"], ...RECONNECT_FOREVER });
 * ```
 */
export const RECONNECT_FOREVER: ReconnectForeverOptions = Object.freeze({
  maxReconnectAttempts: -1,
  waitOnFirstConnect: true,
  reconnectTimeWait: 1_000,
  pingInterval: 10_000,
  maxPingOut: 3,
});

/**
 * The type of {@linkcode RECONNECT_FOREVER}: NATS `ConnectionOptions` fields.
 *
 * @example Usage
 * ```ts
 * import { RECONNECT_FOREVER, type ReconnectForeverOptions } from "@seedwork/domain-events/nats";
 *
 * const options: ReconnectForeverOptions = { ...RECONNECT_FOREVER, reconnectTimeWait: 2_000 };
 * ```
 */
export interface ReconnectForeverOptions {
  /** `-1`: reconnect forever. */
  readonly maxReconnectAttempts: -1;
  /** `true`: a first connection also retries until the broker answers. */
  readonly waitOnFirstConnect: true;
  /** The pause between two attempts on one server, in milliseconds. */
  readonly reconnectTimeWait: number;
  /** How often the client pings the server, in milliseconds. */
  readonly pingInterval: number;
  /** Pings without an answer before the client reconnects. */
  readonly maxPingOut: number;
}
