// dispatcher.observe: every event a dispatch accepts, handled or not,
// without a handler (issue #10, item 9).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  DispatchError,
  type DomainEvent,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  MaxDepthExceededError,
} from "../mod.ts";

describe("observe", () => {
  it("sees top-level and nested events, handled or not, with their depth, before their handlers", async () => {
    const unhandled: string[] = [];
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: (event) => unhandled.push(event.eventType),
    });
    const log: string[] = [];
    dispatcher.register("a", async (_event, { publish }) => {
      log.push("handler a");
      await publish("b");
    });
    dispatcher.observe((event, { depth }) => {
      log.push(`observed ${event.eventType} at ${depth}`);
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(log, [
      "observed a at 0",
      "handler a",
      "observed b at 1",
    ]);
    assert.deepEqual(unhandled, ["b"]);
  });

  it("does not see what a dispatch refuses: non-events, too deep, refused by the definition", async () => {
    const Typed = defineEvent("typed", {
      schema: (value): value is { n: number } =>
        typeof (value as { n?: unknown }).n == "number",
    });
    const dispatcher = new InProcessEventDispatcher({ maxDepth: 0 });
    const seen: DomainEvent[] = [];
    dispatcher.observe((event) => {
      seen.push(event);
    });
    dispatcher.register(Typed, () => {});
    dispatcher.register("deep", async (_event, { publish }) => {
      await publish("deeper");
    });
    await assert.rejects(dispatcher.dispatch({} as never), InvalidEventError);
    await assert.rejects(
      dispatcher.dispatch(createEvent("typed", { n: "1" })),
      InvalidEventError,
    );
    const deep = createEvent("deep");
    await assert.rejects(
      dispatcher.dispatch(deep),
      (error) =>
        error instanceof HandlerError &&
        error.cause instanceof MaxDepthExceededError,
    );
    assert.deepEqual(seen, [deep]);
  });

  it("turns a throwing observer into a HandlerError handled by the error mode; the other observers still see the event", async () => {
    const boom = new Error("observer down");
    const setup = (dispatcher: InProcessEventDispatcher) => {
      const log: string[] = [];
      dispatcher.observe(function watcher() {
        throw boom;
      });
      dispatcher.observe(() => {
        log.push("second observer");
      });
      dispatcher.register("a", () => {
        log.push("handler");
      });
      return log;
    };
    const failFast = new InProcessEventDispatcher();
    const failFastLog = setup(failFast);
    await assert.rejects(failFast.dispatch(createEvent("a")), (error) => {
      assert(error instanceof HandlerError);
      assert.equal(error.handlerName, "watcher");
      assert.equal(error.cause, boom);
      return true;
    });
    assert.deepEqual(failFastLog, ["second observer"]);

    const collect = new InProcessEventDispatcher({ errorMode: "collect" });
    const collectLog = setup(collect);
    await assert.rejects(collect.dispatch(createEvent("a")), (error) => {
      assert(error instanceof DispatchError);
      assert.deepEqual(error.errors.map((e) => e.handlerName), ["watcher"]);
      return true;
    });
    assert.deepEqual(collectLog, ["second observer", "handler"]);

    const reported: HandlerError[] = [];
    const isolate = new InProcessEventDispatcher({
      errorMode: "isolate",
      concurrency: "parallel",
      onHandlerError: (error) => reported.push(error),
    });
    const isolateLog = setup(isolate);
    await isolate.dispatch(createEvent("a"));
    await isolate.dispatch(createEvent("unhandled"));
    assert.deepEqual(isolateLog, [
      "second observer",
      "handler",
      "second observer",
    ]);
    assert.deepEqual(reported.map((e) => e.event.eventType), [
      "a",
      "unhandled",
    ]);
  });

  it("calls onUnhandled for an event without handlers even when an observer throws, in every error mode", async () => {
    for (
      const options of [
        {},
        { concurrency: "parallel" },
        { errorMode: "collect" },
        {
          errorMode: "isolate",
          onHandlerError: () => {
            throw new Error("reporting failed");
          },
        },
      ] as const
    ) {
      const unhandled: string[] = [];
      const dispatcher = new InProcessEventDispatcher({
        ...options,
        onUnhandled: (event) => unhandled.push(event.eventType),
      });
      dispatcher.observe(function watcher() {
        throw new Error("observer down");
      });
      await assert.rejects(dispatcher.dispatch(createEvent("nobody")));
      assert.deepEqual(unhandled, ["nobody"], JSON.stringify(options));
    }
  });

  it("is removed by its Unsubscribe (twice is harmless); a dispatch keeps the observers it started with; adding one twice is a no-op", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    const observer = (event: DomainEvent) => {
      seen.push(event.eventType);
    };
    let release = () => {};
    dispatcher.register("slow", () => new Promise<void>((r) => release = r));
    dispatcher.observe(observer);
    const off = dispatcher.observe(observer);
    const inFlight = dispatcher.dispatch(createEvent("slow"));
    const late: string[] = [];
    dispatcher.observe((event) => {
      late.push(event.eventType);
    });
    off();
    off();
    release();
    await inFlight;
    await dispatcher.dispatch(createEvent("after"));
    assert.deepEqual(seen, ["slow"]);
    assert.deepEqual(late, ["after"]);
    assert.equal(
      typeof (off as unknown as Record<symbol, unknown>)[
        Symbol.dispose as symbol
      ],
      "function",
    );
  });

  for (const concurrency of ["sequential", "parallel"] as const) {
    it(`runs the first handler when an observer aborts the signal, then stops, as after a handler's abort (${concurrency})`, async () => {
      const controller = new AbortController();
      const reason = new Error("stop");
      const dispatcher = new InProcessEventDispatcher({ concurrency });
      const ran: string[] = [];
      dispatcher.observe(() => controller.abort(reason));
      dispatcher.register("a", () => {
        ran.push("first");
      });
      dispatcher.register("a", () => {
        ran.push("second");
      });
      const dispatched = dispatcher.dispatch(createEvent("a"), {
        signal: controller.signal,
      });
      // Sequential: the abort is seen after the first handler; parallel:
      // before the second.
      await assert.rejects(dispatched, reason);
      assert.deepEqual(ran, ["first"]);
    });
  }

  it("refuses a non-function with a TypeError", () => {
    assert.throws(
      () => new InProcessEventDispatcher().observe("x" as never),
      (error) =>
        error instanceof TypeError &&
        error.message == 'observer: expected a function, got "x"',
    );
  });
});
