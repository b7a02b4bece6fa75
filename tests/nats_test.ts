// The ./nats entry without a server: the subject mapping, the relay's
// publish and its errors, and the stream and consumer setup, against small
// in-process stand-ins for the JetStream methods they call. The real-server
// proof is `deno task test:integration`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent } from "../mod.ts";
import { fromCloudEvent } from "../cloudevents.ts";
import {
  ensureConsumer,
  ensureStream,
  type JetStreamConsumerConfig,
  type JetStreamManagerLike,
  type JetStreamPublisher,
  type JetStreamStreamConfig,
  natsRelay,
  RECONNECT_FOREVER,
  subjectOf,
} from "../nats.ts";

describe("subjectOf", () => {
  it("prefixes the type, its dots kept as token separators", () => {
    assert.equal(subjectOf("invite.created"), "events.invite.created");
    assert.equal(subjectOf("x", "acme.events"), "acme.events.x");
  });

  it("turns wildcards and empty tokens into _", () => {
    assert.equal(subjectOf("a*.>b"), "events.a_._b");
    assert.equal(subjectOf(".a..b."), "events._.a._.b._");
    assert.equal(subjectOf("*"), "events._");
  });

  it("refuses what is not a type or a prefix", () => {
    for (const type of ["", "a b", 42, "x".repeat(257)]) {
      assert.throws(() => subjectOf(type as string), {
        name: "TypeError",
        message: /^eventType: expected an event type/,
      });
    }
    for (const prefix of ["", "a.", ".a", "a..b", "a.*", "a>", "a b", 1]) {
      assert.throws(() => subjectOf("x", prefix as string), {
        name: "TypeError",
        message: /^subjectPrefix: expected NATS subject tokens/,
      });
    }
  });
});

interface Publish {
  subject: string;
  payload: string;
  options: { msgID: string; timeout: number; expect: { streamName: string } };
}

function recordingPublisher(
  answer: (publish: Publish) => Promise<{ duplicate: boolean }>,
): { js: JetStreamPublisher; published: Publish[] } {
  const published: Publish[] = [];
  const js: JetStreamPublisher = {
    async publish(subject, payload, options) {
      const publish = { subject, payload, options };
      published.push(publish);
      const { duplicate } = await answer(publish);
      return { stream: options.expect.streamName, seq: 1, duplicate };
    },
  };
  return { js, published };
}

describe("natsRelay", () => {
  it("publishes CloudEvents JSON on the type's subject, Nats-Msg-Id = eventId, expecting its stream", async () => {
    const { js, published } = recordingPublisher(() =>
      Promise.resolve({ duplicate: false })
    );
    const event = createEvent("order.placed", { orderId: "o_1" }, {
      correlationId: "req-1",
      metadata: { tenant: "acme" },
    });
    await natsRelay(js, { source: "/orders" })(event);
    await natsRelay(js, {
      source: "/orders",
      stream: "BILLING",
      subjectPrefix: "billing",
      timeoutMs: 250,
    })(event);
    assert.equal(published.length, 2);
    const [first, second] = published;
    assert.equal(first!.subject, "events.order.placed");
    assert.deepEqual(first!.options, {
      msgID: event.eventId,
      timeout: 5_000,
      expect: { streamName: "DOMAIN_EVENTS" },
    });
    assert.deepEqual(fromCloudEvent(first!.payload), event);
    assert.equal(JSON.parse(first!.payload).source, "/orders");
    assert.equal(second!.subject, "billing.order.placed");
    assert.deepEqual(second!.options, {
      msgID: event.eventId,
      timeout: 250,
      expect: { streamName: "BILLING" },
    });
  });

  it("resolves when JetStream answers duplicate: the event is stored already", async () => {
    const { js } = recordingPublisher(() =>
      Promise.resolve({ duplicate: true })
    );
    assert.equal(
      await natsRelay(js, { source: "/x" })(createEvent("x")),
      undefined,
    );
  });

  it("fails with an error naming the outage, the cause attached, when JetStream does not acknowledge", async () => {
    const timeout = Object.assign(new Error("timeout"), {
      name: "TimeoutError",
    });
    const { js } = recordingPublisher(() => Promise.reject(timeout));
    const event = createEvent("invite.created");
    await assert.rejects(
      natsRelay(js, { source: "/x", timeoutMs: 100 })(event),
      (error: Error) => {
        assert.equal(
          error.message,
          `natsRelay: JetStream did not acknowledge event ${event.eventId} on events.invite.created within 100 ms; the broker is unreachable or stream DOMAIN_EVENTS is unavailable (timeout)`,
        );
        assert.equal(error.cause, timeout);
        return true;
      },
    );
  });

  it("fails at once while its connection is disconnected, and publishes again once it reconnected", async () => {
    const { js, published } = recordingPublisher(() =>
      Promise.resolve({ duplicate: false })
    );
    const events: { type: string }[] = [];
    let wake = () => {};
    const connection = {
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (events.length) yield events.shift()!;
            await new Promise<void>((resolve) => wake = resolve);
          }
        },
      }),
    };
    const tell = async (type: string) => {
      events.push({ type });
      wake();
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    const relay = natsRelay(js, { source: "/x", connection });
    const event = createEvent("invite.created");
    await relay(event);
    await tell("disconnect");
    await tell("reconnecting");
    await tell("disconnect");
    await assert.rejects(relay(event), {
      message: new RegExp(
        `^natsRelay: the broker is unreachable, the NATS connection is disconnected since \\d{4}-.+Z \\(the client is reconnecting\\); event ${event.eventId} was not published on events\\.invite\\.created$`,
      ),
    });
    await tell("reconnect");
    await relay(event);
    await tell("close");
    await assert.rejects(relay(event), {
      message: /the NATS connection is closed; event/,
    });
    assert.equal(published.length, 2);
  });

  it("falls back on the timeout when the status stream fails or ends", async () => {
    const { js, published } = recordingPublisher(() =>
      Promise.resolve({ duplicate: false })
    );
    const connection = {
      status: () => ({
        // deno-lint-ignore require-yield
        async *[Symbol.asyncIterator]() {
          throw new Error("status stream broke");
        },
      }),
    };
    const relay = natsRelay(js, { source: "/x", connection });
    const ended = natsRelay(js, {
      source: "/x",
      connection: { status: () => ({ async *[Symbol.asyncIterator]() {} }) },
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    await relay(createEvent("x"));
    await ended(createEvent("x"));
    assert.equal(published.length, 2);
  });

  it("refuses a client without publish and options that are not valid", () => {
    const { js } = recordingPublisher(() =>
      Promise.resolve({ duplicate: false })
    );
    const refusals: [unknown, unknown, RegExp][] = [
      [{}, { source: "/x" }, /^js: expected a JetStream client/],
      [null, { source: "/x" }, /^js: expected a JetStream client/],
      [js, undefined, /^natsRelay: expected an options object/],
      [js, { source: "/x", timeout: 1 }, /unknown option "timeout"/],
      [js, { source: "" }, /^source: expected a non-empty URI-reference/],
      [js, { source: "a b" }, /^source: /],
      [js, {}, /^source: /],
      [js, { source: "/x", stream: "a.b" }, /^stream: expected a JetStream/],
      [js, { source: "/x", subjectPrefix: "a.>" }, /^subjectPrefix: /],
      [
        js,
        { source: "/x", timeoutMs: 99 },
        /^timeoutMs: expected an integer from 100 to 60000, got 99/,
      ],
      [js, { source: "/x", timeoutMs: 1.5 }, /^timeoutMs: /],
      [
        js,
        { source: "/x", connection: {} },
        /^connection: expected a NATS connection/,
      ],
      [js, { source: "/x", connection: null }, /^connection: /],
    ];
    for (const [client, options, message] of refusals) {
      assert.throws(
        () =>
          natsRelay(
            client as JetStreamPublisher,
            options as { source: string },
          ),
        { name: "TypeError", message },
      );
    }
  });
});

function manager(state: {
  streams: Map<string, JetStreamStreamConfig>;
  consumers: Map<string, JetStreamConsumerConfig>;
  addFails?: Error;
  createdByOther?: boolean;
}): JetStreamManagerLike {
  const missing = (what: string) =>
    Promise.reject(new Error(`${what} not found`));
  return {
    streams: {
      info: (name) =>
        state.streams.has(name)
          ? Promise.resolve(state.streams.get(name))
          : missing("stream"),
      add(config) {
        if (state.createdByOther) state.streams.set(config.name, config);
        if (state.addFails) return Promise.reject(state.addFails);
        state.streams.set(config.name, config);
        return Promise.resolve(config);
      },
    },
    consumers: {
      info: (stream, name) =>
        state.consumers.has(`${stream}/${name}`)
          ? Promise.resolve()
          : missing("consumer"),
      add(stream, config) {
        const key = `${stream}/${config.durable_name}`;
        if (state.createdByOther) state.consumers.set(key, config);
        if (state.addFails) return Promise.reject(state.addFails);
        state.consumers.set(key, config);
        return Promise.resolve(config);
      },
    },
  };
}

describe("ensureStream and ensureConsumer", () => {
  it("create the stream and the durable pull consumer when missing", async () => {
    const state = { streams: new Map(), consumers: new Map() };
    const jsm = manager(state);
    await ensureStream(jsm);
    await ensureStream(jsm, {
      stream: "BILLING",
      subjectPrefix: "billing.events",
      replicas: 3,
      duplicateWindowMs: 7_200_000,
    });
    await ensureConsumer(jsm, { name: "mailer" });
    await ensureConsumer(jsm, {
      name: "ledger",
      stream: "BILLING",
      ackWaitMs: 5_000,
      maxAckPending: 10,
    });
    assert.deepEqual([...state.streams.values()], [
      {
        name: "DOMAIN_EVENTS",
        subjects: ["events.>"],
        duplicate_window: 3_600_000_000_000,
        num_replicas: 1,
      },
      {
        name: "BILLING",
        subjects: ["billing.events.>"],
        duplicate_window: 7_200_000_000_000,
        num_replicas: 3,
      },
    ]);
    assert.deepEqual([...state.consumers], [
      ["DOMAIN_EVENTS/mailer", {
        durable_name: "mailer",
        ack_policy: "explicit",
        ack_wait: 30_000_000_000,
        max_ack_pending: 1_000,
      }],
      ["BILLING/ledger", {
        durable_name: "ledger",
        ack_policy: "explicit",
        ack_wait: 5_000_000_000,
        max_ack_pending: 10,
      }],
    ]);
  });

  it("leave what exists as it is", async () => {
    const existing = {
      name: "DOMAIN_EVENTS",
      subjects: ["events.>"],
      duplicate_window: 1,
      num_replicas: 1,
    };
    const consumer = {
      durable_name: "mailer",
      ack_policy: "explicit" as const,
      ack_wait: 1,
      max_ack_pending: 1,
    };
    const state = {
      streams: new Map([["DOMAIN_EVENTS", existing]]),
      consumers: new Map([["DOMAIN_EVENTS/mailer", consumer]]),
      addFails: new Error("must not be called"),
    };
    await ensureStream(manager(state), { replicas: 3 });
    await ensureConsumer(manager(state), { name: "mailer", ackWaitMs: 9_000 });
    assert.equal(state.streams.get("DOMAIN_EVENTS"), existing);
    assert.equal(state.consumers.get("DOMAIN_EVENTS/mailer"), consumer);
  });

  it("accept a creation that lost the race to another process", async () => {
    const state = {
      streams: new Map(),
      consumers: new Map(),
      addFails: new Error("stream name already in use"),
      createdByOther: true,
    };
    await ensureStream(manager(state));
    await ensureConsumer(manager(state), { name: "mailer" });
    assert.equal(state.streams.size, 1);
    assert.equal(state.consumers.size, 1);
  });

  it("reject with JetStream's answer when creating fails", async () => {
    const refused = new Error("insufficient resources");
    const state = {
      streams: new Map(),
      consumers: new Map(),
      addFails: refused,
    };
    await assert.rejects(ensureStream(manager(state)), refused);
    await assert.rejects(
      ensureConsumer(manager(state), { name: "mailer" }),
      refused,
    );
  });

  it("refuse options that are not valid", async () => {
    const jsm = manager({ streams: new Map(), consumers: new Map() });
    const streamRefusals: [unknown, RegExp][] = [
      [null, /^ensureStream: expected an options object/],
      [{ replica: 3 }, /unknown option "replica"/],
      [{ stream: "" }, /^stream: /],
      [{ subjectPrefix: "a b" }, /^subjectPrefix: /],
      [{ replicas: 0 }, /^replicas: expected an integer from 1 to 5, got 0/],
      [{ replicas: 6 }, /^replicas: /],
      [
        { duplicateWindowMs: 999 },
        /^duplicateWindowMs: expected an integer from 1000 to 86400000/,
      ],
    ];
    for (const [options, message] of streamRefusals) {
      await assert.rejects(
        ensureStream(jsm, options as object),
        { name: "TypeError", message },
      );
    }
    const consumerRefusals: [unknown, RegExp][] = [
      [undefined, /^ensureConsumer: expected an options object/],
      [{}, /^name: expected a JetStream name/],
      [{ name: "a*" }, /^name: /],
      [{ name: "m", stream: "a/b" }, /^stream: /],
      [{ name: "m", ackWaitMs: 10 }, /^ackWaitMs: /],
      [{ name: "m", maxAckPending: 0 }, /^maxAckPending: /],
      [{ name: "m", durable: true }, /unknown option "durable"/],
    ];
    for (const [options, message] of consumerRefusals) {
      await assert.rejects(
        ensureConsumer(jsm, options as { name: string }),
        { name: "TypeError", message },
      );
    }
  });
});

describe("RECONNECT_FOREVER", () => {
  it("never gives up, also on the first connect, and is frozen", () => {
    assert.deepEqual({ ...RECONNECT_FOREVER }, {
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectTimeWait: 1_000,
      pingInterval: 10_000,
      maxPingOut: 3,
    });
    assert.ok(Object.isFrozen(RECONNECT_FOREVER));
  });
});
