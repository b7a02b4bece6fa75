// Error messages stay short: a failure nested through publish chains names
// its root cause once, DispatchError names each cause (issue #10, item 6).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  type DispatcherOptions,
  DispatchError,
  HandlerError,
  InProcessEventDispatcher,
} from "../mod.ts";

/** A → B → A, forever, in handlers named ping and pong. */
function loop(options: DispatcherOptions): InProcessEventDispatcher {
  const dispatcher = new InProcessEventDispatcher(options);
  dispatcher.register("A", async function ping(_event, { publish }) {
    await publish("B");
  });
  dispatcher.register("B", async function pong(_event, { publish }) {
    await publish("A");
  });
  return dispatcher;
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe("nested failure messages", () => {
  for (const errorMode of ["fail-fast", "collect"] as const) {
    it(`${errorMode}: a 33-deep A → B → A loop says the root cause once and the depth, in under 300 characters`, async () => {
      const event = createEvent("A");
      await assert.rejects(loop({ errorMode }).dispatch(event), (error) => {
        const { message } = error as Error;
        assert(message.length < 300, `${message.length}: ${message}`);
        assert.equal(count(message, "expected at most 32 levels"), 1);
        assert.match(message, /32 dispatch\(es\) down/);
        if (errorMode == "fail-fast") {
          assert.match(message, /in handler "ping" on "A"/);
        }
        assert(message.includes(event.eventId));
        return true;
      });
    });
  }

  it("keeps the whole chain in `cause`", async () => {
    await assert.rejects(loop({}).dispatch(createEvent("A")), (error) => {
      let depth = 0;
      let cause: unknown = error;
      while (cause instanceof HandlerError) {
        cause = cause.cause;
        depth++;
      }
      assert.equal(depth, 33);
      return true;
    });
  });
});

describe("DispatchError messages", () => {
  it("name each failure with the first line of its cause, capped at three causes of 120 characters", () => {
    const event = createEvent("a");
    const errors = [
      new HandlerError(event, "one", new Error("first line\nsecond line")),
      new HandlerError(event, "two", new Error("x".repeat(500))),
      new HandlerError(event, "three", "a string"),
      new HandlerError(event, "four", new Error("4")),
      new HandlerError(event, "five", new Error("5")),
    ];
    const { message } = new DispatchError(event, errors);
    assert.equal(
      message,
      `5 handler(s) failed on "a" (${event.eventId}): one: first line; two: ${
        "x".repeat(119)
      }…; three: "a string"; and 2 more`,
    );
  });

  it("names a cause chain that loops back once, without hanging", () => {
    const event = createEvent("a");
    const first = new HandlerError(event, "first", new Error("root"));
    (first as { cause: unknown }).cause = new DispatchError(event, [first]);
    const error = new HandlerError(event, "outer", first);
    assert.match(error.message, /^Handler "outer" failed on "a"/);
  });
});
