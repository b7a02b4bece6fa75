// withEventContext (the ./context entry): ambient correlation and metadata.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  InProcessEventDispatcher,
  InvalidEventError,
  parseEvent,
} from "../mod.ts";
import type { EventContextInit } from "../src/context/with_event_context.ts";
import {
  getEventContext,
  withEventContext,
} from "../src/context/with_event_context.ts";

const OrderPlaced = defineEvent<"order.placed", { orderId: string }>(
  "order.placed",
);

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Domain code that knows nothing of requests: it awaits, then creates. */
async function placeOrder(orderId: string) {
  await tick(1);
  await Promise.resolve();
  return OrderPlaced.create({ orderId });
}

describe("withEventContext", () => {
  it("gives events created deep inside the correlation id and metadata", async () => {
    const [created, defined] = await withEventContext(
      { correlationId: "req-42", metadata: { tenant: "acme" } },
      async () => [createEvent("a"), await placeOrder("o_1")],
    );
    for (const event of [created!, defined!]) {
      assert.equal(event.correlationId, "req-42");
      assert.equal(event.causationId, null);
      assert.deepEqual(event.metadata, { tenant: "acme" });
    }
  });

  it("leaves events outside every context as they were", async () => {
    await withEventContext({ correlationId: "req-1" }, () => {});
    const event = createEvent("a");
    assert.equal(event.correlationId, null);
    assert.deepEqual(event.metadata, {});
    assert.equal(getEventContext(), undefined);
  });

  it("never lets parallel contexts see each other's values", async () => {
    const requests = Array.from({ length: 50 }, (_, index) => `req-${index}`);
    const seen = await Promise.all(
      requests.map((requestId, index) =>
        withEventContext({ correlationId: requestId }, async () => {
          await tick(index % 7);
          const first = await placeOrder(requestId);
          await tick((index * 3) % 5);
          return [first.correlationId, createEvent("b").correlationId];
        })
      ),
    );
    assert.deepEqual(seen, requests.map((id) => [id, id]));
  });

  it("lets options given to the event win: correlationId (null too), causedBy, metadata", () => {
    withEventContext(
      { correlationId: "req-42", metadata: { tenant: "acme" } },
      () => {
        assert.equal(
          createEvent("a", {}, { correlationId: "own" }).correlationId,
          "own",
        );
        assert.equal(
          createEvent("a", {}, { correlationId: null }).correlationId,
          null,
        );
        const parent = createEvent("p", {}, { correlationId: "parent-flow" });
        const child = createEvent("c", {}, { causedBy: parent });
        assert.equal(child.correlationId, "parent-flow");
        // Given metadata replaces the context's: it is not merged.
        assert.deepEqual(
          createEvent("a", {}, { metadata: { actor: "ada" } }).metadata,
          { actor: "ada" },
        );
      },
    );
  });

  it("keeps the cause's correlation for events handlers publish", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const published: string[] = [];
    dispatcher.register(OrderPlaced, async (_event, context) => {
      const sent = await context.publish("order.confirmed");
      published.push(`${sent.correlationId} ${sent.metadata["tenant"]}`);
    });
    const placed = createEvent("order.placed", { orderId: "o_1" }, {
      correlationId: "flow-1",
    });
    await withEventContext({
      correlationId: "req-9",
      metadata: { tenant: "acme" },
    }, () => dispatcher.dispatch(placed));
    assert.deepEqual(published, ["flow-1 acme"]);
  });

  it("nests: the inner context keeps what it does not set", () => {
    withEventContext(
      { correlationId: "outer", metadata: { tenant: "acme" } },
      () => {
        withEventContext({ metadata: { tenant: "globex" } }, () => {
          assert.deepEqual(getEventContext(), {
            correlationId: "outer",
            metadata: { tenant: "globex" },
          });
        });
        withEventContext({ correlationId: "inner" }, () => {
          const event = createEvent("a");
          assert.equal(event.correlationId, "inner");
          assert.deepEqual(event.metadata, { tenant: "acme" });
        });
        assert.equal(createEvent("a").correlationId, "outer");
      },
    );
  });

  it("does not change events read back", () => {
    const stored = JSON.stringify(createEvent("a"));
    withEventContext(
      { correlationId: "req-42", metadata: { tenant: "acme" } },
      () => {
        const event = parseEvent(stored);
        assert.equal(event.correlationId, null);
        assert.deepEqual(event.metadata, {});
        const typed = parseEvent(
          JSON.stringify(
            OrderPlaced.create({ orderId: "o" }, { correlationId: null }),
          ),
          { definition: OrderPlaced },
        );
        assert.equal(typed.correlationId, null);
      },
    );
  });

  it("copies and freezes the metadata once, when the context starts", () => {
    const metadata = { tenant: "acme", tags: ["a"] };
    withEventContext({ metadata }, () => {
      metadata.tags.push("b");
      const event = createEvent("a");
      assert.deepEqual(event.metadata, { tenant: "acme", tags: ["a"] });
      assert.ok(Object.isFrozen(event.metadata["tags"]));
      assert.equal(event.metadata, getEventContext()?.metadata);
    });
  });

  it("returns what fn returns, and lets its throw through", () => {
    assert.equal(withEventContext({}, () => 7), 7);
    assert.throws(() =>
      withEventContext({}, () => {
        throw new RangeError("boom");
      }), RangeError);
  });

  it("refuses a bad context before calling fn", () => {
    let called = false;
    const fn = () => {
      called = true;
    };
    const cases: [unknown, string][] = [
      [{ correlationId: "has space" }, "context.correlationId"],
      [{ correlationId: "" }, "context.correlationId"],
      [{ metadata: { at: new Date(0) } }, "context.metadata.at"],
      [{ metadata: "tenant" }, "context.metadata"],
      [null, "context"],
      [
        new Proxy({}, {
          get() {
            throw new Error("trap");
          },
        }),
        "context",
      ],
    ];
    for (const [init, path] of cases) {
      assert.throws(
        () => withEventContext(init as EventContextInit, fn),
        (error: unknown) => {
          assert.ok(error instanceof InvalidEventError, String(error));
          assert.equal(error.issues[0]?.path, path, String(error));
          return true;
        },
      );
    }
    assert.throws(() => withEventContext({}, "fn" as unknown as () => void), {
      name: "TypeError",
      message: 'fn: expected a function, got "fn"',
    });
    assert.equal(called, false);
  });
});
