// consumeEvents without a server: a small in-process stand-in for the pull
// consumer's fetch and the messages it yields, and a real PostgresInbox on
// PGlite. The real-server proof (a 3-node cluster, outages, SIGKILLs) is
// `deno task test:integration`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defineEvent,
  type DomainEvent,
  InProcessEventDispatcher,
} from "../../mod.ts";
import { toCloudEvent } from "../../cloudevents.ts";
import {
  consumeEvents,
  type ConsumeEventsOptions,
  type JetStreamFetch,
  type JetStreamMessage,
  type JetStreamPullConsumer,
} from "../../nats.ts";
import { PostgresInbox, type SqlQueryable } from "../../postgres.ts";
import { outboxFixture } from "./_outbox_fixture.ts";

const OrderPlaced = defineEvent("order.placed", {
  schema: (value): value is { orderId: string } =>
    typeof (value as { orderId?: unknown }).orderId == "string",
});
const { db, freshPrefix } = outboxFixture();

/** What the stand-in's messages were told. */
interface Settled {
  acked: boolean;
  naks: (number | undefined)[];
  terms: string[];
}

/**
 * Faults injected into a stand-in message: `ackAck` rejects with `ackRejects`
 * or throws `ackThrows`; `nak` and `term` throw theirs (as a client may on a
 * closed connection), and then record nothing.
 */
interface Faults {
  ackRejects?: Error;
  ackThrows?: Error;
  nakThrows?: Error;
  termThrows?: Error;
}

function message(
  json: string,
  deliveryCount = 1,
  faults: Faults = {},
): JetStreamMessage & Settled {
  return {
    info: { deliveryCount },
    acked: false,
    naks: [],
    terms: [],
    string: () => json,
    ack() {
      throw new Error("consumeEvents waits for the server: ackAck");
    },
    ackAck() {
      if (faults.ackThrows) throw faults.ackThrows;
      if (faults.ackRejects) return Promise.reject(faults.ackRejects);
      this.acked = true;
      return Promise.resolve(true);
    },
    nak(millis) {
      if (faults.nakThrows) throw faults.nakThrows;
      this.naks.push(millis);
    },
    term(reason) {
      if (faults.termThrows) throw faults.termThrows;
      this.terms.push(reason ?? "");
    },
  };
}

const json = (event: DomainEvent) =>
  JSON.stringify(toCloudEvent(event, { source: "/orders" }));

/**
 * One entry per pull: the messages it yields, an Error the fetch rejects
 * with, `{ yieldThenThrow }`, or "hang" (a pull that only ends on stop()).
 * After the last entry, every pull aborts `stop` and yields nothing.
 */
type Pull =
  | JetStreamMessage[]
  | Error
  | "hang"
  | { yieldThenThrow: JetStreamMessage[]; error: Error };

function pullConsumer(pulls: Pull[], stop: AbortController): {
  consumer: JetStreamPullConsumer;
  fetches: { max_messages: number; expires: number }[];
  stopped: number;
} {
  const state = {
    fetches: [] as { max_messages: number; expires: number }[],
    stopped: 0,
    consumer: {} as JetStreamPullConsumer,
  };
  state.consumer = {
    fetch(options) {
      state.fetches.push(options);
      const pull = pulls.shift();
      if (pull === undefined) stop.abort();
      if (pull instanceof Error) return Promise.reject(pull);
      let release = () => {};
      const stopped = new Promise<void>((resolve) => release = resolve);
      const fetch: JetStreamFetch = {
        async *[Symbol.asyncIterator]() {
          if (pull === "hang") return await stopped;
          if (Array.isArray(pull)) return yield* pull;
          if (pull) {
            yield* pull.yieldThenThrow;
            throw pull.error;
          }
        },
        stop() {
          state.stopped++;
          release();
        },
      };
      return Promise.resolve(fetch);
    },
  };
  return state;
}

async function setup(
  pulls: Pull[],
  options: Partial<ConsumeEventsOptions> = {},
  effect: (
    event: DomainEvent,
    tx: SqlQueryable,
    table: string,
  ) => Promise<unknown> = (event, tx, table) =>
    tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]),
) {
  const prefix = freshPrefix();
  const table = `${prefix}effects`;
  await db.query(`CREATE TABLE ${table} (event_id uuid)`);
  const inbox = new PostgresInbox(db, { tablePrefix: prefix });
  await inbox.migrate();
  const stop = new AbortController();
  const fake = pullConsumer(pulls, stop);
  const errors: unknown[] = [];
  const run = () =>
    consumeEvents({
      consumer: fake.consumer,
      inbox,
      name: "ledger",
      definitions: [OrderPlaced],
      dispatcher: (tx) => {
        const dispatcher = new InProcessEventDispatcher();
        dispatcher.register(OrderPlaced, (event) => effect(event, tx, table));
        return dispatcher;
      },
      signal: stop.signal,
      onError: (error) => errors.push(error),
      ...options,
    });
  const effects = async () =>
    (await db.query<{ event_id: string }>(`SELECT event_id FROM ${table}`))
      .rows.map((row) => row.event_id);
  return { run, stop, fake, errors, effects };
}

/** Waits, a few milliseconds at a time, until `condition` holds. */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Records the 1-second timers (the pause after a failed pull) set, and those that fired. */
function watchTimers() {
  const original = globalThis.setTimeout;
  const set: number[] = [];
  const fired: number[] = [];
  globalThis.setTimeout = ((callback: () => void, ms = 0) => {
    if (ms === 1_000) set.push(ms);
    return original(() => {
      if (ms === 1_000) fired.push(ms);
      callback();
    }, ms);
  }) as typeof setTimeout;
  return { set, fired, restore: () => globalThis.setTimeout = original };
}

describe("consumeEvents", () => {
  it("dispatches each event inside the inbox claim and acks; a redelivery runs nothing again", async () => {
    const first = OrderPlaced.create({ orderId: "o_1" });
    const second = OrderPlaced.create({ orderId: "o_2" });
    const messages = [
      message(json(first)),
      message(json(second)),
      message(json(first), 2),
    ];
    const { run, fake, errors, effects } = await setup([messages]);
    assert.deepEqual(await run(), { acked: 3, retried: 0, terminated: 0 });
    assert.deepEqual(messages.map((m) => m.acked), [true, true, true]);
    assert.deepEqual(
      (await effects()).sort(),
      [first.eventId, second.eventId].sort(),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(fake.fetches[0], { max_messages: 100, expires: 5_000 });
  });

  it("terminates what is not one of its events, and says why", async () => {
    const unknownType = JSON.stringify(
      toCloudEvent(
        defineEvent("order.cancelled").create({}),
        { source: "/orders" },
      ),
    );
    const badPayload = JSON.stringify({
      ...JSON.parse(json(OrderPlaced.create({ orderId: "o_1" }))),
      data: { orderId: 7 },
    });
    const messages = [
      message("not json"),
      message(unknownType),
      message(badPayload),
    ];
    const { run, errors, effects } = await setup([messages]);
    assert.deepEqual(await run(), { acked: 0, retried: 0, terminated: 3 });
    for (const m of messages) {
      assert.equal(m.acked, false);
      assert.equal(m.terms.length, 1);
      assert.match(m.terms[0]!, /^InvalidEventError: /);
    }
    assert.equal(errors.length, 3);
    assert.ok(errors.every((e) => (e as Error).name == "InvalidEventError"));
    assert.deepEqual(await effects(), []);
  });

  it("rolls a failed dispatch back and naks it with a delay that doubles up to a minute", async () => {
    const event = OrderPlaced.create({ orderId: "o_1" });
    const messages = [1, 2, 3, 8].map((n) => message(json(event), n));
    const failure = new Error("the warehouse is down");
    const { run, errors, effects } = await setup(
      [messages],
      {},
      async (event, tx, table) => {
        await tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]);
        throw failure;
      },
    );
    assert.deepEqual(await run(), { acked: 0, retried: 4, terminated: 0 });
    assert.deepEqual(messages.map((m) => m.naks), [
      [1_000],
      [2_000],
      [4_000],
      [60_000],
    ]);
    assert.deepEqual(await effects(), []);
    assert.equal(errors.length, 4);
    assert.equal((errors[0] as Error).cause, failure);
  });

  it("naks with the retryDelayMs given, a number or a function; a bad delay is reported", async () => {
    const event = OrderPlaced.create({ orderId: "o_1" });
    const failing = () => Promise.reject(new Error("no"));
    const fixed = message(json(event), 3);
    const a = await setup([[fixed]], { retryDelayMs: 250 }, failing);
    await a.run();
    assert.deepEqual(fixed.naks, [250]);

    const computed = message(json(event), 3);
    const b = await setup(
      [[computed]],
      { retryDelayMs: (n) => n * 10 },
      failing,
    );
    await b.run();
    assert.deepEqual(computed.naks, [30]);

    // A delay out of range is reported, and the message is nak'ed with the
    // default delay (1 s on a first delivery) all the same.
    const bad = message(json(event), 1);
    const c = await setup([[bad]], { retryDelayMs: () => -1 }, failing);
    assert.deepEqual(await c.run(), { acked: 0, retried: 1, terminated: 0 });
    assert.deepEqual(bad.naks, [1_000]);
    assert.equal(c.errors.length, 2);
    assert.match(
      String((c.errors[1] as Error).cause),
      /^TypeError: retryDelayMs: expected an integer from 0 to 86400000, got -1/,
    );
  });

  it("a retryDelayMs that throws: the dispatch's failure and the throw are reported, the message nak'ed after the default delay, the rest of the batch handled", async () => {
    // Ledger: the effects table, written by the handler only for the healthy
    // orders. Were the throw to escape handle() (as a failed pull), the
    // broken message would not be nak'ed, the two after it would be neither
    // dispatched nor acked, and the consumer would pause a second.
    const broken = OrderPlaced.create({ orderId: "o_broken" });
    const healthy = [
      OrderPlaced.create({ orderId: "o_1" }),
      OrderPlaced.create({ orderId: "o_2" }),
    ];
    const failure = new Error("the warehouse is down");
    const thrown = new Error("delay table missing");
    const messages = [broken, ...healthy].map((event) =>
      message(json(event), 3)
    );
    const timers = watchTimers();
    try {
      const { run, errors, effects, fake } = await setup(
        [messages],
        {
          retryDelayMs: () => {
            throw thrown;
          },
        },
        (event, tx, table) =>
          event.eventId === broken.eventId
            ? Promise.reject(failure)
            : tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]),
      );
      assert.deepEqual(await run(), { acked: 2, retried: 1, terminated: 0 });
      assert.deepEqual(messages.map((m) => m.naks), [[4_000], [], []]);
      assert.deepEqual(messages.map((m) => m.acked), [false, true, true]);
      assert.deepEqual(
        (await effects()).sort(),
        healthy.map((event) => event.eventId).sort(),
      );
      assert.equal(errors.length, 2);
      assert.equal((errors[0] as Error).cause, failure);
      assert.equal((errors[1] as Error).cause, thrown);
      assert.equal(
        (errors[1] as Error).message,
        `consumeEvents: retryDelayMs failed on delivery 3 of event ${broken.eventId} (delay table missing); nak'ed after the default 4000 ms`,
      );
      assert.equal(fake.fetches.length, 2, "no pull failed");
      assert.deepEqual(timers.set, [], "no pause after a failed pull");
    } finally {
      timers.restore();
    }
  });

  it("reports an ack lost in an outage with the delivery and the event; the redelivery finds the claim", async () => {
    const event = OrderPlaced.create({ orderId: "o_1" });
    const lost = new Error("TIMEOUT");
    const messages = [
      message(json(event), 1, { ackRejects: lost }),
      message(json(event), 2),
    ];
    const { run, errors, effects } = await setup([messages]);
    assert.deepEqual(await run(), { acked: 1, retried: 0, terminated: 0 });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).cause, lost);
    assert.equal(
      (errors[0] as Error).message,
      `consumeEvents: ack failed on delivery 1 of event ${event.eventId} (TIMEOUT); its effects are committed: the redelivery after the ack wait finds the inbox's claim and runs nothing`,
    );
    assert.deepEqual(await effects(), [event.eventId]);
  });

  it("a term, nak or ack that throws (a client on a closed connection) is reported with the delivery and the event, and the rest of the batch is handled", async () => {
    // Ledger: the effects table, written by the handler only for the healthy
    // orders. Were a throw from term, nak or ack to escape the message's
    // handling (into the pull's catch, as a failed pull), the messages after
    // it would be neither dispatched nor acked (o_1 and o_2 missing from the
    // effects), the consumer would pause a second, and the throw would reach
    // onError bare, without the delivery or the event.
    const termFault = new Error("connection closed (term)");
    const invalid = message("not json", 2, { termThrows: termFault });
    const broken = OrderPlaced.create({ orderId: "o_broken" });
    const healthy = [
      OrderPlaced.create({ orderId: "o_1" }),
      OrderPlaced.create({ orderId: "o_2" }),
    ];
    const failure = new Error("the warehouse is down");
    const nakFault = new Error("connection closed (nak)");
    const ackFault = new Error("connection closed (ack)");
    const nakFails = message(json(broken), 3, { nakThrows: nakFault });
    const ackFails = message(json(healthy[0]!), 1, { ackThrows: ackFault });
    const acks = message(json(healthy[1]!), 1);
    const messages = [invalid, nakFails, ackFails, acks];
    const timers = watchTimers();
    try {
      const { run, errors, effects, fake } = await setup(
        [messages],
        {},
        (event, tx, table) =>
          event.eventId === broken.eventId
            ? Promise.reject(failure)
            : tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]),
      );
      // Only what was settled counts: the term, nak and ack that threw do not.
      assert.deepEqual(await run(), { acked: 1, retried: 0, terminated: 0 });
      assert.deepEqual(
        (await effects()).sort(),
        healthy.map((event) => event.eventId).sort(),
      );
      assert.deepEqual(messages.map((m) => m.acked), [
        false,
        false,
        false,
        true,
      ]);
      assert.deepEqual(messages.map((m) => m.naks), [[], [], [], []]);
      assert.deepEqual(messages.map((m) => m.terms), [[], [], [], []]);
      assert.equal(errors.length, 5);
      const [unreadable, termFailed, dispatchFailed, nakFailed, ackFailed] =
        errors as Error[];
      assert.equal(unreadable!.name, "InvalidEventError");
      assert.equal(
        termFailed!.message,
        `consumeEvents: term failed on delivery 2 of a message that is not one of the definitions' events (connection closed (term)); it comes back after the ack wait and is terminated then`,
      );
      assert.equal(termFailed!.cause, termFault);
      assert.equal(dispatchFailed!.cause, failure);
      assert.equal(
        nakFailed!.message,
        `consumeEvents: nak failed on delivery 3 of event ${broken.eventId} (connection closed (nak)); it comes back after the ack wait instead of the 4000 ms delay`,
      );
      assert.equal(nakFailed!.cause, nakFault);
      assert.equal(
        ackFailed!.message,
        `consumeEvents: ack failed on delivery 1 of event ${
          healthy[0]!.eventId
        } (connection closed (ack)); its effects are committed: the redelivery after the ack wait finds the inbox's claim and runs nothing`,
      );
      assert.equal(ackFailed!.cause, ackFault);
      assert.equal(fake.fetches.length, 2, "no pull failed");
      assert.deepEqual(timers.set, [], "no pause after a failed pull");
    } finally {
      timers.restore();
    }
  });

  it("an onError that throws or rejects: console.error gets that report, and the consumer and the rest of the batch go on", async () => {
    // Ledger: the effects table the handler writes, and the console.error
    // lines. Were onError's throw to escape, the first report (the message
    // that is not an event) would end the batch: o_1 and o_2 never
    // dispatched; its throw in the pull's catch would end consumeEvents with
    // a rejection: o_3, pulled after the failed pull, never dispatched; a
    // rejection of an async onError left unhandled ends a Deno process (and
    // fails this test); and a report that reaches neither onError nor
    // console.error is lost.
    const invalid = message("not json");
    const broken = OrderPlaced.create({ orderId: "o_broken" });
    const healthy = ["o_1", "o_2", "o_3"].map((orderId) =>
      OrderPlaced.create({ orderId })
    );
    const failure = new Error("the warehouse is down");
    const ackFault = new Error("connection closed (ack)");
    const pullFault = new Error("heartbeats missed");
    const nakked = message(json(broken));
    const ackFails = message(json(healthy[0]!), 1, { ackRejects: ackFault });
    const acks = [message(json(healthy[1]!)), message(json(healthy[2]!))];
    const effect = (event: DomainEvent, tx: SqlQueryable, table: string) =>
      event.eventId === broken.eventId
        ? Promise.reject(failure)
        : tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]);
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const thrown = new Error("the log shipper is down");
      const throwing = await setup(
        [[invalid, nakked, ackFails, acks[0]!], pullFault, [acks[1]!]],
        {
          onError: () => {
            throw thrown;
          },
        },
        effect,
      );
      assert.deepEqual(await throwing.run(), {
        acked: 2,
        retried: 1,
        terminated: 1,
      });
      assert.deepEqual(
        (await throwing.effects()).sort(),
        healthy.map((event) => event.eventId).sort(),
      );
      assert.equal(invalid.terms.length, 1);
      assert.deepEqual(nakked.naks, [1_000]);
      assert.deepEqual(acks.map((m) => m.acked), [true, true]);
      // Each report as console.error logs it without onError, then why.
      const reports = logged.filter((_, index) => index % 2 == 0);
      const why = logged.filter((_, index) => index % 2 == 1);
      assert.equal(logged.length, 8);
      assert.equal((reports[0]![0] as Error).name, "InvalidEventError");
      assert.equal((reports[1]![0] as Error).cause, failure);
      assert.equal((reports[2]![0] as Error).cause, ackFault);
      assert.equal(reports[3]![0], pullFault);
      assert.ok(reports.every((args) => args.length == 1));
      for (const [error] of why) {
        assert.equal(
          (error as Error).message,
          "consumeEvents: onError threw (the log shipper is down) on the error logged just before",
        );
        assert.equal((error as Error).cause, thrown);
      }

      // An async onError that rejects: the same, once the rejection comes.
      logged.length = 0;
      const rejected = new Error("the log shipper is slow");
      const rejecting = await setup([[message("nope")]], {
        onError: () => Promise.reject(rejected),
      });
      assert.deepEqual(await rejecting.run(), {
        acked: 0,
        retried: 0,
        terminated: 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(logged.length, 2);
      assert.equal((logged[0]![0] as Error).name, "InvalidEventError");
      assert.equal((logged[1]![0] as Error).cause, rejected);

      // console.error throwing too: nowhere is left to report to, and the
      // failure reaches the caller rather than vanish.
      const unlogged = new Error("stderr is closed");
      console.error = () => {
        throw unlogged;
      };
      const nowhere = await setup([[message("nope")]], {
        onError: () => {
          throw thrown;
        },
      });
      await assert.rejects(nowhere.run(), (error) => error === unlogged);
    } finally {
      console.error = original;
    }
  });

  it("survives failed pulls: reports them and pulls again after a pause", async () => {
    const event = OrderPlaced.create({ orderId: "o_1" });
    const away = new Error("heartbeats missed");
    const late = message(json(event));
    const broken = new Error("consumer deleted");
    const first = message(json(OrderPlaced.create({ orderId: "o_0" })));
    const { run, errors, fake } = await setup([
      away,
      { yieldThenThrow: [first], error: broken },
      [late],
    ]);
    const started = Date.now();
    assert.deepEqual(await run(), { acked: 2, retried: 0, terminated: 0 });
    assert.ok(Date.now() - started >= 1_900, "two pauses of a second");
    assert.deepEqual(errors, [away, broken]);
    assert.equal(fake.fetches.length, 4);
    assert.ok(first.acked && late.acked);
  });

  it("stops on its signal: a pull in flight, a pause after a failure, a batch in hand", async () => {
    // A pull that waits (as during an outage) ends at once.
    const hanging = await setup(["hang"], { batch: 5, expiresMs: 30_000 });
    const running = hanging.run();
    await eventually(() => hanging.fake.fetches.length == 1);
    hanging.stop.abort();
    assert.deepEqual(await running, { acked: 0, retried: 0, terminated: 0 });
    assert.equal(hanging.fake.stopped, 1);
    assert.deepEqual(hanging.fake.fetches, [{
      max_messages: 5,
      expires: 30_000,
    }]);

    // The pause after a failed pull ends at once: its timer never fires.
    const timers = watchTimers();
    try {
      const pausing = await setup([new Error("away")]);
      const paused = pausing.run();
      await eventually(() => timers.set.includes(1_000));
      pausing.stop.abort();
      await paused;
      assert.deepEqual(timers.fired, []);
      // Aborted before the pause starts (in onError): no pause at all.
      const early = await setup([new Error("away")], {
        onError: () => early.stop.abort(),
      });
      await early.run();
      assert.deepEqual(timers.fired, []);
    } finally {
      timers.restore();
    }

    // The message in hand is finished; the rest of the batch is left for
    // a redelivery.
    const events = [1, 2, 3].map((n) =>
      OrderPlaced.create({ orderId: `${n}` })
    );
    const batch = events.map((e) => message(json(e)));
    const inHand = await setup([batch], {}, async (event, tx, table) => {
      await tx.query(`INSERT INTO ${table} VALUES ($1)`, [event.eventId]);
      inHand.stop.abort();
    });
    assert.deepEqual(await inHand.run(), {
      acked: 1,
      retried: 0,
      terminated: 0,
    });
    assert.deepEqual(batch.map((m) => m.acked), [true, false, false]);

    // Aborted while the fetch resolves: the pull is stopped before use.
    const stop = new AbortController();
    const racing = await setup([]);
    const result = await consumeEvents({
      consumer: {
        fetch() {
          stop.abort();
          return racing.fake.consumer.fetch({
            max_messages: 1,
            expires: 1_000,
          });
        },
      },
      inbox: new PostgresInbox(db),
      name: "ledger",
      definitions: [OrderPlaced],
      dispatcher: () => new InProcessEventDispatcher(),
      signal: stop.signal,
    });
    assert.deepEqual(result, { acked: 0, retried: 0, terminated: 0 });
    assert.equal(racing.fake.stopped, 1);
  });

  it("reports to console.error unless given onError", async () => {
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const { run } = await setup([[message("nope")]], {
        onError: undefined,
      } as unknown as Partial<ConsumeEventsOptions>);
      await run();
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1);
    assert.equal((logged[0]![0] as Error).name, "InvalidEventError");
  });

  it("refuses options that are not valid", async () => {
    const stop = new AbortController();
    const valid: ConsumeEventsOptions = {
      consumer: pullConsumer([], stop).consumer,
      inbox: new PostgresInbox(db),
      name: "ledger",
      definitions: [OrderPlaced],
      dispatcher: () => new InProcessEventDispatcher(),
      signal: stop.signal,
    };
    const refusals: [unknown, RegExp][] = [
      [null, /^consumeEvents: expected an options object/],
      [{ ...valid, signals: 1 }, /unknown option "signals"/],
      [{ ...valid, consumer: {} }, /^consumer: expected a pull consumer/],
      [
        { ...valid, definitions: [] },
        /^definitions: expected a non-empty array/,
      ],
      [{ ...valid, definitions: undefined }, /^definitions: /],
      [{ ...valid, inbox: {} }, /^inbox: expected a PostgresInbox/],
      [{ ...valid, name: "" }, /^name: expected a consumer name/],
      [{ ...valid, name: "x".repeat(129) }, /^name: /],
      // The inbox would refuse it at every message: each one nak'ed forever.
      [{ ...valid, name: "led\u0000ger" }, /^name: /],
      [{ ...valid, name: "\ud800" }, /^name: /],
      [
        { ...valid, dispatcher: new InProcessEventDispatcher() },
        /^dispatcher: expected a function/,
      ],
      [{ ...valid, signal: undefined }, /^signal: expected an AbortSignal/],
      [{ ...valid, batch: 0 }, /^batch: expected an integer from 1 to 10000/],
      [{ ...valid, expiresMs: 999 }, /^expiresMs: /],
      [{ ...valid, retryDelayMs: -5 }, /^retryDelayMs: /],
      [{ ...valid, onError: "log" }, /^onError: expected a function/],
    ];
    for (const [options, message] of refusals) {
      await assert.rejects(
        consumeEvents(options as ConsumeEventsOptions),
        { name: "TypeError", message },
      );
    }
  });
});
