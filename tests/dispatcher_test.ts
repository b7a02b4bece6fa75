// InProcessEventDispatcher: registration, snapshot dispatch, concurrency, the
// three error modes, the handler context (publish chains, loop guard),
// middleware and dispatchAll. Causation formatting is in causation_tree_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  DispatchError,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  MaxDepthExceededError,
} from "../mod.ts";
import type {
  DispatcherOptions,
  DomainEvent,
  EventHandler,
  HandlerContext,
} from "../mod.ts";
import { assertNoUnhandledRejection, UNINSPECTABLE } from "./_helpers.ts";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** Follows `cause` links and returns every error on the way, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
  }
  return chain;
}

const InviteCreated = defineEvent("invite.created", {
  schema: (value): value is { email: string } =>
    typeof (value as { email?: unknown }).email === "string",
});

describe("register and unregister", () => {
  it("calls function handlers and object handlers as methods, with the event and a context", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const seen: unknown[] = [];
    dispatcher.register("a", (event, context) => {
      seen.push(["fn", event, context.depth]);
    });
    class Audit {
      label = "audit";
      handle(event: DomainEvent, context: HandlerContext): void {
        seen.push([this.label, event, context.depth]);
      }
    }
    dispatcher.register("a", new Audit());
    const event = createEvent("a");
    await dispatcher.dispatch(event);
    assert.deepEqual(seen, [["fn", event, 0], ["audit", event, 0]]);
  });

  it("types the handler's event from a definition", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const emails: string[] = [];
    dispatcher.register(InviteCreated, (event) => {
      const type: "invite.created" = event.eventType;
      emails.push(`${type} ${event.payload.email}`);
      // @ts-expect-error: no such payload field
      void event.payload.phone;
    });
    // @ts-expect-error: a handler for another type's payload does not fit
    dispatcher.register(InviteCreated, (_event: DomainEvent<"other">) => {});
    await dispatcher.dispatch(
      InviteCreated.create({ email: "ada@example.com" }),
    );
    assert.deepEqual(emails, ["invite.created ada@example.com"]);
  });

  it("ignores a second registration of the same handler for a type", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let calls = 0;
    const handler = () => {
      calls++;
    };
    dispatcher.register("a", handler);
    dispatcher.register(defineEvent("a"), handler);
    assert.equal(dispatcher.handlerCount("a"), 1);
    await dispatcher.dispatch(createEvent("a"));
    assert.equal(calls, 1);
    // the same handler may serve another type
    dispatcher.register("b", handler);
    assert.equal(dispatcher.handlerCount(), 2);
  });

  it("keeps a duplicate registration as one, in its first place: the Unsubscribe of either removes it", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const calls: string[] = [];
    const handler = () => {
      calls.push("h");
    };
    const first = dispatcher.register("a", handler);
    dispatcher.register("a", function other() {
      calls.push("other");
    });
    const second = dispatcher.register("a", handler);
    assert.equal(dispatcher.handlerCount("a"), 2);
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(calls, ["h", "other"]);
    second(); // the duplicate's Unsubscribe removes the one registration
    assert.equal(dispatcher.handlerCount("a"), 1);
    first(); // nothing left to remove: harmless
    assert.equal(dispatcher.handlerCount("a"), 1);
    calls.length = 0;
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(calls, ["other"]);
    // registerAny the same way
    const anyFirst = dispatcher.registerAny(handler);
    dispatcher.registerAny(handler)();
    assert.equal(dispatcher.handlerCount(), 1);
    anyFirst();
    assert.equal(dispatcher.handlerCount(), 1);
  });

  it("refuses a handler that is neither a function nor an object with a handle method, at registration", () => {
    const dispatcher = new InProcessEventDispatcher();
    const cases: [unknown, string][] = [
      [42, "42"],
      [{}, "an object"],
      [{ handle: "no" }, "an object"],
      [null, "null"],
      [undefined, "undefined"],
      ["handler", '"handler"'],
    ];
    for (const [handler, got] of cases) {
      const message =
        `handler: expected a function or an object with a handle method, got ${got}`;
      for (
        const register of [
          () => dispatcher.register("a", handler as EventHandler),
          () => dispatcher.register(InviteCreated, handler as EventHandler),
          () => dispatcher.registerAny(handler as EventHandler),
        ]
      ) {
        assert.throws(register, (error) => {
          assert.ok(error instanceof TypeError, String(error));
          assert.equal(error.message, message);
          return true;
        });
      }
    }
    assert.equal(dispatcher.handlerCount(), 0);
  });

  it("returns an Unsubscribe that is harmless to call twice and Disposable where the runtime has Symbol.dispose", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const calls: string[] = [];
    const handler = () => {
      calls.push("h");
    };
    const off = dispatcher.register("a", handler);
    off();
    assert.equal(dispatcher.handlerCount(), 0);
    const again = dispatcher.register("a", handler);
    off(); // already used: must not remove the new registration
    assert.equal(dispatcher.handlerCount("a"), 1);
    if (typeof Symbol.dispose === "symbol") {
      assert.equal(typeof again[Symbol.dispose], "function");
      again[Symbol.dispose]();
      assert.equal(dispatcher.handlerCount(), 0);
    } else again();
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(calls, []);
  });

  it("unregisters by type or definition and tells whether the handler was there", () => {
    const dispatcher = new InProcessEventDispatcher();
    const handler = () => {};
    dispatcher.register(InviteCreated, handler);
    assert.equal(dispatcher.unregister("b", handler), false);
    assert.equal(dispatcher.unregister(InviteCreated, () => {}), false);
    assert.equal(dispatcher.unregister(InviteCreated, handler), true);
    assert.equal(dispatcher.unregister("invite.created", handler), false);
    assert.equal(dispatcher.handlerCount(), 0);
  });

  it("counts the handlers a dispatch of a type would run, or every registration", () => {
    const dispatcher = new InProcessEventDispatcher();
    assert.equal(dispatcher.handlerCount(), 0);
    dispatcher.register("a", () => {});
    dispatcher.register("a", { handle() {} });
    dispatcher.register("b", () => {});
    const offAny = dispatcher.registerAny(() => {});
    assert.equal(dispatcher.handlerCount("a"), 3);
    assert.equal(dispatcher.handlerCount(InviteCreated), 1);
    assert.equal(dispatcher.handlerCount(), 4);
    offAny();
    assert.equal(dispatcher.handlerCount("a"), 2);
    dispatcher.clear();
    assert.equal(dispatcher.handlerCount(), 0);
    assert.equal(dispatcher.handlerCount("a"), 0);
  });

  it("keeps handlers in a Map: prototype names are ordinary event types", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    for (
      const type of ["constructor", "__proto__", "toString", "hasOwnProperty"]
    ) {
      dispatcher.register(type, (event) => {
        seen.push(event.eventType);
      });
    }
    assert.equal(dispatcher.handlerCount("constructor"), 1);
    assert.equal(dispatcher.handlerCount("valueOf"), 0);
    for (const type of ["constructor", "__proto__", "toString", "valueOf"]) {
      await dispatcher.dispatch(createEvent(type));
    }
    assert.deepEqual(seen, ["constructor", "__proto__", "toString"]);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });
});

describe("dispatch", () => {
  it("refuses a non-event with InvalidEventError before any handler runs", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let calls = 0;
    dispatcher.registerAny(() => {
      calls++;
    });
    const event = createEvent("a");
    for (const value of [null, "a", { eventType: "a" }, { ...event }]) {
      await assert.rejects(
        dispatcher.dispatch(value as DomainEvent),
        InvalidEventError,
      );
    }
    assert.equal(calls, 0);
  });

  it("runs a type's handlers in registration order, then the any-handlers", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    dispatcher.registerAny(() => {
      order.push("any1");
    });
    dispatcher.register("a", () => {
      order.push("a1");
    });
    dispatcher.register("b", () => {
      order.push("b1");
    });
    dispatcher.registerAny({
      handle() {
        order.push("any2");
      },
    });
    dispatcher.register("a", () => {
      order.push("a2");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["a1", "a2", "any1", "any2"]);
  });

  it("works on a snapshot: a handler unregistering itself and another still sees both run, the next dispatch does not", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    const second = () => {
      order.push("second");
    };
    const offAny = dispatcher.registerAny(() => {
      order.push("any");
    });
    const offFirst = dispatcher.register("a", () => {
      order.push("first");
      offFirst();
      dispatcher.unregister("a", second);
      offAny();
    });
    dispatcher.register("a", second);
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["first", "second", "any"]);
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["first", "second", "any"]);
    assert.equal(dispatcher.handlerCount(), 0);
  });

  it("works on a snapshot: a handler registered during a dispatch runs from the next one", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    dispatcher.register("a", async () => {
      order.push("first");
      await tick();
      dispatcher.register("a", () => {
        order.push("late");
      });
      dispatcher.registerAny(() => {
        order.push("late-any");
      });
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["first"]);
    order.length = 0;
    await dispatcher.dispatch(createEvent("a"));
    // (the two it registers this time wait for the third dispatch)
    assert.deepEqual(order, ["first", "late", "late-any"]);
  });

  it("calls onUnhandled only when no handler, typed or any, is registered", async () => {
    const unhandledEvents: DomainEvent[] = [];
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: (event) => unhandledEvents.push(event),
    });
    const lonely = createEvent("lonely");
    await dispatcher.dispatch(lonely);
    assert.deepEqual(unhandledEvents, [lonely]);
    dispatcher.registerAny(() => {});
    await dispatcher.dispatch(createEvent("lonely"));
    assert.equal(unhandledEvents.length, 1);
    // without the option, an unhandled event simply resolves
    await new InProcessEventDispatcher().dispatch(lonely);
  });

  it("runs synchronous handlers before dispatch returns and shares one settled promise", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    dispatcher.register("a", () => {
      order.push("a1");
    });
    dispatcher.register("a", { handle: () => order.push("a2") });
    const dispatched = dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["a1", "a2"], "ran before dispatch returned");
    assert.equal(await dispatched, undefined);
  });

  it("awaits handlers that return thenables which are not promises", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    dispatcher.register("a", () =>
      ({
        then(resolve: () => void) {
          setTimeout(() => {
            order.push("thenable");
            resolve();
          }, 1);
        },
      }) as unknown as Promise<void>);
    dispatcher.register("a", () => {
      order.push("next");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(order, ["thenable", "next"]);
  });

  it("fails a handler whose result's then getter throws, or a promise whose constructor getter does, first or after an async one", async () => {
    const broken = new Error("no then");
    const thenThrows = () => ({
      get then() {
        throw broken;
      },
    });
    const constructorThrows = () =>
      Object.defineProperty(Promise.resolve(), "constructor", {
        get() {
          throw broken;
        },
      });
    const cases = [[], [async () => {}]].flatMap((before) =>
      [thenThrows, constructorThrows].map((hostile) => [...before, hostile])
    );
    for (const handlers of cases) {
      const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
      for (const handler of handlers) dispatcher.register("a", handler);
      const error = await dispatcher.dispatch(createEvent("a")).then(
        () => assert.fail("resolved"),
        (error: unknown) => error,
      );
      assert.ok(error instanceof DispatchError);
      assert.deepEqual(error.errors.map((failure) => failure.cause), [broken]);
    }
  });
});

describe("concurrency", () => {
  it("sequential (default) awaits each handler before starting the next", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const order: string[] = [];
    for (const name of ["a", "b", "c"]) {
      dispatcher.register("x", async () => {
        order.push(`${name} start`);
        await tick();
        order.push(`${name} end`);
      });
    }
    await dispatcher.dispatch(createEvent("x"));
    assert.deepEqual(order, [
      "a start",
      "a end",
      "b start",
      "b end",
      "c start",
      "c end",
    ]);
  });

  it("parallel starts every handler, so handlers waiting on each other do not deadlock", async () => {
    const register = (dispatcher: InProcessEventDispatcher) => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      dispatcher.register("x", async () => {
        await released; // waits for the handler registered after it
      });
      dispatcher.register("x", () => {
        release();
      });
    };
    const parallel = new InProcessEventDispatcher({ concurrency: "parallel" });
    register(parallel);
    await parallel.dispatch(createEvent("x"));

    const sequential = new InProcessEventDispatcher();
    register(sequential);
    const outcome = await Promise.race([
      sequential.dispatch(createEvent("x")).then(() => "done"),
      new Promise((resolve) => setTimeout(resolve, 30, "stuck")),
    ]);
    assert.equal(outcome, "stuck");
  });

  it("parallel waits for every handler to settle, even after a failure", async () => {
    const dispatcher = new InProcessEventDispatcher({
      concurrency: "parallel",
    });
    let slowDone = false;
    dispatcher.register("x", () => {
      throw new Error("boom");
    });
    dispatcher.register("x", async () => {
      await tick();
      await tick();
      slowDone = true;
    });
    await assert.rejects(dispatcher.dispatch(createEvent("x")), HandlerError);
    assert.equal(slowDone, true);
  });
});

describe("error modes", () => {
  type Mode = NonNullable<DispatcherOptions["errorMode"]>;
  type Concurrency = NonNullable<DispatcherOptions["concurrency"]>;

  /** ok1, bad1, ok2, bad2, ok3: the bad ones throw (sync) or reject (async). */
  function setup(errorMode: Mode, concurrency: Concurrency, async: boolean) {
    const ran: string[] = [];
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode,
      concurrency,
      onHandlerError: (error) => reported.push(error),
    });
    const make = (name: string, fails: boolean): EventHandler => {
      const run = () => {
        ran.push(name);
        if (fails) throw new Error(`${name} failed`);
      };
      const handler = async
        ? async () => {
          await tick();
          run();
        }
        : run;
      Object.defineProperty(handler, "name", { value: name });
      return handler;
    };
    for (
      const [name, fails] of [["ok1", false], ["bad1", true], ["ok2", false], [
        "bad2",
        true,
      ], ["ok3", false]] as const
    ) {
      dispatcher.register("x", make(name, fails));
    }
    return { dispatcher, ran, reported, event: createEvent("x") };
  }

  function assertHandlerError(
    error: unknown,
    event: DomainEvent,
    name: string,
  ): void {
    assert.ok(error instanceof HandlerError, String(error));
    assert.equal(error.code, "HANDLER_FAILED");
    assert.equal(error.event, event);
    assert.equal(error.handlerName, name);
    assert.equal((error.cause as Error).message, `${name} failed`);
  }

  for (const async of [false, true]) {
    const kind = async ? "async" : "sync";
    it(`fail-fast, sequential, ${kind}: stops at the first failure and rejects with its HandlerError`, async () => {
      const { dispatcher, ran, reported, event } = setup(
        "fail-fast",
        "sequential",
        async,
      );
      await assert.rejects(dispatcher.dispatch(event), (error) => {
        assertHandlerError(error, event, "bad1");
        return true;
      });
      assert.deepEqual(ran, ["ok1", "bad1"]);
      assert.deepEqual(reported, []);
    });

    it(`fail-fast, parallel, ${kind}: runs all, rejects with the first failure, reports the others`, async () => {
      const { dispatcher, ran, reported, event } = setup(
        "fail-fast",
        "parallel",
        async,
      );
      await assert.rejects(dispatcher.dispatch(event), (error) => {
        assertHandlerError(error, event, "bad1");
        return true;
      });
      assert.deepEqual(ran, ["ok1", "bad1", "ok2", "bad2", "ok3"]);
      assert.equal(reported.length, 1);
      assertHandlerError(reported[0], event, "bad2");
    });

    for (const concurrency of ["sequential", "parallel"] as const) {
      it(`collect, ${concurrency}, ${kind}: runs all, rejects with a DispatchError of every failure in registration order`, async () => {
        const { dispatcher, ran, reported, event } = setup(
          "collect",
          concurrency,
          async,
        );
        await assert.rejects(dispatcher.dispatch(event), (error) => {
          assert.ok(error instanceof DispatchError, String(error));
          assert.ok(error instanceof AggregateError);
          assert.equal(error.code, "DISPATCH_FAILED");
          assert.equal(error.event, event);
          assert.equal(error.errors.length, 2);
          assertHandlerError(error.errors[0], event, "bad1");
          assertHandlerError(error.errors[1], event, "bad2");
          return true;
        });
        assert.deepEqual(ran, ["ok1", "bad1", "ok2", "bad2", "ok3"]);
        assert.deepEqual(reported, []);
      });

      it(`isolate, ${concurrency}, ${kind}: runs all, resolves, reports each failure once`, async () => {
        const { dispatcher, ran, reported, event } = setup(
          "isolate",
          concurrency,
          async,
        );
        await dispatcher.dispatch(event);
        assert.deepEqual(ran, ["ok1", "bad1", "ok2", "bad2", "ok3"]);
        assert.equal(reported.length, 2);
        assertHandlerError(reported[0], event, "bad1");
        assertHandlerError(reported[1], event, "bad2");
      });
    }
  }

  it("fail-fast parallel without onHandlerError still rejects with the first failure only", async () => {
    const dispatcher = new InProcessEventDispatcher({
      concurrency: "parallel",
    });
    dispatcher.register("x", function one() {
      throw new Error("one failed");
    });
    dispatcher.register("x", async function two() {
      await tick();
      throw new Error("two failed");
    });
    const event = createEvent("x");
    await assert.rejects(dispatcher.dispatch(event), (error) => {
      assertHandlerError(error, event, "one");
      return true;
    });
  });

  it("parallel orders failures by registration, not by when they happened", async () => {
    for (const errorMode of ["fail-fast", "collect"] as const) {
      const reported: string[] = [];
      const dispatcher = new InProcessEventDispatcher({
        concurrency: "parallel",
        errorMode,
        onHandlerError: (error) => reported.push(error.handlerName),
      });
      dispatcher.register("x", async function slow() {
        await tick();
        await tick();
        throw new Error("slow failed");
      });
      dispatcher.register("x", function fast() {
        throw new Error("fast failed");
      });
      await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
        const names = error instanceof DispatchError
          ? error.errors.map((e) => e.handlerName)
          : [(error as HandlerError).handlerName];
        assert.deepEqual(
          names,
          errorMode === "collect" ? ["slow", "fast"] : ["slow"],
        );
        return true;
      });
      assert.deepEqual(reported, errorMode === "collect" ? [] : ["fast"]);
    }
  });

  it("wraps whatever was thrown, Error or not, as the cause", async () => {
    const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
    dispatcher.register("x", function str() {
      throw "plain string";
    });
    dispatcher.register("x", function undef() {
      return Promise.reject(undefined);
    });
    await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
      assert.ok(error instanceof DispatchError);
      assert.deepEqual(error.errors.map((e) => [e.handlerName, e.cause]), [
        ["str", "plain string"],
        ["undef", undefined],
      ]);
      return true;
    });
  });

  it("names handlers by function name, class name, or anonymous", async () => {
    const reported: string[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: (error) => reported.push(error.handlerName),
    });
    const fail = () => {
      throw new Error("x");
    };
    function named() {
      fail();
    }
    class SendEmail {
      handle() {
        fail();
      }
    }
    const bare = Object.create(null) as { handle(): void };
    bare.handle = fail;
    const inline = Object.defineProperty(() => fail(), "name", { value: "" });
    dispatcher.register("x", named);
    dispatcher.register("x", fail);
    dispatcher.register("x", new SendEmail());
    dispatcher.register("x", { handle: fail });
    dispatcher.register("x", bare);
    dispatcher.register("x", inline);
    await dispatcher.dispatch(createEvent("x"));
    assert.deepEqual(reported, [
      "named",
      "fail",
      "SendEmail",
      "anonymous",
      "anonymous",
      "anonymous",
    ]);
  });

  it("refuses isolate mode without onHandlerError", () => {
    assert.throws(
      () => new InProcessEventDispatcher({ errorMode: "isolate" }),
      (error) =>
        error instanceof TypeError &&
        error.message ===
          "onHandlerError: expected a function, got undefined",
    );
  });

  it("refuses options outside their allowed values with a TypeError naming the option, what was expected and what was found", () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { errorMode: "isolated" },
        'errorMode: expected "fail-fast" or "collect" or "isolate", got "isolated"',
      ],
      [
        { errorMode: null },
        'errorMode: expected "fail-fast" or "collect" or "isolate", got null',
      ],
      [
        { concurrency: "paralel" },
        'concurrency: expected "sequential" or "parallel", got "paralel"',
      ],
      [
        { concurrency: true },
        'concurrency: expected "sequential" or "parallel", got true',
      ],
      [{ maxDepth: NaN }, "maxDepth: expected an integer >= 0, got NaN"],
      [{ maxDepth: -1 }, "maxDepth: expected an integer >= 0, got -1"],
      [{ maxDepth: 1.5 }, "maxDepth: expected an integer >= 0, got 1.5"],
      [
        { maxDepth: Infinity },
        "maxDepth: expected an integer >= 0, got Infinity",
      ],
      [{ maxDepth: "3" }, 'maxDepth: expected an integer >= 0, got "3"'],
      [
        { onHandlerError: "console.error" },
        'onHandlerError: expected a function, got "console.error"',
      ],
      [
        { errorMode: "isolate", onHandlerError: {} },
        "onHandlerError: expected a function, got an object",
      ],
      [
        { errorMode: "isolate", onHandlerError: null },
        "onHandlerError: expected a function, got null",
      ],
      [
        { errorMode: "isolate", onHandlerError: undefined },
        "onHandlerError: expected a function, got undefined",
      ],
      [{ onUnhandled: 1 }, "onUnhandled: expected a function, got 1"],
      [{ onUnhandled: null }, "onUnhandled: expected a function, got null"],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new InProcessEventDispatcher(options as DispatcherOptions),
        (error) => {
          assert.ok(error instanceof TypeError, String(error));
          assert.equal(error.message, message);
          return true;
        },
        JSON.stringify(options),
      );
    }
  });

  it("refuses an option name it does not know, in the constructor, register, registerAny, dispatch and dispatchAll, naming it", async () => {
    assert.throws(
      () =>
        new InProcessEventDispatcher(
          { handlerTimeout: 1000 } as unknown as DispatcherOptions,
        ),
      new TypeError(
        'InProcessEventDispatcher: unknown option "handlerTimeout" (expected concurrency, errorMode, onHandlerError, maxDepth, onUnhandled, handlerTimeoutMs)',
      ),
    );
    assert.throws(
      () => new InProcessEventDispatcher(null as unknown as DispatcherOptions),
      new TypeError(
        "InProcessEventDispatcher: expected an options object, got null",
      ),
    );
    const dispatcher = new InProcessEventDispatcher();
    const typo = { timeout: 5 } as unknown as { timeoutMs: number };
    assert.throws(
      () => dispatcher.register("a", () => {}, typo),
      new TypeError('register: unknown option "timeout" (expected timeoutMs)'),
    );
    assert.throws(
      () => dispatcher.registerAny(() => {}, typo),
      new TypeError(
        'registerAny: unknown option "timeout" (expected timeoutMs)',
      ),
    );
    assert.throws(
      () =>
        dispatcher.register("a", () => {}, 5 as unknown as { timeoutMs: 5 }),
      new TypeError("register: expected an options object, got 5"),
    );
    assert.equal(dispatcher.handlerCount(), 0);
    const signal = new AbortController().signal;
    const misspelt = { signal, sginal: signal } as unknown as {
      signal: AbortSignal;
    };
    await assert.rejects(
      dispatcher.dispatch(createEvent("a"), misspelt),
      new TypeError('dispatch: unknown option "sginal" (expected signal)'),
    );
    await assert.rejects(
      dispatcher.dispatchAll([createEvent("a")], misspelt),
      new TypeError('dispatchAll: unknown option "sginal" (expected signal)'),
    );
  });

  it("accepts every allowed option value, and undefined for the defaults", async () => {
    const report = () => {};
    for (const errorMode of [undefined, "fail-fast", "collect", "isolate"]) {
      for (const concurrency of [undefined, "sequential", "parallel"]) {
        for (const maxDepth of [undefined, 0, 1, 32, 1e6]) {
          const options = {
            errorMode,
            concurrency,
            maxDepth,
            onHandlerError: errorMode === "isolate" ? report : undefined,
            onUnhandled: undefined,
          } as unknown as DispatcherOptions;
          const dispatcher = new InProcessEventDispatcher(options);
          dispatcher.register("a", () => {});
          await dispatcher.dispatch(createEvent("a"));
        }
      }
    }
  });

  it("maxDepth 0 still dispatches top-level events and refuses every nested one", async () => {
    const dispatcher = new InProcessEventDispatcher({ maxDepth: 0 });
    let ran = 0;
    dispatcher.register("a", async (_event, context) => {
      ran++;
      await context.publish("b");
    });
    await assert.rejects(dispatcher.dispatch(createEvent("a")), (error) => {
      assert.ok(error instanceof HandlerError);
      assert.ok(error.cause instanceof MaxDepthExceededError);
      return true;
    });
    assert.equal(ran, 1);
  });

  describe("an onHandlerError that throws", () => {
    /** A handler that settles after a few macrotasks and notes when it has. */
    function slow(log: string[]): EventHandler {
      return async function slow() {
        for (let i = 0; i < 5; i++) await tick();
        log.push("slow settled");
      };
    }

    for (const concurrency of ["sequential", "parallel"] as const) {
      it(`isolate, ${concurrency}: every handler still runs and settles, then the dispatch rejects with the first error it threw`, async () => {
        const log: string[] = [];
        const thrown: Error[] = [];
        const dispatcher = new InProcessEventDispatcher({
          errorMode: "isolate",
          concurrency,
          onHandlerError: (error) => {
            log.push(`reported ${error.handlerName}`);
            const reporterError = new Error(`reporter down ${thrown.length}`);
            thrown.push(reporterError);
            throw reporterError;
          },
        });
        dispatcher.register("x", function syncFails() {
          throw new Error("sync");
        });
        dispatcher.register("x", async function asyncFails() {
          await tick();
          throw new Error("async");
        });
        dispatcher.register("x", slow(log));
        dispatcher.register("x", function last() {
          log.push("last ran");
        });
        await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
          assert.equal(error, thrown[0]);
          log.push("dispatch rejected");
          return true;
        });
        assert.equal(thrown.length, 2);
        assert.deepEqual(
          log,
          concurrency === "sequential"
            ? [
              "reported syncFails",
              "reported asyncFails",
              "slow settled",
              "last ran",
              "dispatch rejected",
            ]
            : [
              "reported syncFails",
              "last ran",
              "reported asyncFails",
              "slow settled",
              "dispatch rejected",
            ],
        );
      });
    }

    it("isolate, parallel: an async failure reported while a slow handler runs does not settle the dispatch early", async () => {
      const log: string[] = [];
      const thrown = new Error("reporter down");
      const dispatcher = new InProcessEventDispatcher({
        errorMode: "isolate",
        concurrency: "parallel",
        onHandlerError: () => {
          throw thrown;
        },
      });
      dispatcher.register("x", async () => {
        await tick();
        throw new Error("fails");
      });
      dispatcher.register("x", slow(log));
      await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
        assert.equal(error, thrown);
        log.push("dispatch rejected");
        return true;
      });
      assert.deepEqual(log, ["slow settled", "dispatch rejected"]);
    });

    it("fail-fast, parallel: once all settled, rejects with its first error; every failure, the first included, reached it", async () => {
      const log: string[] = [];
      const thrown: Error[] = [];
      const dispatcher = new InProcessEventDispatcher({
        concurrency: "parallel",
        onHandlerError: (error) => {
          log.push(`reported ${error.handlerName}`);
          const reporterError = new Error(`reporter down ${thrown.length}`);
          thrown.push(reporterError);
          throw reporterError;
        },
      });
      dispatcher.register("x", function bad1() {
        throw new Error("bad1");
      });
      dispatcher.register("x", async function bad2() {
        await tick();
        throw new Error("bad2");
      });
      dispatcher.register("x", slow(log));
      dispatcher.register("x", function bad3() {
        throw new Error("bad3");
      });
      await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
        assert.equal(error, thrown[0]);
        log.push("dispatch rejected");
        return true;
      });
      assert.deepEqual(log, [
        "slow settled",
        "reported bad2",
        "reported bad3",
        "reported bad1",
        "dispatch rejected",
      ]);
    });

    it("fail-fast, parallel: a reporter that throws once still gets every later failure, the first last", async () => {
      const reported: string[] = [];
      const thrown = new Error("reporter hiccup");
      const dispatcher = new InProcessEventDispatcher({
        concurrency: "parallel",
        onHandlerError: (error) => {
          reported.push(error.handlerName);
          if (reported.length === 1) throw thrown;
        },
      });
      for (const name of ["bad1", "bad2", "bad3"]) {
        dispatcher.register(
          "x",
          Object.defineProperty(
            () => {
              throw new Error(name);
            },
            "name",
            { value: name },
          ),
        );
      }
      await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
        assert.equal(error, thrown);
        return true;
      });
      assert.deepEqual(reported, ["bad2", "bad3", "bad1"]);
    });

    it("fail-fast, parallel: a reporter that does not throw leaves the first HandlerError as the rejection", async () => {
      const reported: string[] = [];
      const dispatcher = new InProcessEventDispatcher({
        concurrency: "parallel",
        onHandlerError: (error) => {
          reported.push(error.handlerName);
        },
      });
      dispatcher.register("x", function bad1() {
        throw new Error("bad1");
      });
      dispatcher.register("x", async function bad2() {
        await tick();
        throw new Error("bad2");
      });
      await assert.rejects(dispatcher.dispatch(createEvent("x")), (error) => {
        assert.ok(error instanceof HandlerError);
        assert.equal(error.handlerName, "bad1");
        return true;
      });
      assert.deepEqual(reported, ["bad2"]);
    });
  });

  it("rejects with what onUnhandled throws", async () => {
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: () => {
        throw new Error("unhandled hook failed");
      },
    });
    await assert.rejects(
      dispatcher.dispatch(createEvent("x")),
      /unhandled hook failed/,
    );
  });
});

describe("a handler throwing a value that cannot be inspected", () => {
  for (const concurrency of ["sequential", "parallel"] as const) {
    it(`is an ordinary failure (${concurrency}, isolate): reported with the handler's name, the later handlers run`, async () => {
      for (const thrown of UNINSPECTABLE) {
        const reported: HandlerError[] = [];
        const dispatcher = new InProcessEventDispatcher({
          errorMode: "isolate",
          concurrency,
          onHandlerError: (error) => {
            reported.push(error);
          },
        });
        let later = 0;
        dispatcher.register("x", function bad() {
          throw thrown();
        });
        dispatcher.register("x", async function badAsync() {
          await tick();
          throw thrown();
        });
        dispatcher.register("x", () => {
          later++;
        });
        await dispatcher.dispatch(createEvent("x"));
        assert.equal(later, 1);
        assert.deepEqual(reported.map((error) => error.handlerName), [
          "bad",
          "badAsync",
        ]);
      }
    });
  }
});

describe("handler context", () => {
  it("publishes follow-up events depth-first, awaited, with ids linked at every level", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const Sent = defineEvent<"invite.email_sent", { to: string }>(
      "invite.email_sent",
    );
    const order: string[] = [];
    const published: DomainEvent[] = [];
    dispatcher.register(InviteCreated, async (event, context) => {
      order.push(`created@${context.depth}`);
      const sent = await context.publish(Sent, { to: event.payload.email }, {
        metadata: { actor: "system" },
      });
      published.push(sent);
      assert.equal(sent.payload.to, event.payload.email);
      order.push("created done");
    });
    dispatcher.register(Sent, async (_event, { depth, publish }) => {
      order.push(`sent@${depth}`);
      await tick();
      published.push(await publish("invite.audited"));
      order.push("sent done");
    });
    dispatcher.register("invite.audited", (_event, context) => {
      order.push(`audited@${context.depth}`);
    });

    const root = InviteCreated.create({ email: "ada@example.com" }, {
      correlationId: "req-42",
    });
    await dispatcher.dispatch(root);
    assert.deepEqual(order, [
      "created@0",
      "sent@1",
      "audited@2",
      "sent done",
      "created done",
    ]);
    const [audited, sent] = published as [DomainEvent, DomainEvent];
    assert.equal(sent.eventType, "invite.email_sent");
    assert.equal(sent.causationId, root.eventId);
    assert.equal(sent.correlationId, "req-42");
    assert.deepEqual(sent.metadata, { actor: "system" });
    assert.equal(audited.eventType, "invite.audited");
    assert.equal(audited.causationId, sent.eventId);
    assert.equal(audited.correlationId, "req-42");
  });

  it("uses the root's eventId as the correlation id when the root has none", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const ids: [string | null, string | null][] = [];
    dispatcher.register("a", async (_event, { publish }) => {
      await publish("b");
    });
    dispatcher.register("b", async (event, { publish }) => {
      ids.push([event.correlationId, event.causationId]);
      const c = await publish("c");
      ids.push([c.correlationId, c.causationId]);
      assert.equal(c.causationId, event.eventId);
    });
    const root = createEvent("a");
    await dispatcher.dispatch(root);
    assert.equal(ids[0]?.[0], root.eventId);
    assert.equal(ids[0]?.[1], root.eventId);
    assert.equal(ids[1]?.[0], root.eventId);
  });

  it("refuses a payload the definition's schema rejects, and explicit correlation or causation ids", async () => {
    const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
    dispatcher.register("a", async function badPayload(_event, { publish }) {
      // @ts-expect-error: the schema wants an email string
      await publish(InviteCreated, { email: 42 });
    });
    dispatcher.register("a", async function twoSources(_event, { publish }) {
      // @ts-expect-error: correlation comes from the event being handled
      await publish("b", {}, { correlationId: "other" });
    });
    await assert.rejects(dispatcher.dispatch(createEvent("a")), (error) => {
      assert.ok(error instanceof DispatchError);
      assert.deepEqual(
        error.errors.map((e) => e.cause instanceof InvalidEventError),
        [true, true],
      );
      return true;
    });
  });

  it("refuses publish options that are not an object with a TypeError, and publishes nothing", async () => {
    const published: string[] = [];
    const messages: string[] = [];
    for (const options of [5, "metadata", null, true, [], () => {}]) {
      const each = new InProcessEventDispatcher();
      each.register("b", (event) => {
        published.push(event.eventType);
      });
      each.register("a", async (_event, { publish }) => {
        // @ts-expect-error: options must be an object
        await publish("b", {}, options);
      });
      await assert.rejects(each.dispatch(createEvent("a")), (error) => {
        assert.ok(error instanceof HandlerError);
        assert.ok(error.cause instanceof TypeError);
        messages.push(error.cause.message);
        return true;
      });
    }
    assert.deepEqual(messages, [
      "options: expected an object, got 5",
      'options: expected an object, got "metadata"',
      "options: expected an object, got null",
      "options: expected an object, got true",
      "options: expected an object, got Array",
      "options: expected an object, got a function",
    ]);
    assert.deepEqual(published, []);
  });

  it("dispatches a hand-built event at depth + 1", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const depths: number[] = [];
    dispatcher.register("a", async (event, context) => {
      await context.dispatch(createEvent("b", {}, { causedBy: event }));
    });
    dispatcher.register("b", (_event, { depth }) => {
      depths.push(depth);
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(depths, [1]);
  });

  it("in isolate mode, a nested failure is reported and publish still resolves", async () => {
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: (error) => reported.push(error),
    });
    let published: DomainEvent | undefined;
    dispatcher.register("a", async (_event, { publish }) => {
      published = await publish("b");
    });
    dispatcher.register("b", function nested() {
      throw new Error("nested failed");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.equal(published?.eventType, "b");
    assert.equal(reported.length, 1);
    assert.equal(reported[0]?.handlerName, "nested");
    assert.equal(reported[0]?.event, published);
  });

  it("in fail-fast mode, a nested failure reaches the caller wrapped in the publishing handler's HandlerError", async () => {
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register("a", async function outer(_event, { publish }) {
      await publish("b");
    });
    dispatcher.register("b", function inner() {
      throw new Error("inner failed");
    });
    const root = createEvent("a");
    await assert.rejects(dispatcher.dispatch(root), (error) => {
      const [outer, inner, cause] = causes(error) as [
        HandlerError,
        HandlerError,
        Error,
      ];
      assert.equal(outer.handlerName, "outer");
      assert.equal(outer.event, root);
      assert.equal(inner.handlerName, "inner");
      assert.equal(inner.event.causationId, root.eventId);
      assert.equal(cause.message, "inner failed");
      return true;
    });
  });
});

describe("loop guard", () => {
  /** A → B → A → ... forever, each handler publishing the other event. */
  function pingPong(options: DispatcherOptions) {
    const dispatcher = new InProcessEventDispatcher(options);
    const depths: number[] = [];
    dispatcher.register(
      "ping",
      async function ping(_event, { depth, publish }) {
        depths.push(depth);
        await publish("pong");
      },
    );
    dispatcher.register(
      "pong",
      async function pong(_event, { depth, publish }) {
        depths.push(depth);
        await publish("ping");
      },
    );
    return { dispatcher, depths };
  }

  it("turns an A → B → A loop into MaxDepthExceededError at the default depth of 32", async () => {
    const { dispatcher, depths } = pingPong({});
    await assert.rejects(dispatcher.dispatch(createEvent("ping")), (error) => {
      const chain = causes(error);
      const last = chain.at(-1);
      assert.ok(last instanceof MaxDepthExceededError, String(last));
      assert.equal(last.code, "MAX_DEPTH_EXCEEDED");
      assert.equal(last.maxDepth, 32);
      assert.equal(last.eventType, "pong"); // depth 32 is a ping; its pong is refused
      // one HandlerError for each level that ran, 0 to 32
      assert.equal(chain.length, 34);
      assert.ok(chain.slice(0, -1).every((e) => e instanceof HandlerError));
      return true;
    });
    assert.equal(depths.length, 33);
    assert.deepEqual(depths.slice(-2), [31, 32]);
  });

  it("honours maxDepth, also for context.dispatch", async () => {
    const { dispatcher, depths } = pingPong({ maxDepth: 2 });
    await assert.rejects(dispatcher.dispatch(createEvent("ping")), (error) => {
      assert.equal(causes(error).length, 4);
      return true;
    });
    assert.deepEqual(depths, [0, 1, 2]);

    const flat = new InProcessEventDispatcher({ maxDepth: 0 });
    flat.register("a", async function again(event, context) {
      await context.dispatch(createEvent("a", {}, { causedBy: event }));
    });
    await assert.rejects(flat.dispatch(createEvent("a")), (error) => {
      assert.ok(error instanceof HandlerError);
      assert.ok(error.cause instanceof MaxDepthExceededError);
      assert.equal(error.cause.maxDepth, 0);
      return true;
    });
  });

  it("in isolate mode, reports the refused publish once and resolves", async () => {
    const reported: HandlerError[] = [];
    const { dispatcher, depths } = pingPong({
      maxDepth: 3,
      errorMode: "isolate",
      onHandlerError: (error) => reported.push(error),
    });
    await dispatcher.dispatch(createEvent("ping"));
    assert.deepEqual(depths, [0, 1, 2, 3]);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]?.handlerName, "pong");
    assert.ok(reported[0]?.cause instanceof MaxDepthExceededError);
  });

  it("in collect mode, nests DispatchErrors down to the refusal", async () => {
    const { dispatcher } = pingPong({ maxDepth: 1, errorMode: "collect" });
    await assert.rejects(dispatcher.dispatch(createEvent("ping")), (error) => {
      assert.ok(error instanceof DispatchError);
      const inner = error.errors[0]?.cause;
      assert.ok(inner instanceof DispatchError);
      assert.ok(inner.errors[0]?.cause instanceof MaxDepthExceededError);
      return true;
    });
  });
});

describe("middleware", () => {
  it("wraps every handler call, first used outermost, with the handler's name and depth", async () => {
    const log: string[] = [];
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.use(async (event, next, { handlerName, depth }) => {
      log.push(`outer> ${handlerName} ${event.eventType}@${depth}`);
      await next();
      log.push(`outer< ${handlerName}`);
    });
    dispatcher.use((_event, next, { handlerName }) => {
      log.push(`inner> ${handlerName}`);
      return next();
    });
    dispatcher.register("a", async function first(_event, { publish }) {
      log.push("first");
      await publish("b");
    });
    dispatcher.registerAny(function any() {
      log.push("any");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(log, [
      "outer> first a@0",
      "inner> first",
      "first",
      "outer> any b@1",
      "inner> any",
      "any",
      "outer< any",
      "outer< first",
      "outer> any a@0",
      "inner> any",
      "any",
      "outer< any",
    ]);
  });

  it("counts a middleware's throw or rejection as a failure of the handler it wraps", async () => {
    for (
      const middleware of [
        () => {
          throw new Error("mw failed");
        },
        () => Promise.reject(new Error("mw failed")),
      ]
    ) {
      const dispatcher = new InProcessEventDispatcher();
      dispatcher.use(middleware);
      let ran = false;
      dispatcher.register("a", function wrapped() {
        ran = true;
      });
      await assert.rejects(dispatcher.dispatch(createEvent("a")), (error) => {
        assert.ok(error instanceof HandlerError);
        assert.equal(error.handlerName, "wrapped");
        assert.equal((error.cause as Error).message, "mw failed");
        return true;
      });
      assert.equal(ran, false);
    }
  });

  it("can retry, swallow or skip the handler", async () => {
    let attempts = 0;
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.use(async (_event, next) => {
      try {
        await next();
      } catch {
        await next(); // one retry
      }
    });
    dispatcher.register("a", function flaky() {
      if (++attempts === 1) throw new Error("first attempt fails");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.equal(attempts, 2);

    const skipping = new InProcessEventDispatcher();
    skipping.use(() => {});
    let ran = false;
    skipping.register("a", () => {
      ran = true;
    });
    await skipping.dispatch(createEvent("a"));
    assert.equal(ran, false);
  });

  it("is taken from a snapshot too: middleware added during a dispatch applies from the next one", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const log: string[] = [];
    dispatcher.register("a", () => {
      log.push("h1");
      dispatcher.use((_event, next) => {
        log.push("mw");
        return next();
      });
    });
    dispatcher.register("a", async () => {
      log.push("h2");
      await tick();
    });
    dispatcher.register("a", () => {
      log.push("h3");
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(log, ["h1", "h2", "h3"]);
  });

  it("is removed by the Unsubscribe use returns (twice is harmless); adding it again is a no-op; a non-function is a TypeError", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const log: string[] = [];
    const middleware = (_event: DomainEvent, next: () => unknown) => {
      log.push("mw");
      return next();
    };
    dispatcher.use(middleware);
    const off = dispatcher.use(middleware);
    dispatcher.register("a", () => {
      log.push("h");
    });
    await dispatcher.dispatch(createEvent("a"));
    off();
    off();
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(log, ["mw", "h", "h"]);
    assert.throws(
      () => dispatcher.use(null as never),
      (error) =>
        error instanceof TypeError &&
        error.message == "middleware: expected a function, got null",
    );
  });
});

describe("dispatchAll", () => {
  it("dispatches in order, each after the previous one settled", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const log: string[] = [];
    dispatcher.registerAny(async (event) => {
      log.push(`${event.eventType} start`);
      await tick();
      log.push(`${event.eventType} end`);
    });
    await dispatcher.dispatchAll(new Set([createEvent("a"), createEvent("b")]));
    assert.deepEqual(log, ["a start", "a end", "b start", "b end"]);
  });

  it("checks every event first: a non-event means none is dispatched", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let calls = 0;
    dispatcher.registerAny(() => {
      calls++;
    });
    await assert.rejects(
      dispatcher.dispatchAll([
        createEvent("a"),
        { eventType: "b" } as DomainEvent,
      ]),
      InvalidEventError,
    );
    assert.equal(calls, 0);
  });

  it("stops at the first rejected dispatch in fail-fast mode", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    dispatcher.registerAny((event) => {
      seen.push(event.eventType);
      if (event.eventType === "b") throw new Error("b failed");
    });
    await assert.rejects(
      dispatcher.dispatchAll([
        createEvent("a"),
        createEvent("b"),
        createEvent("c"),
      ]),
      HandlerError,
    );
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("in isolate mode dispatches every event and resolves", async () => {
    const reported: HandlerError[] = [];
    const dispatcher = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: (error) => reported.push(error),
    });
    const seen: string[] = [];
    dispatcher.registerAny((event) => {
      seen.push(event.eventType);
      if (event.eventType === "b") throw new Error("b failed");
    });
    await dispatcher.dispatchAll([
      createEvent("a"),
      createEvent("b"),
      createEvent("c"),
    ]);
    assert.deepEqual(seen, ["a", "b", "c"]);
    assert.deepEqual(reported.map((e) => e.event.eventType), ["b"]);
  });
});

describe("rejections it stops waiting for", () => {
  it("leaves none unhandled: a handler that rejects after an abort, after its timeout, or after a fail-fast parallel dispatch settled", async () => {
    const late = (ms: number) => () =>
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("late")), ms)
      );
    await assertNoUnhandledRejection(async () => {
      const aborted = new InProcessEventDispatcher();
      aborted.register("a", late(5));
      const controller = new AbortController();
      const dispatched = aborted.dispatch(createEvent("a"), {
        signal: controller.signal,
      });
      controller.abort(new Error("stop"));
      await assert.rejects(dispatched, /stop/);

      const timed = new InProcessEventDispatcher({ handlerTimeoutMs: 1 });
      timed.register("a", late(10));
      await assert.rejects(timed.dispatch(createEvent("a")), HandlerError);

      const parallel = new InProcessEventDispatcher({
        concurrency: "parallel",
        onHandlerError: () => {},
      });
      parallel.register("a", () => {
        throw new Error("now");
      });
      parallel.register("a", late(5));
      await assert.rejects(parallel.dispatch(createEvent("a")), /now/);
    });
  });
});
