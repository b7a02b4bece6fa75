// dispatchAll: collect dispatches every event; fail-fast says what was not
// dispatched (issue #10, item 5).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  DispatchError,
  HandlerError,
  InProcessEventDispatcher,
} from "../mod.ts";

/** A dispatcher whose one handler fails on events of type `b*`. */
function failingOnB(
  options: ConstructorParameters<typeof InProcessEventDispatcher>[0] = {},
) {
  const dispatcher = new InProcessEventDispatcher(options);
  const seen: string[] = [];
  dispatcher.registerAny(function handler(event) {
    seen.push(event.eventType);
    if (event.eventType.startsWith("b")) {
      throw new Error(`${event.eventType} failed`);
    }
  });
  return { dispatcher, seen };
}

describe("dispatchAll", () => {
  it("in collect mode dispatches every event, then rejects with one DispatchError of every failure, in order", async () => {
    const { dispatcher, seen } = failingOnB({ errorMode: "collect" });
    const events = ["a", "b1", "c", "b2"].map((type) => createEvent(type));
    await assert.rejects(dispatcher.dispatchAll(events), (error) => {
      assert(error instanceof DispatchError);
      assert.equal(error.event, events[1]);
      assert.deepEqual(error.errors.map((e) => e.event), [
        events[1],
        events[3],
      ]);
      assert.match(
        error.message,
        /^2 handler\(s\) failed on 2 events: handler: b1 failed; handler: b2 failed$/,
      );
      return true;
    });
    assert.deepEqual(seen, ["a", "b1", "c", "b2"]);
  });

  it("in fail-fast mode stops, and the HandlerError lists the events not dispatched", async () => {
    const { dispatcher, seen } = failingOnB();
    const events = ["a", "b", "c", "d"].map((type) => createEvent(type));
    await assert.rejects(dispatcher.dispatchAll(events), (error) => {
      assert(error instanceof HandlerError);
      assert.equal(error.event, events[1]);
      assert.equal(error.handlerName, "handler");
      assert.deepEqual(error.notDispatched, events.slice(2));
      assert(Object.isFrozen(error.notDispatched));
      assert.match(error.message, /2 later event\(s\) not dispatched/);
      return true;
    });
    assert.deepEqual(seen, ["a", "b"]);

    // The last event failing: nothing left out, and the message says nothing.
    await assert.rejects(
      dispatcher.dispatchAll([createEvent("b")]),
      (error) =>
        error instanceof HandlerError &&
        error.notDispatched?.length === 0 &&
        !/not dispatched/.test(error.message),
    );
  });

  it("in collect mode stops for what is not a handler failure; the failures so far go to onHandlerError", async () => {
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "collect",
      onHandlerError: (error) => reported.push(error),
      onUnhandled: () => {
        throw new Error("onUnhandled failed");
      },
    });
    dispatcher.register("b", () => {
      throw new Error("b failed");
    });
    const events = [createEvent("b"), createEvent("x"), createEvent("b")];
    await assert.rejects(dispatcher.dispatchAll(events), /onUnhandled failed/);
    assert.deepEqual(reported.map((e) => e.event), [events[0]]);
  });

  it("in collect mode, when something else stops it, rejects with that even if onHandlerError throws on the failures so far", async () => {
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "collect",
      onHandlerError: (error) => {
        reported.push(error);
        throw new Error("reporter down");
      },
      onUnhandled: () => {
        throw new Error("onUnhandled failed");
      },
    });
    dispatcher.register("b", () => {
      throw new Error("b failed");
    });
    const events = [createEvent("b"), createEvent("b"), createEvent("x")];
    await assert.rejects(dispatcher.dispatchAll(events), /onUnhandled failed/);
    assert.deepEqual(reported.map((e) => e.event), [events[0], events[1]]);
  });

  it("in isolate mode dispatches every event; a throwing onHandlerError stops it", async () => {
    const { dispatcher, seen } = failingOnB({
      errorMode: "isolate",
      onHandlerError: () => {
        throw new Error("reporter down");
      },
    });
    await assert.rejects(
      dispatcher.dispatchAll(["a", "b", "c"].map((t) => createEvent(t))),
      /reporter down/,
    );
    assert.deepEqual(seen, ["a", "b"]);
  });
});
