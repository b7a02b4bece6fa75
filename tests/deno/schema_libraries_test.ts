// Real Standard Schema libraries, zod, valibot and arktype, as defineEvent
// schemas (Deno only: they come from the import map).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import * as v from "valibot";
import { type } from "arktype";
import {
  createEvent,
  defineEvent,
  InProcessEventDispatcher,
  InvalidEventError,
  parseEvent,
} from "../../mod.ts";
import type {
  DomainEvent,
  EventDefinition,
  UpcastableEventDefinition,
} from "../../mod.ts";
import { assertInvalid } from "../_helpers.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`. */
function expectType<T extends true>(_proof?: T): void {}

type Order = { email: string; items: { sku: string; price: number }[] };
const order: Order = {
  email: "ada@example.com",
  items: [{ sku: "a", price: 1 }, { sku: "b", price: 2 }],
};

describe("zod", () => {
  const schema = z.object({
    email: z.email(),
    items: z.array(z.object({ sku: z.string(), price: z.number().positive() })),
  });
  const OrderPlaced = defineEvent("order.placed", { schema });

  it("infers the payload type", () => {
    expectType<
      Equal<
        typeof OrderPlaced,
        UpcastableEventDefinition<"order.placed", Order>
      >
    >();
    const event = OrderPlaced.create(order);
    expectType<Equal<typeof event, DomainEvent<"order.placed", Order>>>();
    expectType<Equal<typeof event.payload.items[number]["price"], number>>();
    assert.throws(
      // @ts-expect-error: price must be a number
      () => OrderPlaced.create({ ...order, items: [{ sku: "a", price: "1" }] }),
      InvalidEventError,
    );
    assert.deepEqual(event.payload, order);
  });

  it("maps issues to paths under payload, with zod's messages", () => {
    const bad = {
      email: "not an email",
      items: [{ sku: "a", price: 1 }, { sku: "b", price: -1 }],
    };
    const result = schema.safeParse(bad);
    assert.equal(result.success, false);
    const [emailIssue, priceIssue] = result.error?.issues ?? [];
    assertInvalid(() => OrderPlaced.create(bad), [
      { path: "payload.email", message: emailIssue?.message ?? "" },
      { path: "payload.items[1].price", message: priceIssue?.message ?? "" },
    ]);
  });

  it("names a missing field", () => {
    assert.throws(
      () => OrderPlaced.create({ email: "ada@example.com" } as Order),
      (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.deepEqual(error.issues.map((issue) => issue.path), [
          "payload.items",
        ]);
        return true;
      },
    );
  });

  it("uses the output of transforms and defaults as the payload", () => {
    const Registered = defineEvent("user.registered", {
      schema: z.object({
        email: z.string().trim().toLowerCase(),
        role: z.string().default("member"),
      }),
    });
    const event = Registered.create(
      { email: "  ADA@Example.com ", role: undefined } as unknown as {
        email: string;
        role: string;
      },
    );
    assert.deepEqual(event.payload, {
      email: "ada@example.com",
      role: "member",
    });
    // These accept their own output, so the stored event reads back.
    assert.equal(Registered.is(event), true);
    assert.deepEqual(
      parseEvent(JSON.stringify(event), { definition: Registered }),
      event,
    );
  });

  it("drops unknown keys as zod does", () => {
    const event = OrderPlaced.create({ ...order, extra: 1 } as Order);
    assert.deepEqual(event.payload, order);
  });

  it("refuses an async schema", () => {
    const Checked = defineEvent("checked", {
      schema: z.object({ id: z.string() }).refine(async () =>
        await Promise.resolve(true)
      ),
    });
    assertInvalid(() => Checked.create({ id: "x" }), [{
      path: "payload",
      message:
        'expected the "checked" schema to validate synchronously, got a Promise',
    }]);
  });

  it("does not allow a schema whose output is not JSON", () => {
    // @ts-expect-error: a Date is not JSON data
    const Dated = defineEvent("dated", { schema: z.object({ at: z.date() }) });
    // create takes the schema's input type: the definition is the error.
    assertInvalid(() => Dated.create({ at: new Date(0) }), [{
      path: "payload.at",
      message: "expected a plain object, got Date",
    }]);
  });

  it("checks .is and parseEvent with the schema", () => {
    const event = OrderPlaced.create(order);
    assert.equal(OrderPlaced.is(event), true);
    assert.equal(
      OrderPlaced.is(createEvent("order.placed", { email: "x" })),
      false,
    );
    const copy = parseEvent(JSON.stringify(event), { definition: OrderPlaced });
    expectType<Equal<typeof copy, DomainEvent<"order.placed", Order>>>();
    assert.deepEqual(copy, event);
    const bad = JSON.stringify(
      createEvent("order.placed", { ...order, email: "nope" }),
    );
    assert.throws(
      () => parseEvent(bad, { definition: OrderPlaced }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.deepEqual(error.issues.map((issue) => issue.path), [
          "payload.email",
        ]);
        return true;
      },
    );
  });
});

describe("valibot", () => {
  const schema = v.object({
    email: v.pipe(v.string(), v.email()),
    items: v.array(
      v.object({ sku: v.string(), price: v.pipe(v.number(), v.minValue(0)) }),
    ),
  });
  const OrderPlaced = defineEvent("order.placed", { schema });

  it("infers the payload type", () => {
    expectType<
      Equal<
        typeof OrderPlaced,
        UpcastableEventDefinition<"order.placed", Order>
      >
    >();
    const event = OrderPlaced.create(order);
    expectType<Equal<typeof event.payload.email, string>>();
    assert.throws(
      // @ts-expect-error: email must be a string
      () => OrderPlaced.create({ ...order, email: 1 }),
      InvalidEventError,
    );
    assert.deepEqual(event.payload, order);
  });

  it("maps issues to paths under payload, with valibot's messages", () => {
    const bad = {
      email: "nope",
      items: [{ sku: "a", price: 1 }, { sku: 2, price: -1 }],
    };
    const result = v.safeParse(schema, bad);
    assert.equal(result.success, false);
    const messages = (result.issues ?? []).map((issue) => issue.message);
    assert.equal(messages.length, 3);
    assertInvalid(() => OrderPlaced.create(bad as unknown as Order), [
      { path: "payload.email", message: messages[0] ?? "" },
      { path: "payload.items[1].sku", message: messages[1] ?? "" },
      { path: "payload.items[1].price", message: messages[2] ?? "" },
    ]);
  });

  it("uses the output of transforms as the payload", () => {
    const Tagged = defineEvent("tagged", {
      schema: v.object({
        tags: v.pipe(v.string(), v.transform((text) => text.split(","))),
      }),
    });
    // create takes the schema's input, events carry its output.
    expectType<
      Equal<
        typeof Tagged,
        UpcastableEventDefinition<
          "tagged",
          { tags: string[] },
          { tags: string }
        >
      >
    >();
    const event = Tagged.create({ tags: "a,b" });
    assert.deepEqual(event.payload, { tags: ["a", "b"] });
    assert.ok(Object.isFrozen(event.payload.tags));
    // A transform that changes the type does not accept its own output: the
    // limit the README states, pinned here.
    assert.equal(Tagged.is(event), false);
    assert.throws(
      () => parseEvent(JSON.stringify(event), { definition: Tagged }),
      InvalidEventError,
    );
  });

  it("refuses an async schema", () => {
    const Checked = defineEvent("checked", {
      schema: v.objectAsync({
        id: v.pipeAsync(
          v.string(),
          v.checkAsync(async () => await Promise.resolve(true)),
        ),
      }),
    });
    assertInvalid(() => Checked.create({ id: "x" }), [{
      path: "payload",
      message:
        'expected the "checked" schema to validate synchronously, got a Promise',
    }]);
  });

  it("checks .is and parseEvent with the schema", () => {
    const event = OrderPlaced.create(order);
    assert.equal(OrderPlaced.is(event), true);
    assert.equal(
      OrderPlaced.is(
        createEvent("order.placed", {
          ...order,
          items: [{ sku: "a", price: -5 }],
        }),
      ),
      false,
    );
    assert.deepEqual(
      parseEvent(JSON.stringify(event), { definition: OrderPlaced }),
      event,
    );
  });
});

describe("arktype", () => {
  // An arktype Type is callable (it returns the value or an ArkErrors object,
  // truthy either way) and a Standard Schema: it must be used as the latter.
  const schema = type({ email: "string.email", seats: "number.integer > 0" });
  const InviteCreated = defineEvent("invite.created", { schema });

  it("infers the payload type", () => {
    expectType<
      Equal<
        typeof InviteCreated,
        UpcastableEventDefinition<
          "invite.created",
          { email: string; seats: number }
        >
      >
    >();
  });

  it("validates through ~standard, with paths under payload", () => {
    const event = InviteCreated.create({ email: "ada@example.com", seats: 3 });
    assert.deepEqual(event.payload, { email: "ada@example.com", seats: 3 });
    assert.throws(
      () => InviteCreated.create({ email: "not an email", seats: 0 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.deepEqual(
          error.issues.map((issue) => issue.path).sort(),
          ["payload.email", "payload.seats"],
        );
        return true;
      },
    );
  });

  it("checks .is and parseEvent with the schema", () => {
    const event = InviteCreated.create({ email: "ada@example.com", seats: 3 });
    assert.equal(InviteCreated.is(event), true);
    assert.equal(
      InviteCreated.is(createEvent("invite.created", { email: 42, seats: 3 })),
      false,
    );
    assert.deepEqual(
      parseEvent(JSON.stringify(event), { definition: InviteCreated }),
      event,
    );
  });
});

// Issue #10, item 3: create takes the schema's input type, so a field with a
// default may be left out; the event carries the output type, where it is
// always present.
describe("defaults: create takes the input type, the event the output type", () => {
  type Output = { orderId: string; currency: string };

  /** The same checks for each library's definition. */
  async function checkDefaults(
    OrderPlaced: EventDefinition<
      "order.placed",
      Output,
      { orderId: string; currency?: string }
    >,
  ): Promise<void> {
    const event = OrderPlaced.create({ orderId: "o-1" });
    expectType<Equal<typeof event, DomainEvent<"order.placed", Output>>>();
    // A handler publishes with the input type too; the event has the output.
    const dispatcher = new InProcessEventDispatcher();
    let published: DomainEvent<"order.placed", Output> | undefined;
    dispatcher.register("cart.checked_out", async (_cart, context) => {
      published = await context.publish(OrderPlaced, { orderId: "o-3" });
      if (published.payload.currency != "EUR") {
        // @ts-expect-error: orderId has no default
        await context.publish(OrderPlaced, {});
      }
    });
    await dispatcher.dispatch(createEvent("cart.checked_out"));
    assert.equal(published?.payload.currency, "EUR");
    expectType<Equal<typeof event.payload.currency, string>>();
    assert.deepEqual(event.payload, { orderId: "o-1", currency: "EUR" });
    assert.equal(
      OrderPlaced.create({ orderId: "o-2", currency: "USD" }).payload.currency,
      "USD",
    );
    assert.ok(OrderPlaced.is(event));
    assert.deepEqual(
      parseEvent(JSON.stringify(event), { definition: OrderPlaced }),
      event,
    );
    assert.throws(
      // @ts-expect-error: orderId has no default
      () => OrderPlaced.create({ currency: "USD" }),
      InvalidEventError,
    );
  }

  it("zod .default()", async () => {
    const OrderPlaced = defineEvent("order.placed", {
      schema: z.object({
        orderId: z.string(),
        currency: z.string().default("EUR"),
      }),
    });
    expectType<
      Equal<
        Parameters<typeof OrderPlaced.create>[0],
        { orderId: string; currency?: string | undefined }
      >
    >();
    await checkDefaults(OrderPlaced);
  });

  it("valibot v.optional(schema, default)", async () => {
    const OrderPlaced = defineEvent("order.placed", {
      schema: v.object({
        orderId: v.string(),
        currency: v.optional(v.string(), "EUR"),
      }),
    });
    expectType<
      Equal<
        Parameters<typeof OrderPlaced.create>[0],
        { orderId: string; currency?: string | undefined }
      >
    >();
    await checkDefaults(OrderPlaced);
  });

  it("arktype defaults", async () => {
    const OrderPlaced = defineEvent("order.placed", {
      schema: type({ orderId: "string", currency: "string = 'EUR'" }),
    });
    const event = OrderPlaced.create({ orderId: "o-1" });
    expectType<Equal<typeof event.payload.currency, string>>();
    await checkDefaults(OrderPlaced);
  });
});
