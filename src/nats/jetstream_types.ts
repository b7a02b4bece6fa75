// What the NATS entry needs from a JetStream client, declared structurally so
// that the library imports no client: `jetstream(nc)`, `jetstreamManager(nc)`
// and `js.consumers.get(stream, name)` of @nats-io/jetstream fit as they are.

/**
 * The one method of a JetStream client the relay calls: `jetstream(nc)` of
 * `@nats-io/jetstream`.
 *
 * @example The shape
 * ```ts
 * import type { JetStreamPublisher } from "@seedwork/domain-events/nats";
 *
 * const published: string[] = [];
 * const js: JetStreamPublisher = {
 *   publish(subject, _payload, { msgID }) {
 *     published.push(`${subject} ${msgID}`);
 *     return Promise.resolve({ stream: "DOMAIN_EVENTS", seq: published.length, duplicate: false });
 *   },
 * };
 * ```
 */
export interface JetStreamPublisher {
  /**
   * Publishes `payload` and resolves with JetStream's acknowledgement once
   * the stream stored it (or recognised `msgID` as a duplicate).
   */
  publish(
    subject: string,
    payload: string,
    options: {
      msgID: string;
      timeout: number;
      expect: { streamName: string };
    },
  ): Promise<JetStreamPublishAck>;
}

/**
 * JetStream's acknowledgement of a publish.
 *
 * @example Usage
 * ```ts
 * import type { JetStreamPublishAck } from "@seedwork/domain-events/nats";
 *
 * const ack: JetStreamPublishAck = { stream: "DOMAIN_EVENTS", seq: 1, duplicate: false };
 * ```
 */
export interface JetStreamPublishAck {
  /** The stream that stored the message. */
  readonly stream: string;
  /** Its sequence number in the stream. */
  readonly seq: number;
  /** True when the stream had the message's `Nats-Msg-Id` already. */
  readonly duplicate: boolean;
}

/**
 * A message delivered by a pull consumer: `JsMsg` of `@nats-io/jetstream`.
 *
 * @example The shape
 * ```ts
 * import type { JetStreamMessage } from "@seedwork/domain-events/nats";
 *
 * function settle(message: JetStreamMessage, ok: boolean): void {
 *   if (ok) message.ack();
 *   else message.nak(1_000);
 * }
 * ```
 */
export interface JetStreamMessage {
  /** How often JetStream delivered the message: 1 the first time. */
  readonly info: { readonly deliveryCount: number };
  /** The payload, decoded as UTF-8. */
  string(): string;
  /** Acknowledges the message without waiting for the server. */
  ack(): void;
  /** Acknowledges the message and resolves once the server confirmed it. */
  ackAck(): Promise<unknown>;
  /** Asks for a redelivery after `millis` milliseconds. */
  nak(millis?: number): void;
  /** Never delivers the message again. */
  term(reason?: string): void;
}

/**
 * The messages of one pull request, as `consumer.fetch()` resolves them.
 *
 * @example The shape
 * ```ts
 * import type { JetStreamFetch, JetStreamMessage } from "@seedwork/domain-events/nats";
 *
 * async function first(messages: JetStreamFetch): Promise<JetStreamMessage | undefined> {
 *   for await (const message of messages) {
 *     messages.stop();
 *     return message;
 *   }
 *   return undefined;
 * }
 * ```
 */
export interface JetStreamFetch extends AsyncIterable<JetStreamMessage> {
  /** Ends the iteration: messages not yet yielded are not delivered. */
  stop(): void;
}

/**
 * A durable pull consumer: `await js.consumers.get(stream, name)` of
 * `@nats-io/jetstream`.
 *
 * @example The shape
 * ```ts
 * import type { JetStreamPullConsumer } from "@seedwork/domain-events/nats";
 *
 * async function pullOnce(consumer: JetStreamPullConsumer): Promise<number> {
 *   let count = 0;
 *   for await (const message of await consumer.fetch({ max_messages: 10, expires: 1_000 })) {
 *     message.ack();
 *     count++;
 *   }
 *   return count;
 * }
 * ```
 */
export interface JetStreamPullConsumer {
  /**
   * Pulls up to `max_messages` messages; the iteration ends when they have
   * come or after `expires` milliseconds, and throws when the pull failed
   * (missed heartbeats, a consumer or stream that is gone).
   */
  fetch(options: {
    max_messages: number;
    expires: number;
  }): Promise<JetStreamFetch>;
}

/**
 * The stream settings {@linkcode ensureStream} creates a stream with, in the
 * JetStream API's names (durations in nanoseconds).
 *
 * @example Usage
 * ```ts
 * import type { JetStreamStreamConfig } from "@seedwork/domain-events/nats";
 *
 * const config: JetStreamStreamConfig = {
 *   name: "DOMAIN_EVENTS",
 *   subjects: ["events.>"],
 *   duplicate_window: 3_600_000_000_000,
 *   num_replicas: 3,
 * };
 * ```
 */
export interface JetStreamStreamConfig {
  /** The stream's name. */
  name: string;
  /** The subjects it stores. */
  subjects: string[];
  /** How long it remembers each `Nats-Msg-Id`, in nanoseconds. */
  duplicate_window: number;
  /** How many servers keep a copy: 1, or 3 (or 5) in a cluster. */
  num_replicas: number;
}

/**
 * The consumer settings {@linkcode ensureConsumer} creates a durable pull
 * consumer with, in the JetStream API's names (durations in nanoseconds).
 *
 * @example Usage
 * ```ts
 * import type { JetStreamConsumerConfig } from "@seedwork/domain-events/nats";
 *
 * const config: JetStreamConsumerConfig = {
 *   durable_name: "mailer",
 *   ack_policy: "explicit",
 *   ack_wait: 30_000_000_000,
 *   max_ack_pending: 1_000,
 * };
 * ```
 */
export interface JetStreamConsumerConfig {
  /** The durable consumer's name. */
  durable_name: string;
  /** Always `"explicit"`: each message is acked on its own. */
  ack_policy: "explicit";
  /** How long JetStream waits for an ack before it redelivers, in nanoseconds. */
  ack_wait: number;
  /** The most messages delivered and not yet acked. */
  max_ack_pending: number;
}

/**
 * The few methods of a JetStream manager {@linkcode ensureStream} and
 * {@linkcode ensureConsumer} call: `await jetstreamManager(nc)` of
 * `@nats-io/jetstream`.
 *
 * @example The shape
 * ```ts
 * import type { JetStreamManagerLike } from "@seedwork/domain-events/nats";
 *
 * async function streamExists(jsm: JetStreamManagerLike, name: string): Promise<boolean> {
 *   return jsm.streams.info(name).then(() => true, () => false);
 * }
 * ```
 */
export interface JetStreamManagerLike {
  /** Streams: read one, create one. */
  readonly streams: {
    /** Resolves when the stream exists, rejects otherwise. */
    info(name: string): Promise<unknown>;
    /** Creates the stream. */
    add(config: JetStreamStreamConfig): Promise<unknown>;
  };
  /** Consumers: read one, create one. */
  readonly consumers: {
    /** Resolves when the consumer exists, rejects otherwise. */
    info(stream: string, name: string): Promise<unknown>;
    /** Creates the consumer. */
    add(stream: string, config: JetStreamConsumerConfig): Promise<unknown>;
  };
}

/**
 * What the relay watches on a NATS connection (`nc` of `connect()`): its
 * status events (`disconnect`, `reconnecting`, `reconnect` and `close` among
 * them), and, once when the relay is made, whether it is closed or
 * disconnected already (`isClosed()`, `rtt()`).
 *
 * @example The shape
 * ```ts
 * import type { NatsConnectionStatus } from "@seedwork/domain-events/nats";
 *
 * const neverDisconnects: NatsConnectionStatus = {
 *   status: () => ({ async *[Symbol.asyncIterator]() {} }),
 * };
 * ```
 */
export interface NatsConnectionStatus {
  /** The connection's status events, as they happen. */
  status(): AsyncIterable<{ readonly type: string }>;
  /** Whether the connection is closed for good. */
  isClosed?(): boolean;
  /**
   * A round trip to the server, which rejects at once while the connection
   * is disconnected: the status events tell only of changes, so this tells
   * whether it starts disconnected.
   */
  rtt?(): Promise<number>;
}
