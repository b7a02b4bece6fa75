// No handler waits forever, and no handler can break error reporting:
// handler timeouts, dispatch(event, { signal }), and handler names that
// cannot be read (issue #11, items 3 and 9).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  type DispatcherOptions,
  DispatchError,
  HandlerError,
  InProcessEventDispatcher,
} from "../mod.ts";

const never = () => new Promise<never>(() => {});
const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Asserts a HandlerError of `name` caused by a TimeoutError. */
function timedOut(name: string) {
  return (error: unknown): true => {
    assert(error instanceof HandlerError);
    assert.equal(error.handlerName, name);
    assert.equal((error.cause as Error).name, "TimeoutError");
    assert.match((error.cause as Error).message, /within \d+ ms/);
    return true;
  };
}

describe("handler timeouts", () => {
  it("fail a never-settling handler with a TimeoutError, per dispatcher and per registration", async () => {
    const dispatcher = new InProcessEventDispatcher({ handlerTimeoutMs: 20 });
    dispatcher.register("a", function stuck() {
      return never();
    });
    await assert.rejects(
      dispatcher.dispatch(createEvent("a")),
      timedOut("stuck"),
    );

    const perHandler = new InProcessEventDispatcher();
    perHandler.register("b", function stuck() {
      return never();
    }, { timeoutMs: 10 });
    perHandler.registerAny(function anyStuck() {
      return never();
    }, { timeoutMs: 10 });
    await assert.rejects(
      perHandler.dispatch(createEvent("b")),
      timedOut("stuck"),
    );
  });

  it("lets a registration opt out with Infinity, and leaves synchronous handlers untimed", async () => {
    const dispatcher = new InProcessEventDispatcher({ handlerTimeoutMs: 5 });
    let done = 0;
    dispatcher.register("a", async () => {
      await sleep(30);
      done++;
    }, { timeoutMs: Infinity });
    dispatcher.register("a", () => {
      const until = Date.now() + 15;
      while (Date.now() < until) { /* a slow synchronous handler */ }
      done++;
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.equal(done, 2);
  });

  it("forgets a registration's timeout when it is removed", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const stuck = () => never();
    const off = dispatcher.register("a", stuck, { timeoutMs: 5 });
    dispatcher.register("a", async function quick() {}, { timeoutMs: 1000 });
    dispatcher.register("b", () => {});
    off();
    dispatcher.unregister("b", () => {}); // not registered: nothing changes
    dispatcher.register("a", stuck); // again, without a timeout
    const outcome = await Promise.race([
      dispatcher.dispatch(createEvent("a")).then(
        () => "settled",
        () => "failed",
      ),
      sleep(30).then(() => "pending"),
    ]);
    assert.equal(outcome, "pending");
  });

  it("clears the timer when the handler settles", async () => {
    const { setTimeout: set, clearTimeout: clear } = globalThis;
    const live = new Set<unknown>();
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      const id = set(() => {
        live.delete(id);
        fn();
      }, ms);
      live.add(id);
      return id;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((id: ReturnType<typeof setTimeout>) => {
      live.delete(id);
      clear(id);
    }) as typeof clearTimeout;
    try {
      const dispatcher = new InProcessEventDispatcher({
        handlerTimeoutMs: 60_000,
      });
      dispatcher.register("a", async () => {});
      dispatcher.register("a", () => Promise.reject(new Error("no")));
      dispatcher.registerAny(() => {}); // synchronous: no timer
      await assert.rejects(dispatcher.dispatch(createEvent("a")), /no/);
      assert.equal(live.size, 0);
    } finally {
      globalThis.setTimeout = set;
      globalThis.clearTimeout = clear;
    }
  });

  it("bounds a parallel fail-fast dispatch: a sibling's failure is not withheld forever", async () => {
    const dispatcher = new InProcessEventDispatcher({
      concurrency: "parallel",
      handlerTimeoutMs: 20,
    });
    dispatcher.register("a", function stuck() {
      return never();
    });
    dispatcher.register("a", async function fails() {
      await sleep(1);
      throw new Error("sibling failed");
    });
    const reported: HandlerError[] = [];
    await assert.rejects(
      dispatcher.dispatch(createEvent("a")),
      timedOut("stuck"),
    );
    const collecting = new InProcessEventDispatcher({
      concurrency: "parallel",
      errorMode: "collect",
      handlerTimeoutMs: 20,
    });
    collecting.register("a", function stuck() {
      return never();
    });
    collecting.register("a", function fails() {
      throw new Error("sibling failed");
    });
    await assert.rejects(collecting.dispatch(createEvent("a")), (error) => {
      assert(error instanceof DispatchError);
      assert.deepEqual(error.errors.map((e) => e.handlerName), [
        "stuck",
        "fails",
      ]);
      return true;
    });
    assert.deepEqual(reported, []);
  });

  it("ignores what a timed-out handler settles with later", async () => {
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: (error) => reported.push(error),
      handlerTimeoutMs: 5,
    });
    dispatcher.register("a", async function late() {
      await sleep(30);
      throw new Error("too late");
    });
    await dispatcher.dispatch(createEvent("a"));
    await sleep(50);
    assert.equal(reported.length, 1);
    timedOut("late")(reported[0]);
  });

  it("refuses invalid timeouts with a TypeError naming the option", () => {
    for (const value of [0, -1, 1.5, NaN, "10", 2 ** 31, null]) {
      assert.throws(
        () =>
          new InProcessEventDispatcher({
            handlerTimeoutMs: value as number,
          }),
        (error) =>
          error instanceof TypeError &&
          error.message.startsWith("handlerTimeoutMs: expected an integer"),
      );
      assert.throws(
        () =>
          new InProcessEventDispatcher().register("a", () => {}, {
            timeoutMs: value as number,
          }),
        (error) =>
          error instanceof TypeError && error.message.startsWith("timeoutMs:"),
      );
    }
  });
});

describe("dispatch(event, { signal })", () => {
  it("rejects with the reason at once when the signal is aborted already; no handler runs", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let ran = 0;
    dispatcher.registerAny(() => {
      ran++;
    });
    const reason = new Error("stop");
    const signal = AbortSignal.abort(reason);
    await assert.rejects(
      dispatcher.dispatch(createEvent("a"), { signal }),
      (error) => error === reason,
    );
    await assert.rejects(
      dispatcher.dispatchAll([createEvent("a")], { signal }),
      (error) => error === reason,
    );
    assert.equal(ran, 0);
  });

  it("rejects with the reason once aborted, does not start later handlers, and ignores the rest", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const controller = new AbortController();
    const ran: string[] = [];
    let release = () => {};
    dispatcher.register("a", async () => {
      ran.push("first");
      await new Promise<void>((resolve) => release = resolve);
      throw new Error("after the abort");
    });
    dispatcher.register("a", () => {
      ran.push("second");
    });
    const dispatched = dispatcher.dispatch(createEvent("a"), {
      signal: controller.signal,
    });
    controller.abort("shutdown");
    await assert.rejects(dispatched, (error) => error === "shutdown");
    release();
    await sleep(5);
    assert.deepEqual(ran, ["first"]);
  });

  it("gives handlers the signal as context.signal, inherited by nested dispatches", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const signals: AbortSignal[] = [];
    dispatcher.register("a", async (_event, context) => {
      signals.push(context.signal);
      await context.publish("b");
    });
    dispatcher.register("b", (_event, { signal }) => {
      signals.push(signal);
    });
    const controller = new AbortController();
    await dispatcher.dispatch(createEvent("a"), { signal: controller.signal });
    assert.deepEqual(signals, [controller.signal, controller.signal]);

    await dispatcher.dispatch(createEvent("a"));
    const [plain] = signals.slice(2);
    assert(plain instanceof AbortSignal);
    assert.equal(plain.aborted, false);
  });

  it("rejects a nested publish once aborted, so its handler fails", async () => {
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: () => {},
    });
    const controller = new AbortController();
    let nested: unknown;
    dispatcher.register("a", async (_event, context) => {
      controller.abort("gone");
      try {
        await context.publish("b");
      } catch (error) {
        nested = error;
      }
    });
    await assert.rejects(
      dispatcher.dispatch(createEvent("a"), { signal: controller.signal }),
      (error) => error === "gone",
    );
    await sleep(1);
    assert.equal(nested, "gone");
  });

  it("refuses a signal that is not an AbortSignal with a TypeError", async () => {
    const dispatcher = new InProcessEventDispatcher();
    for (const options of [{ signal: {} }, { signal: null }, null, 1]) {
      await assert.rejects(
        dispatcher.dispatch(createEvent("a"), options as never),
        TypeError,
      );
    }
  });
});

describe("dispatch: failures before an abort are not lost", () => {
  // The ledger is what the handlers did, written by the handlers themselves;
  // the abort comes from outside, through the caller's controller. If the
  // library dropped a failure recorded before the abort (the rejection being
  // the bare reason, with nothing sent to onHandlerError), a ledger entry would
  // be missing from what the caller saw; if it reported one twice (in the
  // rejection, and again to onHandlerError once the stuck handler settled),
  // one would appear twice.
  const modes = [
    ["sequential", "fail-fast"],
    ["sequential", "collect"],
    ["sequential", "isolate"],
    ["parallel", "fail-fast"],
    ["parallel", "collect"],
    ["parallel", "isolate"],
  ] as const;
  for (const [concurrency, errorMode] of modes) {
    it(`${concurrency} × ${errorMode}: each reaches the rejection or onHandlerError once, with the event and the handler's name`, async () => {
      const reported: HandlerError[] = [];
      const dispatcher = new InProcessEventDispatcher({
        concurrency,
        errorMode,
        onHandlerError: (error) => reported.push(error),
      });
      const ledger: string[] = [];
      let release = () => {};
      dispatcher.register("a", function throwsAtOnce() {
        ledger.push("throwsAtOnce");
        throw new Error("down");
      });
      if (concurrency == "parallel") {
        dispatcher.register("a", async function rejectsSoon() {
          await sleep(1);
          ledger.push("rejectsSoon");
          throw new Error("down too");
        });
      }
      dispatcher.register("a", function waits() {
        return new Promise<void>((resolve) => release = resolve);
      });
      const event = createEvent("a");
      const controller = new AbortController();
      const reason = new Error("shutting down");
      const dispatched = dispatcher.dispatch(event, {
        signal: controller.signal,
      });
      dispatched.catch(() => {});
      await sleep(20);
      controller.abort(reason);
      const rejection = await dispatched.then(
        () => undefined,
        (error) => error,
      );
      release();
      await sleep(5);

      const carried = rejection instanceof DispatchError
        ? rejection.errors
        : rejection instanceof HandlerError
        ? [rejection]
        : [];
      const seen = [...carried, ...reported];
      assert.deepEqual(
        seen.map((error) => error.handlerName).sort(),
        [...ledger].sort(),
      );
      for (const error of seen) assert.equal(error.event, event);
      if (concurrency == "sequential" && errorMode == "fail-fast") {
        // The first failure ended the dispatch before the abort.
        assert(rejection instanceof HandlerError);
      } else if (errorMode == "isolate") assert.equal(rejection, reason);
      else {
        assert(rejection instanceof DispatchError);
        assert.equal(rejection.event, event);
        assert.equal(rejection.cause, reason);
        assert.deepEqual(reported, []);
      }
    });
  }

  for (const concurrency of ["sequential", "parallel"] as const) {
    it(`collect, ${concurrency}: a handler that aborts synchronously after another failed rejects with both`, async () => {
      const dispatcher = new InProcessEventDispatcher({
        concurrency,
        errorMode: "collect",
      });
      const controller = new AbortController();
      dispatcher.register("a", function fails() {
        throw new Error("down");
      });
      dispatcher.register("a", function aborts() {
        controller.abort("stop");
      });
      await assert.rejects(
        dispatcher.dispatch(createEvent("a"), { signal: controller.signal }),
        (error) => {
          assert(error instanceof DispatchError);
          assert.equal(error.cause, "stop");
          assert.deepEqual(error.errors.map((e) => e.handlerName), ["fails"]);
          return true;
        },
      );
    });
  }
});

describe("handler names", () => {
  /** Handlers whose name cannot be read, or is not a string. */
  function unnamed(): object[] {
    const throwingName = () => {};
    Object.defineProperty(throwingName, "name", {
      get() {
        throw new Error("name getter");
      },
    });
    const symbolName = () => {};
    Object.defineProperty(symbolName, "name", { value: Symbol("s") });
    const throwingConstructor = {
      handle() {},
      get constructor(): never {
        throw new Error("constructor getter");
      },
    };
    const proxy = new Proxy(() => {}, {
      get() {
        throw new Error("trap");
      },
    });
    return [throwingName, symbolName, throwingConstructor, proxy];
  }

  it("never throw: isolate and collect keep every HandlerError and run later handlers", async () => {
    for (const errorMode of ["isolate", "collect"] as const) {
      for (const concurrency of ["sequential", "parallel"] as const) {
        const reported: HandlerError[] = [];
        const options: DispatcherOptions = errorMode == "isolate"
          ? { errorMode, concurrency, onHandlerError: (e) => reported.push(e) }
          : { errorMode, concurrency };
        const dispatcher = new InProcessEventDispatcher(options);
        dispatcher.use((_event, next, { handlerName }) => {
          assert.equal(typeof handlerName, "string");
          return next();
        });
        const handlers = unnamed();
        for (const handler of handlers) {
          const throwing = typeof handler == "function"
            ? new Proxy(handler, {
              apply() {
                throw new Error("fails");
              },
            })
            : handler;
          dispatcher.register("a", throwing as never);
          dispatcher.register("b", handler as never);
        }
        let later = 0;
        dispatcher.register("a", () => {
          later++;
        });
        const dispatched = dispatcher.dispatch(createEvent("a"));
        if (errorMode == "isolate") await dispatched;
        else {
          await assert.rejects(dispatched, (error) => {
            assert(error instanceof DispatchError);
            reported.push(...error.errors);
            return true;
          });
        }
        assert.equal(later, 1);
        // The object handler does not throw (its handle works).
        assert.equal(reported.length, 3);
        for (const error of reported) {
          assert.equal(error.handlerName, "anonymous");
          assert.match(error.message, /^Handler "anonymous" failed/);
        }
      }
    }
  });

  it("register refuses a revoked Proxy with a TypeError naming the handler", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.throws(
      () => new InProcessEventDispatcher().register("a", proxy as never),
      (error) =>
        error instanceof TypeError && error.message.startsWith("handler:"),
    );
  });
});

describe("dispatch: a signal aborted by a synchronous handler", () => {
  for (const concurrency of ["sequential", "parallel"] as const) {
    it(`rejects with the reason and starts no later handler (${concurrency})`, async () => {
      const dispatcher = new InProcessEventDispatcher({ concurrency });
      const ran: string[] = [];
      const controller = new AbortController();
      const reason = new Error("stop");
      dispatcher.register("a", function first() {
        ran.push("first");
        controller.abort(reason);
      });
      dispatcher.register("a", function second() {
        ran.push("second");
      });
      await assert.rejects(
        dispatcher.dispatch(createEvent("a"), { signal: controller.signal }),
        (error) => error === reason,
      );
      assert.deepEqual(ran, ["first"]);
    });
  }
});
