// Typed means checked: a handler registered with a definition runs only for
// events that definition accepts (issue #10, item 1).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  type DispatcherOptions,
  type DomainEvent,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  parseEvent,
  type StandardSchemaV1,
} from "../mod.ts";

/** A Standard Schema for `{ orderId: string }` that counts its calls. */
function orderSchema(): StandardSchemaV1<unknown, { orderId: string }> & {
  calls: number;
} {
  const schema = {
    calls: 0,
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (value: unknown) => {
        schema.calls++;
        const orderId = (value as { orderId?: unknown }).orderId;
        return typeof orderId == "string"
          ? { value: { orderId } }
          : { issues: [{ message: "expected a string", path: ["orderId"] }] };
      },
    },
  };
  return schema;
}

const MODES: DispatcherOptions[] = [
  {},
  { errorMode: "collect" },
  { errorMode: "isolate", onHandlerError: () => {} },
  { concurrency: "parallel" },
];

/** Asserts an InvalidEventError naming the definition's type and the schema's issue. */
function refusedByOrderPlaced(error: unknown): true {
  assert(error instanceof InvalidEventError);
  assert.match(error.message, /the "order\.placed" definition refuses event/);
  assert.deepEqual(error.issues, [
    { path: "payload.orderId", message: "expected a string" },
  ]);
  return true;
}

describe("a handler registered with a definition", () => {
  it("never runs for an event of its type that the schema refuses, in every error mode; no other handler runs", async () => {
    const OrderPlaced = defineEvent("order.placed", { schema: orderSchema() });
    for (const options of MODES) {
      const dispatcher = new InProcessEventDispatcher(options);
      const ran: string[] = [];
      dispatcher.register(OrderPlaced, (event) => {
        ran.push(event.payload.orderId);
      });
      dispatcher.register("order.placed", () => {
        ran.push("by string");
      });
      dispatcher.registerAny(() => {
        ran.push("any");
      });
      const wrong = createEvent("order.placed", { orderId: 42 });
      await assert.rejects(dispatcher.dispatch(wrong), refusedByOrderPlaced);
      const parsed = parseEvent(JSON.stringify(wrong));
      await assert.rejects(dispatcher.dispatch(parsed), refusedByOrderPlaced);
      // A frozen event this library did not build at all.
      const foreign = Object.freeze({
        ...wrong,
        payload: Object.freeze({ orderId: 42 }),
        metadata: Object.freeze({}),
      });
      await assert.rejects(dispatcher.dispatch(foreign), refusedByOrderPlaced);
      assert.deepEqual(ran, []);
    }
  });

  it("runs for events its create made and for events parsed with it, without running the schema again", async () => {
    const schema = orderSchema();
    const OrderPlaced = defineEvent("order.placed", { schema });
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    dispatcher.register(OrderPlaced, (event) => {
      seen.push(event.payload.orderId);
    });
    const created = OrderPlaced.create({ orderId: "o-1" });
    const parsed = parseEvent(
      JSON.stringify(OrderPlaced.create({ orderId: "o-2" })),
      { definition: OrderPlaced },
    );
    const calls = schema.calls;
    await dispatcher.dispatch(created);
    await dispatcher.dispatch(parsed);
    assert.deepEqual(seen, ["o-1", "o-2"]);
    assert.equal(schema.calls, calls);
  });

  it("checks any other event of its type once per event object, accepted or refused", async () => {
    const schema = orderSchema();
    const OrderPlaced = defineEvent("order.placed", { schema });
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    dispatcher.register(OrderPlaced, (event) => {
      seen.push(event.payload.orderId);
    });
    const good = createEvent("order.placed", { orderId: "o-1" });
    const bad = createEvent("order.placed", { orderId: 1 });
    const calls = schema.calls;
    for (let i = 0; i < 3; i++) {
      await dispatcher.dispatch(good);
      await assert.rejects(dispatcher.dispatch(bad), refusedByOrderPlaced);
    }
    assert.equal(schema.calls - calls, 2);
    assert.deepEqual(seen, ["o-1", "o-1", "o-1"]);
    // An event made by another definition of the type is foreign too.
    const Other = defineEvent("order.placed", { schema: orderSchema() });
    await dispatcher.dispatch(Other.create({ orderId: "o-2" }));
    assert.equal(schema.calls - calls, 3);
  });

  it("refuses nested events the same way: publish and context.dispatch reject, the publishing handler fails", async () => {
    const OrderPlaced = defineEvent("order.placed", { schema: orderSchema() });
    const reported: HandlerError[] = [];
    for (
      const options of [
        {},
        { errorMode: "isolate", onHandlerError: (e) => reported.push(e) },
      ] satisfies DispatcherOptions[]
    ) {
      const dispatcher = new InProcessEventDispatcher(options);
      let ran = 0;
      dispatcher.register(OrderPlaced, () => {
        ran++;
      });
      dispatcher.register("checkout", async function publishes(_e, context) {
        await context.publish("order.placed", { orderId: 7 });
      });
      dispatcher.register("resend", async function redispatches(event, ctx) {
        await ctx.dispatch(
          createEvent("order.placed", { orderId: 8 }, { causedBy: event }),
        );
      });
      for (const type of ["checkout", "resend"]) {
        const dispatched = dispatcher.dispatch(createEvent(type));
        if (options.errorMode == "isolate") await dispatched;
        else {
          await assert.rejects(dispatched, (error) => {
            assert(error instanceof HandlerError);
            assert(error.cause instanceof InvalidEventError);
            return true;
          });
        }
      }
      assert.equal(ran, 0);
    }
    assert.deepEqual(reported.map((e) => e.handlerName), [
      "publishes",
      "redispatches",
    ]);
    assert(reported.every((e) => e.cause instanceof InvalidEventError));
  });

  it("makes dispatchAll refuse before dispatching anything", async () => {
    const OrderPlaced = defineEvent("order.placed", { schema: orderSchema() });
    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    dispatcher.register(OrderPlaced, (event) => {
      seen.push(event.payload.orderId);
    });
    await assert.rejects(
      dispatcher.dispatchAll([
        OrderPlaced.create({ orderId: "o-1" }),
        createEvent("order.placed", { orderId: null }),
      ]),
      InvalidEventError,
    );
    assert.deepEqual(seen, []);
  });

  it("checks with is() a definition that defineEvent did not make", async () => {
    const handMade = {
      type: "order.placed" as const,
      create: (payload: { orderId: string }) =>
        createEvent("order.placed", payload),
      is: (value: unknown): value is DomainEvent<
        "order.placed",
        { orderId: string }
      > => typeof (value as DomainEvent).payload?.["orderId"] == "string",
    };
    const dispatcher = new InProcessEventDispatcher();
    let ran = 0;
    dispatcher.register(handMade, () => {
      ran++;
    });
    await dispatcher.dispatch(createEvent("order.placed", { orderId: "o" }));
    await assert.rejects(
      dispatcher.dispatch(createEvent("order.placed", { orderId: 1 })),
      (error) => {
        assert(error instanceof InvalidEventError);
        assert.match(error.message, /"order\.placed" definition refuses/);
        assert.equal(error.issues[0]?.path, "payload");
        return true;
      },
    );
    const throwing = {
      ...handMade,
      type: "x" as const,
      is: () => {
        throw new Error("broken is");
      },
    };
    dispatcher.register(throwing as never, () => {});
    await assert.rejects(
      dispatcher.dispatch(createEvent("x")),
      (error) =>
        error instanceof InvalidEventError && error.cause instanceof Error,
    );
    assert.equal(ran, 1);
  });
});

describe("one definition per type", () => {
  it("refuses a second definition of a type with a TypeError; the same one again, or strings, are fine", () => {
    const First = defineEvent("order.placed", { schema: orderSchema() });
    const Second = defineEvent("order.placed", { schema: orderSchema() });
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register(First, () => {});
    dispatcher.register(First, () => {});
    dispatcher.register("order.placed", () => {});
    assert.throws(
      () => dispatcher.register(Second, () => {}),
      (error) =>
        error instanceof TypeError &&
        /another definition/.test(error.message),
    );
    assert.equal(dispatcher.handlerCount("order.placed"), 3);
  });

  it("gates string registrations too, once the type has a definition, even one registered later", async () => {
    const OrderPlaced = defineEvent("order.placed", { schema: orderSchema() });
    const dispatcher = new InProcessEventDispatcher();
    const handler = () => {};
    dispatcher.register("order.placed", handler);
    const wrong = createEvent("order.placed", { orderId: 0 });
    await dispatcher.dispatch(wrong); // no definition yet
    dispatcher.register(OrderPlaced, handler); // same handler: attaches the definition
    await assert.rejects(dispatcher.dispatch(wrong), InvalidEventError);
  });

  it("forgets a type's definition with its last handler", async () => {
    const First = defineEvent("order.placed", { schema: orderSchema() });
    const Second = defineEvent("order.placed");
    const dispatcher = new InProcessEventDispatcher();
    const off = dispatcher.register(First, () => {});
    off();
    const wrong = createEvent("order.placed", { orderId: 0 });
    dispatcher.register(Second, () => {});
    await dispatcher.dispatch(wrong); // Second has no schema
    dispatcher.clear();
    dispatcher.register(First, () => {});
    await assert.rejects(dispatcher.dispatch(wrong), InvalidEventError);
  });
});

describe("types", () => {
  it("keeps handlers typed by the definition and options typed", () => {
    const OrderPlaced = defineEvent("order.placed", { schema: orderSchema() });
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register(OrderPlaced, (event) => {
      const id: string = event.payload.orderId;
      void id;
    }, { timeoutMs: 1000 });
    // @ts-expect-error: timeoutMs is a number
    assert.throws(() => dispatcher.register("a", () => {}, { timeoutMs: "1" }));
  });
});
