import {
  checkArgument,
  checkInteger,
  checkOptions,
} from "../_shared/_arguments.ts";
import { fromCloudEvent } from "../cloudevents/cloud_event.ts";
import type { InProcessEventDispatcher } from "../dispatch/dispatcher.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent } from "../event/types.ts";
import type { SqlQueryable } from "../postgres/database.ts";
import type { PostgresInbox } from "../postgres/inbox.ts";
import { describeError } from "../_shared/_messages.ts";
import { sleep } from "../_shared/_sleep.ts";
import { isUnstorable } from "../_shared/_text.ts";
import { reportingTo, settle } from "./_reporting.ts";
import type {
  JetStreamFetch,
  JetStreamMessage,
  JetStreamPullConsumer,
} from "./jetstream_types.ts";

/**
 * Options for {@linkcode consumeEvents}.
 *
 * @example Usage
 * ```ts
 * import { defineEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import type { ConsumeEventsOptions, JetStreamPullConsumer } from "@seedwork/domain-events/nats";
 * import type { PostgresInbox } from "@seedwork/domain-events/postgres";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * function mailer(consumer: JetStreamPullConsumer, inbox: PostgresInbox, signal: AbortSignal): ConsumeEventsOptions {
 *   return {
 *     consumer,
 *     inbox,
 *     name: "mailer",
 *     definitions: [InviteCreated],
 *     dispatcher: (tx) => {
 *       const dispatcher = new InProcessEventDispatcher();
 *       dispatcher.register(InviteCreated, async (event) => {
 *         await tx.query("INSERT INTO welcome_emails (email) VALUES ($1)", [event.payload.email]);
 *       });
 *       return dispatcher;
 *     },
 *     signal,
 *   };
 * }
 * ```
 */
export interface ConsumeEventsOptions {
  /** The durable pull consumer: `await js.consumers.get(stream, name)`. */
  consumer: JetStreamPullConsumer;
  /**
   * The events this consumer reads, checked by `fromCloudEvent(json, {
   * definitions })`: a message that is not one of them is terminated.
   */
  // deno-lint-ignore no-explicit-any
  definitions: readonly EventDefinition<string, any, any>[];
  /** The inbox that runs each event's dispatch once per `name`. */
  inbox: Pick<PostgresInbox, "handle">;
  /** The inbox's consumer name, 1 to 128 characters, without NUL or lone surrogates. */
  name: string;
  /**
   * Builds the dispatcher of one event inside its inbox transaction `tx`:
   * its handlers write their effects through `tx`, so the effects commit
   * with the inbox's claim, or not at all. Called once per message.
   */
  dispatcher: (tx: SqlQueryable) => Pick<InProcessEventDispatcher, "dispatch">;
  /**
   * Stops the consumer: the pull in flight ends, the message in hand is
   * finished (dispatched and acked), and `consumeEvents` resolves. Messages
   * fetched and not yet handled are delivered again after the consumer's
   * ack wait.
   */
  signal: AbortSignal;
  /**
   * The most messages one pull asks for, 1 to 10,000.
   *
   * @default {100}
   */
  batch?: number;
  /**
   * How long one pull waits for messages, in milliseconds (1,000 to
   * 60,000); an idle consumer pulls again after it.
   *
   * @default {5000}
   */
  expiresMs?: number;
  /**
   * The delay before JetStream delivers a message again after its dispatch
   * failed (`nak`), in milliseconds: a number, or a function of how often it
   * was delivered (1 the first time). The default doubles from 1 second up
   * to 1 minute. A function that throws or answers out of range (0 to
   * 86,400,000) is reported to `onError`, and the message is nak'ed after
   * the default delay all the same.
   */
  retryDelayMs?: number | ((deliveryCount: number) => number);
  /**
   * Told of every failure, which never stops the consumer: a dispatch that
   * failed (the message is nak'ed), a `retryDelayMs` that failed, a message
   * that is not an event (it is terminated), a pull that failed (the broker
   * is away: the consumer pulls again after a second). An ack, nak or term
   * that throws or rejects (a client on a closed connection) is told as an
   * Error naming the delivery and the event, with the client's error as its
   * `cause`; the rest of the batch is handled, and JetStream delivers that
   * message again after the ack wait.
   *
   * When `onError` throws (or returns a promise that rejects), the consumer
   * goes on all the same: that report goes to `console.error`, followed by
   * an Error saying that `onError` threw, with its error as `cause` (and
   * should `console.error` throw as well, `consumeEvents` rejects with that).
   *
   * @default {console.error}
   */
  onError?: (error: unknown) => void;
}

/**
 * What {@linkcode consumeEvents} did before it stopped. A message whose ack,
 * nak or term threw is not counted: JetStream delivers it again.
 *
 * @example Usage
 * ```ts
 * import type { ConsumeEventsResult } from "@seedwork/domain-events/nats";
 *
 * const result: ConsumeEventsResult = { acked: 10, retried: 1, terminated: 0 };
 * ```
 */
export interface ConsumeEventsResult {
  /** Messages dispatched (or found done in the inbox) and acked. */
  readonly acked: number;
  /** Messages whose dispatch failed, nak'ed for a later delivery. */
  readonly retried: number;
  /** Messages that were not one of the `definitions`' events, terminated. */
  readonly terminated: number;
}

/** The pause after a failed pull, in milliseconds. */
const PULL_RETRY_MS = 1_000;

/**
 * Consumes a durable JetStream pull consumer until `signal` aborts. Each
 * message is read with `fromCloudEvent(json, { definitions })`; its event is
 * dispatched inside a {@linkcode PostgresInbox} claim
 * (`inbox.handle(name, event, (tx) => dispatcher(tx).dispatch(event))`),
 * and the message is acked once that committed. So each event's effects
 * happen once per consumer name, however often JetStream delivers it
 * (redeliveries after a crash before the ack, after an outage, duplicates
 * in the stream). A dispatch that fails is rolled back and `nak`ed with a
 * delay; a message that is not an event is terminated (`term`): redelivering
 * it cannot help.
 *
 * Outages do not stop it: a pull that fails is retried every second, and a
 * connection made with {@linkcode RECONNECT_FOREVER} reconnects by itself,
 * however long the broker is away; an ack lost in an outage means one more
 * delivery, which the inbox runs nothing for. Aborting `signal` stops it at
 * once, also in the middle of an outage.
 *
 * @param options The consumer, its definitions, inbox, dispatcher and stop signal.
 * @returns What it did, once stopped.
 * @throws {TypeError} When an option is not valid.
 *
 * @example Consuming a stand-in stream (a real one: `await js.consumers.get(stream, name)`)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { createEvent, defineEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import { toCloudEvent } from "@seedwork/domain-events/cloudevents";
 * import { consumeEvents, type JetStreamMessage, type JetStreamPullConsumer } from "@seedwork/domain-events/nats";
 * import { PostgresInbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const db = new PGlite();
 * await db.query("CREATE TABLE welcome_emails (email text)");
 * const inbox = new PostgresInbox(db);
 * await inbox.migrate();
 *
 * // The same event delivered twice (a redelivery), then the stream is empty.
 * const json = JSON.stringify(toCloudEvent(InviteCreated.create({ email: "ada@example.com" }), { source: "/invites" }));
 * const acked: number[] = [];
 * const message = (delivery: number): JetStreamMessage => ({
 *   info: { deliveryCount: delivery },
 *   string: () => json,
 *   ack: () => {},
 *   ackAck: () => Promise.resolve(acked.push(delivery)),
 *   nak: () => {},
 *   term: () => {},
 * });
 * const stop = new AbortController();
 * let pulls = 0;
 * const consumer: JetStreamPullConsumer = {
 *   fetch: () => {
 *     if (++pulls > 1) stop.abort();
 *     const messages = pulls == 1 ? [message(1), message(2)] : [];
 *     return Promise.resolve({ async *[Symbol.asyncIterator]() { yield* messages; }, stop() {} });
 *   },
 * };
 *
 * const result = await consumeEvents({
 *   consumer,
 *   inbox,
 *   name: "mailer",
 *   definitions: [InviteCreated],
 *   dispatcher: (tx) => {
 *     const dispatcher = new InProcessEventDispatcher();
 *     dispatcher.register(InviteCreated, async (event) => {
 *       await tx.query("INSERT INTO welcome_emails VALUES ($1)", [event.payload.email]);
 *     });
 *     return dispatcher;
 *   },
 *   signal: stop.signal,
 * });
 * assert.deepEqual(result, { acked: 2, retried: 0, terminated: 0 });
 * assert.deepEqual((await db.query("SELECT email FROM welcome_emails")).rows, [{ email: "ada@example.com" }]);
 * await db.close();
 * ```
 */
export async function consumeEvents(
  options: ConsumeEventsOptions,
): Promise<ConsumeEventsResult> {
  const settings = readOptions(options);
  const { consumer, signal, batch, expiresMs, onError } = settings;
  const counts = { acked: 0, retried: 0, terminated: 0 };
  while (!signal.aborted) {
    let messages: JetStreamFetch | undefined;
    const stopPull = () => messages?.stop();
    signal.addEventListener("abort", stopPull);
    try {
      messages = await consumer.fetch({
        max_messages: batch,
        expires: expiresMs,
      });
      if (signal.aborted) messages.stop();
      await handleBatch(messages, settings, counts);
    } catch (error) {
      // A pull that failed (the broker is away, missed heartbeats) loses
      // nothing: what was not acked comes back.
      onError(error);
      await sleep(PULL_RETRY_MS, signal);
    } finally {
      signal.removeEventListener("abort", stopPull);
    }
  }
  return counts;
}

type Settings = ReturnType<typeof readOptions>;

async function handleBatch(
  messages: JetStreamFetch,
  settings: Settings,
  counts: { acked: number; retried: number; terminated: number },
): Promise<void> {
  for await (const message of messages) {
    await handle(message, settings, counts);
    if (settings.signal.aborted) break;
  }
}

async function handle(
  message: JetStreamMessage,
  settings: Settings,
  counts: { acked: number; retried: number; terminated: number },
): Promise<void> {
  const { definitions, inbox, name, dispatcher, onError } = settings;
  let event: DomainEvent;
  try {
    // deno-lint-ignore no-explicit-any
    event = fromCloudEvent<EventDefinition<string, any, any>>(
      message.string(),
      { definitions },
    );
  } catch (error) {
    onError(error);
    if (
      await settle(() => message.term(String(error).slice(0, 1_000)), {
        action: "term",
        message,
        subject: "a message that is not one of the definitions' events",
        consequence: "it comes back after the ack wait and is terminated then",
      }, onError)
    ) counts.terminated++;
    return;
  }
  try {
    await inbox.handle(name, event, (tx) => dispatcher(tx).dispatch(event));
  } catch (error) {
    onError(error);
    const delay = retryDelay(message.info.deliveryCount, event, settings);
    if (
      await settle(() => message.nak(delay), {
        action: "nak",
        message,
        subject: `event ${event.eventId}`,
        consequence:
          `it comes back after the ack wait instead of the ${delay} ms delay`,
      }, onError)
    ) counts.retried++;
    return;
  }
  if (
    await settle(() => message.ackAck(), {
      action: "ack",
      message,
      subject: `event ${event.eventId}`,
      consequence:
        "its effects are committed: the redelivery after the ack wait finds the inbox's claim and runs nothing",
    }, onError)
  ) counts.acked++;
}

function readOptions(options: ConsumeEventsOptions) {
  checkOptions(options, [
    "consumer",
    "definitions",
    "inbox",
    "name",
    "dispatcher",
    "signal",
    "batch",
    "expiresMs",
    "retryDelayMs",
    "onError",
  ], "consumeEvents");
  const {
    consumer,
    definitions,
    inbox,
    name,
    dispatcher,
    signal,
    batch = 100,
    expiresMs = 5_000,
    retryDelayMs = defaultRetryDelay,
    onError = console.error,
  } = options;
  checkArgument(
    typeof consumer?.fetch == "function",
    "consumer",
    "a pull consumer (await js.consumers.get(stream, name))",
    consumer,
  );
  checkArgument(
    Array.isArray(definitions) && definitions.length > 0,
    "definitions",
    "a non-empty array of event definitions",
    definitions,
  );
  checkArgument(
    typeof inbox?.handle == "function",
    "inbox",
    "a PostgresInbox",
    inbox,
  );
  checkArgument(
    typeof name == "string" && name.length >= 1 && name.length <= 128 &&
      !isUnstorable(name),
    "name",
    "a consumer name of 1 to 128 characters, without NUL or lone surrogates",
    name,
  );
  checkArgument(
    typeof dispatcher == "function",
    "dispatcher",
    "a function of the transaction that returns a dispatcher",
    dispatcher,
  );
  checkArgument(
    signal instanceof AbortSignal,
    "signal",
    "an AbortSignal",
    signal,
  );
  checkInteger(batch, "batch", 1, 10_000);
  checkInteger(expiresMs, "expiresMs", 1_000, 60_000);
  if (typeof retryDelayMs != "function") {
    checkInteger(retryDelayMs, "retryDelayMs", 0, 86_400_000);
  }
  checkArgument(
    typeof onError == "function",
    "onError",
    "a function",
    onError,
  );
  return {
    consumer,
    definitions,
    inbox,
    name,
    dispatcher,
    signal,
    batch,
    expiresMs,
    onError: reportingTo(onError),
    retryDelayMs: typeof retryDelayMs == "function"
      ? retryDelayMs
      : () => retryDelayMs,
  };
}

// The nak delay: retryDelayMs's, or the default when it throws or answers
// out of range. Either way the message is nak'ed (a throw escaping here would
// leave it and the rest of its batch unhandled until the ack wait), and the
// failure is reported.
function retryDelay(
  deliveryCount: number,
  event: DomainEvent,
  { retryDelayMs, onError }: Settings,
): number {
  try {
    return checkInteger(
      retryDelayMs(deliveryCount),
      "retryDelayMs",
      0,
      86_400_000,
    );
  } catch (cause) {
    const delay = defaultRetryDelay(deliveryCount);
    onError(
      new Error(
        `consumeEvents: retryDelayMs failed on delivery ${deliveryCount} of event ${event.eventId} (${
          describeError(cause)
        }); nak'ed after the default ${delay} ms`,
        { cause },
      ),
    );
    return delay;
  }
}

function defaultRetryDelay(deliveryCount: number): number {
  return Math.min(1_000 * 2 ** (deliveryCount - 1), 60_000);
}
