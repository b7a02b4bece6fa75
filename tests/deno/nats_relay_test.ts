// natsRelay knows its connection's state from the start: each way of telling
// it, against stand-ins for the connection's methods. On a real nats-server
// and client: nats_live_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent } from "../../mod.ts";
import { type JetStreamPublisher, natsRelay } from "../../nats.ts";

const UNREACHABLE =
  /^natsRelay: the broker is unreachable, the NATS connection is /;

/** A publisher that counts its publishes and acknowledges each. */
function counting(): { js: JetStreamPublisher; publishes: () => number } {
  let publishes = 0;
  return {
    js: {
      publish: () => {
        publishes++;
        return Promise.resolve({
          stream: "DOMAIN_EVENTS",
          seq: publishes,
          duplicate: false,
        });
      },
    },
    publishes: () => publishes,
  };
}

/** A status stream that yields what `tell` pushes. */
function statusStream() {
  const events: { type: string }[] = [];
  let wake = () => {};
  return {
    status: () => ({
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (events.length) yield events.shift()!;
          await new Promise<void>((resolve) => wake = resolve);
        }
      },
    }),
    async tell(type: string) {
      events.push({ type });
      wake();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("natsRelay on a connection that is not up when the relay is made", () => {
  it("reads isClosed() when made: a closed connection fails every run, nothing published", async () => {
    const { js, publishes } = counting();
    const relay = natsRelay(js, {
      source: "/x",
      connection: { ...statusStream(), isClosed: () => true },
    });
    await assert.rejects(relay(createEvent("x")), {
      message: /the NATS connection is closed; event /,
    });
    assert.equal(publishes(), 0);
  });

  it("asks rtt() when made: one that rejects (disconnected) fails the runs until a reconnect", async () => {
    const { js, publishes } = counting();
    const stream = statusStream();
    const relay = natsRelay(js, {
      source: "/x",
      connection: {
        ...stream,
        isClosed: () => false,
        rtt: () => Promise.reject(new Error("connection disconnected")),
      },
    });
    await macrotask();
    await assert.rejects(relay(createEvent("x")), {
      message:
        /disconnected since before \d{4}-.+Z \(the client is reconnecting\)/,
    });
    await stream.tell("reconnect");
    await relay(createEvent("x"));
    assert.equal(publishes(), 1);
  });

  it("trusts a status event over an rtt() answer that comes after it, and a rtt() that answers", async () => {
    const { js, publishes } = counting();
    const stream = statusStream();
    let reject = (_error: Error) => {};
    const late = natsRelay(js, {
      source: "/x",
      connection: {
        ...stream,
        rtt: () => new Promise((_, no) => reject = no),
      },
    });
    await stream.tell("reconnect");
    reject(new Error("the ping of an earlier connection"));
    await macrotask();
    await late(createEvent("x"));
    const up = natsRelay(js, {
      source: "/x",
      connection: { ...statusStream(), rtt: () => Promise.resolve(3) },
    });
    await macrotask();
    await up(createEvent("x"));
    assert.equal(publishes(), 2);
  });

  it("takes a redial (reconnecting) as disconnected too", async () => {
    const { js, publishes } = counting();
    const stream = statusStream();
    const relay = natsRelay(js, { source: "/x", connection: stream });
    await stream.tell("reconnecting");
    await assert.rejects(relay(createEvent("x")), { message: UNREACHABLE });
    await stream.tell("reconnect");
    await relay(createEvent("x"));
    assert.equal(publishes(), 1);
  });
});
