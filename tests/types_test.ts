// Type-level tests: `deno test` type-checks this file, so a wrong type (or a
// `@ts-expect-error` that no longer finds an error) fails the suite. The
// runtime parts are plain assertions, so the file also runs on Bun and Node.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../mod.ts";
import type {
  CreateEventOptions,
  DeepReadonly,
  DomainEvent,
  JsonObject,
  JsonValue,
  ParsedEvent,
  StandardSchemaV1,
  UpcastableEventDefinition,
} from "../mod.ts";

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`. */
function expectType<T extends true>(_proof?: T): void {}

type Invite = {
  email: string;
  seats: number;
  tags: string[];
  owner: { name: string };
};

function isInvite(value: unknown): value is Invite {
  return typeof (value as Partial<Invite>)?.email === "string";
}

const invite: Invite = {
  email: "ada@example.com",
  seats: 3,
  tags: ["a"],
  owner: { name: "Ada" },
};

describe("types: createEvent", () => {
  it("keeps the event type as a literal", () => {
    const event = createEvent("invite.created", { a: 1 });
    expectType<Equal<typeof event.eventType, "invite.created">>();
    expectType<
      Equal<typeof event, DomainEvent<"invite.created", { a: number }>>
    >();
    const type: string = "dynamic";
    const dynamic = createEvent(type);
    expectType<Equal<typeof dynamic.eventType, string>>();
    assert.equal(event.eventType, "invite.created");
  });

  it("infers the payload, read-only at every depth", () => {
    const event = createEvent("invite.created", invite);
    expectType<Equal<typeof event.payload.email, string>>();
    expectType<Equal<typeof event.payload.tags, readonly string[]>>();
    expectType<Equal<typeof event.payload.owner, { readonly name: string }>>();
    expectType<Equal<typeof event.payload, DeepReadonly<Invite>>>();
    assert.throws(() => {
      // @ts-expect-error: read-only at depth 1
      event.payload.email = "x";
    }, TypeError);
    assert.throws(() => {
      // @ts-expect-error: read-only at depth 2
      event.payload.owner.name = "x";
    }, TypeError);
    assert.throws(() => {
      // @ts-expect-error: a read-only array has no push
      event.payload.tags.push("b");
    }, TypeError);
    assert.throws(() => {
      // @ts-expect-error: read-only array elements
      event.payload.tags[0] = "b";
    }, TypeError);
    assert.throws(() => {
      // @ts-expect-error: the envelope is read-only
      event.eventId = "x";
    }, TypeError);
    assert.throws(() => {
      // @ts-expect-error: metadata is read-only
      event.metadata.x = 1;
    }, TypeError);
  });

  it("without a payload, has an empty payload type", () => {
    const event = createEvent("tick");
    expectType<
      Equal<typeof event.payload, DeepReadonly<Record<string, never>>>
    >();
    assert.deepEqual(event.payload, {});
  });

  it("refuses payload types that are not JSON", () => {
    assert.throws(
      // @ts-expect-error: a Date is not JSON data
      () => createEvent("x", { at: new Date(0) }),
      InvalidEventError,
    );
    // @ts-expect-error: a function is not JSON data
    assert.throws(() => createEvent("x", { f: () => 1 }), InvalidEventError);
    // @ts-expect-error: a bigint is not JSON data
    assert.throws(() => createEvent("x", { n: 1n }), InvalidEventError);
    // @ts-expect-error: a Map is not JSON data
    assert.throws(() => createEvent("x", { m: new Map() }), InvalidEventError);
    // @ts-expect-error: the payload is an object, not an array
    assert.throws(() => createEvent("x", [1]), InvalidEventError);
    // @ts-expect-error: the payload is an object, not a string
    assert.throws(() => createEvent("x", "text"), InvalidEventError);
    // Optional properties and explicit undefined are fine: they are dropped.
    const optional: { a?: string } = {};
    assert.deepEqual(createEvent("x", optional).payload, {});
    assert.deepEqual(createEvent("x", { a: undefined }).payload, {});
  });

  it("types the options", () => {
    assert.throws(
      // @ts-expect-error: occurredAt is a string or a Date
      () => createEvent("x", {}, { occurredAt: 0 }),
      InvalidEventError,
    );
    assert.throws(
      // @ts-expect-error: causedBy is an event
      () => createEvent("x", {}, { causedBy: "id" }),
      InvalidEventError,
    );
    // @ts-expect-error: unknown option
    createEvent("x", {}, { correlation: "x" });
    const options: CreateEventOptions = {
      causedBy: createEvent("a"),
      metadata: { k: [1] },
    };
    assert.equal(
      createEvent("b", {}, options).causationId,
      options.causedBy?.eventId,
    );
  });

  it("accepts a typed event as causedBy", () => {
    const Created = defineEvent("invite.created", { schema: isInvite });
    const parent: DomainEvent<"invite.created", Invite> = Created.create(
      invite,
    );
    const child = createEvent("invite.sent", {}, { causedBy: parent });
    const general: DomainEvent = parent;
    assert.equal(child.causationId, general.eventId);
  });
});

describe("types: defineEvent", () => {
  const InviteCreated = defineEvent("invite.created", { schema: isInvite });

  it("keeps the type as a literal and infers the payload from a guard", () => {
    expectType<Equal<typeof InviteCreated.type, "invite.created">>();
    expectType<
      Equal<
        typeof InviteCreated,
        UpcastableEventDefinition<"invite.created", Invite>
      >
    >();
    const event = InviteCreated.create(invite);
    expectType<Equal<typeof event, DomainEvent<"invite.created", Invite>>>();
    expectType<Equal<typeof event.payload.owner.name, string>>();
    assert.equal(InviteCreated.type, "invite.created");
  });

  it("refuses a wrong payload at compile time", () => {
    assert.throws(
      // @ts-expect-error: email must be a string
      () => InviteCreated.create({ ...invite, email: 42 }),
      InvalidEventError,
    );
    assert.throws(
      // @ts-expect-error: email is missing
      () => InviteCreated.create({ seats: 1, tags: [], owner: { name: "x" } }),
      InvalidEventError,
    );
    // @ts-expect-error: a payload is required
    assert.throws(() => InviteCreated.create(), InvalidEventError);
    // @ts-expect-error: unknown property (the guard lets it through at runtime)
    InviteCreated.create({ ...invite, extra: true });
  });

  it("infers the payload from a Standard Schema", () => {
    const schema: StandardSchemaV1<unknown, { n: number }> = {
      "~standard": {
        version: 1,
        vendor: "t",
        validate: (value) => ({ value: value as { n: number } }),
      },
    };
    const Counted = defineEvent("counted", { schema });
    expectType<
      Equal<typeof Counted, UpcastableEventDefinition<"counted", { n: number }>>
    >();
    // @ts-expect-error: n must be a number
    Counted.create({ n: "1" });
    assert.equal(Counted.create({ n: 1 }).payload.n, 1);
  });

  it("takes the payload type as a type argument without a schema", () => {
    const Accepted = defineEvent<"invite.accepted", { inviteId: string }>(
      "invite.accepted",
    );
    const event = Accepted.create({ inviteId: "inv_1" });
    expectType<Equal<typeof event.eventType, "invite.accepted">>();
    expectType<Equal<typeof event.payload.inviteId, string>>();
    // @ts-expect-error: inviteId must be a string
    Accepted.create({ inviteId: 1 });
    assert.equal(event.payload.inviteId, "inv_1");
  });

  it("refuses a payload type that is not JSON", () => {
    // @ts-expect-error: a Date is not JSON data
    defineEvent<"x", { at: Date }>("x");
    // @ts-expect-error: the type must be a string
    assert.throws(() => defineEvent(42), InvalidEventError);
    // @ts-expect-error: the schema must be a guard or a Standard Schema
    assert.throws(() => defineEvent("x", { schema: 42 }), InvalidEventError);
  });

  it("narrows with .is", () => {
    const value: unknown = InviteCreated.create(invite);
    if (InviteCreated.is(value)) {
      expectType<Equal<typeof value, DomainEvent<"invite.created", Invite>>>();
      expectType<Equal<typeof value.payload.seats, number>>();
    } else {
      assert.fail("expected the event");
    }
  });

  it("keeps its functions typed when taken apart", () => {
    const { create, is, type } = InviteCreated;
    expectType<Equal<typeof type, "invite.created">>();
    expectType<Equal<Parameters<typeof create>[0], Invite>>();
    const event = create(invite);
    assert.equal(is(event), true);
  });
});

describe("types: guards and parseEvent", () => {
  it("isDomainEvent narrows to DomainEvent", () => {
    const value: unknown = createEvent("a");
    if (isDomainEvent(value)) {
      expectType<Equal<typeof value, DomainEvent>>();
      expectType<Equal<typeof value.eventType, string>>();
    } else {
      assert.fail("expected an event");
    }
  });

  it("parseEvent returns a DomainEvent, or the definition's event", () => {
    const Created = defineEvent("invite.created", { schema: isInvite });
    const json = JSON.stringify(Created.create(invite));
    const any = parseEvent(json);
    expectType<Equal<typeof any, DomainEvent>>();
    const typed = parseEvent(json, { definition: Created });
    expectType<Equal<typeof typed, DomainEvent<"invite.created", Invite>>>();
    expectType<
      Equal<ParsedEvent<typeof Created>, DomainEvent<"invite.created", Invite>>
    >();
    expectType<Equal<ParsedEvent<undefined>, DomainEvent>>();
    // @ts-expect-error: maxDepth is a number (and refused at run time)
    assert.throws(() => parseEvent(json, { maxDepth: "2" }), InvalidEventError);
    assert.equal(typed.payload.email, invite.email);
  });
});

describe("types: no any reaches the user", () => {
  it("has no any in events, payloads, definitions or parsed events", () => {
    const event = createEvent("a", { x: 1 });
    const Def = defineEvent("invite.created", { schema: isInvite });
    const Untyped = defineEvent("untyped");
    const parsed = parseEvent(JSON.stringify(Def.create(invite)), {
      definition: Def,
    });
    const general = null as unknown as DomainEvent;
    expectType<Equal<IsAny<typeof event>, false>>();
    expectType<Equal<IsAny<typeof event.payload>, false>>();
    expectType<Equal<IsAny<typeof event.payload.x>, false>>();
    expectType<Equal<IsAny<typeof event.metadata>, false>>();
    expectType<Equal<IsAny<typeof event.metadata[string]>, false>>();
    expectType<Equal<IsAny<typeof general.payload[string]>, false>>();
    expectType<Equal<IsAny<ReturnType<typeof Def.create>>, false>>();
    expectType<Equal<IsAny<Parameters<typeof Def.create>[0]>, false>>();
    expectType<
      Equal<IsAny<ReturnType<typeof Untyped.create>["payload"]>, false>
    >();
    expectType<Equal<IsAny<Parameters<typeof Untyped.create>[0]>, false>>();
    expectType<Equal<IsAny<typeof parsed>, false>>();
    expectType<Equal<IsAny<typeof parsed.payload.email>, false>>();
    expectType<Equal<IsAny<ReturnType<typeof parseEvent>>, false>>();
    expectType<Equal<IsAny<ParsedEvent<undefined>["payload"]>, false>>();
    expectType<Equal<IsAny<JsonValue>, false>>();
    expectType<Equal<IsAny<JsonObject[string]>, false>>();
    // The helper itself works:
    // deno-lint-ignore no-explicit-any
    expectType<Equal<IsAny<any>, true>>();
    assert.ok(true);
  });
});
