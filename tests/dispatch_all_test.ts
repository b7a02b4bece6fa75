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

  it("in collect mode stops for what is not a handler failure, and rejects with a DispatchError of the failures so far, caused by it", async () => {
    // No onHandlerError: the failures so far can reach the caller only
    // through the rejection, so a dispatchAll that dropped them fails here.
    const stopped = new Error("onUnhandled failed");
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "collect",
      onUnhandled: () => {
        throw stopped;
      },
    });
    dispatcher.register("b", () => {
      throw new Error("b failed");
    });
    const events = [createEvent("b"), createEvent("x"), createEvent("b")];
    await assert.rejects(dispatcher.dispatchAll(events), (error) => {
      assert(error instanceof DispatchError);
      assert.equal(error.event, events[0]);
      assert.deepEqual(error.errors.map((e) => e.event), [events[0]]);
      assert.equal(error.cause, stopped);
      assert.deepEqual(error.notDispatched, [events[2]]);
      assert.match(error.message, /1 later event\(s\) not dispatched/);
      return true;
    });
  });

  it("in collect mode, an abort keeps every failure: those of earlier events and those of the event it stopped", async () => {
    // The ledger is what the handlers did; each failure must come back once.
    const controller = new AbortController();
    const failed: string[] = [];
    const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
    dispatcher.register("b", function first(event) {
      failed.push(`first ${event.eventId}`);
      throw new Error("first failed");
    });
    dispatcher.register("b", function second(event) {
      failed.push(`second ${event.eventId}`);
      if (event === events[1]) controller.abort(new Error("stop"));
      throw new Error("second failed");
    });
    dispatcher.register("b", function third(event) {
      failed.push(`third ${event.eventId}`);
      throw new Error("third failed");
    });
    const events = [createEvent("b"), createEvent("b"), createEvent("b")];
    await assert.rejects(
      dispatcher.dispatchAll(events, { signal: controller.signal }),
      (error) => {
        assert(error instanceof DispatchError);
        assert.deepEqual(
          error.errors.map((e) => `${e.handlerName} ${e.event.eventId}`),
          failed,
        );
        assert.equal((error.cause as Error).message, "stop");
        assert.deepEqual(error.notDispatched, [events[2]]);
        return true;
      },
    );
    assert.equal(failed.length, 5);
  });

  it("in collect mode, an abort before any failure rejects with the reason itself", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
    dispatcher.register("a", () => controller.abort(reason));
    await assert.rejects(
      dispatcher.dispatchAll([createEvent("a"), createEvent("a")], {
        signal: controller.signal,
      }),
      (error) => error === reason,
    );
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
