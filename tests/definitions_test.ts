// Issue #10, items 2 to 4: parseEvent and fromCloudEvent with a list of
// definitions, create typed by the schema's input, and the schema-less form
// that names the type once. The type assertions run under `deno test` (which
// type-checks this file); the runtime parts run on every runtime.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  InvalidEventError,
  parseEvent,
} from "../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../cloudevents.ts";
import type {
  DomainEvent,
  EventOf,
  ParsedEvent,
  SchemalessEventDefinition,
  StandardSchemaV1,
  UpcastableEventDefinition,
} from "../mod.ts";
import { assertInvalid } from "./_helpers.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`. */
function expectType<T extends true>(_proof?: T): void {}

function assertTypeError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

type Placed = { orderId: string };
type Paid = { orderId: string; amount: number };

const OrderPlaced = defineEvent("order.placed", {
  schema: (value): value is Placed =>
    typeof (value as Partial<Placed>).orderId === "string",
});
const OrderPaid = defineEvent("order.paid", {
  schema: (value): value is Paid =>
    typeof (value as Partial<Paid>).orderId === "string" &&
    typeof (value as Partial<Paid>).amount === "number",
});
const definitions = [OrderPlaced, OrderPaid];

const placed = OrderPlaced.create({ orderId: "o-1" });
const paid = OrderPaid.create({ orderId: "o-1", amount: 12 });

/** `event`'s JSON with its payload replaced. */
function withPayload(event: DomainEvent, payload: unknown): string {
  return JSON.stringify({ ...event, payload });
}

describe("parseEvent with options.definitions", () => {
  it("picks the definition by eventType and returns its typed event", () => {
    const first = parseEvent(JSON.stringify(placed), { definitions });
    const second = parseEvent(JSON.stringify(paid), { definitions });
    expectType<
      Equal<
        typeof first,
        DomainEvent<"order.placed", Placed> | DomainEvent<"order.paid", Paid>
      >
    >();
    assert.deepEqual(first, placed);
    assert.deepEqual(second as DomainEvent, paid);
    // The union narrows by eventType.
    if (second.eventType === "order.paid") {
      expectType<Equal<typeof second.payload.amount, number>>();
      assert.equal(second.payload.amount, 12);
    } else assert.fail("expected order.paid");
    assert.ok(OrderPaid.is(second));
  });

  it("checks the payload with the picked definition's schema", () => {
    assert.throws(
      () =>
        parseEvent(withPayload(paid, { orderId: "o-1", amount: "12" }), {
          definitions,
        }),
      InvalidEventError,
    );
    // The same payload is fine for the other type: each event meets its own.
    assert.equal(
      parseEvent(withPayload(placed, { orderId: "o-1", amount: "12" }), {
        definitions,
      }).eventType,
      "order.placed",
    );
  });

  it("refuses a type not in the list, naming the types expected", () => {
    const other = JSON.stringify(createEvent("order.cancelled"));
    assertInvalid(() => parseEvent(other, { definitions }), [{
      path: "eventType",
      message:
        'expected one of "order.placed", "order.paid", got "order.cancelled"',
    }]);
    assertInvalid(() => parseEvent(other, { definitions: [OrderPaid] }), [{
      path: "eventType",
      message: 'expected "order.paid", got "order.cancelled"',
    }]);
    assertInvalid(() => parseEvent(other, { definitions: [] }), [{
      path: "eventType",
      message: 'expected one of no types, got "order.cancelled"',
    }]);
  });

  it("shortens the list of expected types past ten", () => {
    const many = Array.from(
      { length: 12 },
      (_, index) => defineEvent(`type.${index}`),
    );
    assert.throws(
      () => parseEvent(JSON.stringify(placed), { definitions: many }),
      (error: unknown) =>
        error instanceof InvalidEventError &&
        error.message.endsWith(
          '"type.8", "type.9" and 2 more, got "order.placed"',
        ),
    );
  });

  it("keeps { definition } working", () => {
    const event = parseEvent(JSON.stringify(placed), {
      definition: OrderPlaced,
    });
    expectType<Equal<typeof event, DomainEvent<"order.placed", Placed>>>();
    assert.deepEqual(event, placed);
    assertInvalid(
      () => parseEvent(JSON.stringify(paid), { definition: OrderPlaced }),
      [{
        path: "eventType",
        message: 'expected "order.placed", got "order.paid"',
      }],
    );
  });

  it("refuses a list with two definitions of one type, with a TypeError", () => {
    const again = defineEvent("order.paid");
    assertTypeError(
      () =>
        parseEvent(JSON.stringify(paid), {
          definitions: [OrderPlaced, OrderPaid, again],
        }),
      'parseEvent: options.definitions: expected event definitions of different types, got "order.paid" twice',
    );
  });

  it("refuses definition and definitions together, with a TypeError", () => {
    assertTypeError(
      () =>
        parseEvent(JSON.stringify(paid), {
          definition: OrderPaid,
          definitions: [OrderPaid],
        }),
      "parseEvent: expected options.definition or options.definitions, got both",
    );
  });

  it("refuses a list that is not an array of definitions, with a TypeError", () => {
    const json = JSON.stringify(paid);
    const loose = (value: unknown) =>
      parseEvent(json, value as { definitions: [] });
    assertTypeError(
      () => loose({ definitions: OrderPaid }),
      "parseEvent: options.definitions: expected event definitions of different types, got an object",
    );
    assertTypeError(
      () => loose({ definitions: [OrderPaid, null] }),
      "parseEvent: options.definitions: expected event definitions of different types, got null",
    );
    assertTypeError(
      () => loose({ definitions: [{ type: "order.paid" }] }),
      "parseEvent: options.definitions: expected event definitions of different types, got an object",
    );
    assertTypeError(
      () => parseEvent(json, { definition: "order.paid" as never }),
      'parseEvent: options.definition: expected an event definition, got "order.paid"',
    );
  });

  it("checks the list before the input", () => {
    assertTypeError(
      () =>
        parseEvent("not json", {
          definitions: [OrderPaid, OrderPaid],
        }),
      'parseEvent: options.definitions: expected event definitions of different types, got "order.paid" twice',
    );
  });
});

describe("fromCloudEvent with options.definitions", () => {
  const source = "/orders";

  it("picks the definition by type and checks the data", () => {
    const event = fromCloudEvent(toCloudEvent(paid, { source }), {
      definitions,
    });
    expectType<
      Equal<
        typeof event,
        DomainEvent<"order.placed", Placed> | DomainEvent<"order.paid", Paid>
      >
    >();
    assert.deepEqual(event, paid);
    assert.throws(
      () =>
        fromCloudEvent(
          { ...toCloudEvent(paid, { source }), data: { orderId: "o-1" } },
          { definitions },
        ),
      InvalidEventError,
    );
    assertInvalid(
      () =>
        fromCloudEvent(
          toCloudEvent(createEvent("order.cancelled"), { source }),
          { definitions },
        ),
      [{
        path: "eventType",
        message:
          'expected one of "order.placed", "order.paid", got "order.cancelled"',
      }],
    );
  });

  it("names itself in the TypeError for a bad list", () => {
    assertTypeError(
      () =>
        fromCloudEvent(toCloudEvent(paid, { source }), {
          definitions: [OrderPaid, OrderPaid],
        }),
      'fromCloudEvent: options.definitions: expected event definitions of different types, got "order.paid" twice',
    );
  });
});

describe("types: definitions lists", () => {
  it("types the result as the union of the definitions' events", () => {
    const asConst = [OrderPlaced, OrderPaid] as const;
    const parsed = parseEvent(JSON.stringify(placed), {
      definitions: asConst,
    });
    expectType<
      Equal<typeof parsed, EventOf<typeof OrderPlaced | typeof OrderPaid>>
    >();
    expectType<
      Equal<
        ParsedEvent<typeof OrderPlaced | typeof OrderPaid>,
        DomainEvent<"order.placed", Placed> | DomainEvent<"order.paid", Paid>
      >
    >();
    assert.equal(parsed.eventType, "order.placed");
    // @ts-expect-error: definitions holds definitions, not type strings
    assert.throws(() => parseEvent("{}", { definitions: ["order.placed"] }));
  });
});

describe("create takes the schema's input type", () => {
  // A hand-written Standard Schema with a default: `currency` may be left
  // out of create's argument and is always in the event's payload.
  type Input = { orderId: string; currency?: string };
  type Output = { orderId: string; currency: string };
  const withDefault: StandardSchemaV1<Input, Output> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) => {
        const { orderId, currency = "EUR" } = value as Input;
        return typeof orderId === "string"
          ? { value: { orderId, currency } }
          : { issues: [{ message: "Expected an orderId", path: ["orderId"] }] };
      },
    },
  };
  const Priced = defineEvent("order.priced", { schema: withDefault });

  it("infers input and output from the schema", () => {
    expectType<
      Equal<
        typeof Priced,
        UpcastableEventDefinition<"order.priced", Output, Input>
      >
    >();
    const event = Priced.create({ orderId: "o-1" });
    expectType<Equal<typeof event, DomainEvent<"order.priced", Output>>>();
    expectType<Equal<typeof event.payload.currency, string>>();
    expectType<
      Equal<EventOf<typeof Priced>, DomainEvent<"order.priced", Output>>
    >();
    assert.deepEqual(event.payload, { orderId: "o-1", currency: "EUR" });
    // @ts-expect-error: orderId is required by the input type too
    assert.throws(() => Priced.create({ currency: "USD" }), InvalidEventError);
  });

  it("keeps guards and type-only definitions typed by the payload", () => {
    expectType<
      Equal<
        typeof OrderPlaced,
        UpcastableEventDefinition<"order.placed", Placed>
      >
    >();
    const TypeOnly = defineEvent<"type.only", Placed>("type.only");
    expectType<
      Equal<typeof TypeOnly, UpcastableEventDefinition<"type.only", Placed>>
    >();
    // @ts-expect-error: orderId is required
    assert.throws(() => OrderPlaced.create({}), InvalidEventError);
    // @ts-expect-error: orderId must be a string
    TypeOnly.create({ orderId: 1 });
  });
});

describe("defineEvent(type).withPayload<P>()", () => {
  const OrderShipped = defineEvent("order.shipped").withPayload<
    { orderId: string; carrier: string }
  >();

  it("names the type once and types create, is and the event", () => {
    expectType<
      Equal<
        typeof OrderShipped,
        UpcastableEventDefinition<
          "order.shipped",
          { orderId: string; carrier: string }
        >
      >
    >();
    const event = OrderShipped.create({ orderId: "o-1", carrier: "ups" });
    expectType<
      Equal<
        typeof event,
        DomainEvent<"order.shipped", { orderId: string; carrier: string }>
      >
    >();
    assert.equal(event.eventType, "order.shipped");
    assert.equal(event.payload.carrier, "ups");
    assert.ok(OrderShipped.is(event));
    // @ts-expect-error: carrier is missing
    OrderShipped.create({ orderId: "o-1" });
  });

  it("returns the same definition: only the type changes", () => {
    const Untyped = defineEvent("order.returned");
    expectType<
      Equal<typeof Untyped, SchemalessEventDefinition<"order.returned">>
    >();
    assert.equal(Untyped.withPayload<{ orderId: string }>(), Untyped);
    assert.ok(Object.isFrozen(Untyped));
    // Nothing but JSON is checked at run time: the type is the contract.
    assert.throws(() => Untyped.create({ at: NaN }), InvalidEventError);
  });

  it("is not offered once a schema or a payload type is given", () => {
    const TypeOnly = defineEvent<"type.only", Placed>("type.only");
    // @ts-expect-error: the payload type is already given
    TypeOnly.withPayload;
    // @ts-expect-error: the schema gives the payload type
    OrderPlaced.withPayload;
  });
});

describe("EventOf<typeof Definition>", () => {
  it("is the event a definition creates", () => {
    const OrderShipped = defineEvent("order.shipped").withPayload<
      { orderId: string }
    >();
    expectType<
      Equal<
        EventOf<typeof OrderShipped>,
        DomainEvent<"order.shipped", { orderId: string }>
      >
    >();
    expectType<
      Equal<EventOf<typeof OrderPaid>, DomainEvent<"order.paid", Paid>>
    >();
    expectType<Equal<EventOf<string>, never>>();
    const handle = (event: EventOf<typeof OrderShipped>): string =>
      event.payload.orderId;
    assert.equal(handle(OrderShipped.create({ orderId: "o-9" })), "o-9");
  });
});
