// Definition.upcastFrom: reading events stored by older code as the current
// definition, through parseEvent and fromCloudEvent.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defineEvent,
  type DomainEvent,
  InProcessEventDispatcher,
  InvalidEventError,
  parseEvent,
} from "../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../cloudevents.ts";

const V1 = defineEvent("invite.created").withPayload<{ email: string }>();
const isV2 = (value: unknown): value is { email: string; locale: string } =>
  typeof (value as { locale?: unknown }).locale === "string";
const V2 = defineEvent("invite.created.v2", { schema: isV2 })
  .upcastFrom(V1, (payload) => ({ ...payload, locale: "en" }));
const V3 = defineEvent("invite.created.v3")
  .withPayload<{ email: string; locale: string; seats: number }>()
  .upcastFrom(V2, (payload) => ({ ...payload, seats: 1 }));

const stored = V1.create({ email: "ada@example.com" }, {
  correlationId: "req-42",
  causationId: "cause-1",
  metadata: { tenant: "acme" },
});
const json = JSON.stringify(stored);

function assertRefused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidEventError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

describe("upcastFrom", () => {
  it("reads an older event as the current one, keeping the envelope", () => {
    const event = parseEvent(json, { definition: V2 });
    assert.deepEqual(event, {
      eventId: stored.eventId,
      eventType: "invite.created.v2",
      occurredAt: stored.occurredAt,
      correlationId: "req-42",
      causationId: "cause-1",
      payload: { email: "ada@example.com", locale: "en" },
      metadata: { tenant: "acme", upcastfrom: "invite.created" },
    });
    assert.ok(V2.is(event));
  });

  it("reads events of the current type as before", () => {
    const current = V2.create({ email: "a@b.c", locale: "fr" });
    assert.deepEqual(
      parseEvent(JSON.stringify(current), { definition: V2 }),
      current,
    );
  });

  it("chains steps: v1 through v2 to v3, checking each schema on the way", () => {
    const event = parseEvent(json, { definitions: [V3] });
    assert.equal(event.eventType, "invite.created.v3");
    assert.deepEqual(event.payload, {
      email: "ada@example.com",
      locale: "en",
      seats: 1,
    });
    assert.equal(event.metadata["upcastfrom"], "invite.created");
    const fromV2 = parseEvent(
      JSON.stringify(V2.create({ email: "a@b.c", locale: "fr" })),
      { definition: V3 },
    );
    assert.deepEqual(fromV2.payload, {
      email: "a@b.c",
      locale: "fr",
      seats: 1,
    });
    assert.equal(fromV2.metadata["upcastfrom"], "invite.created.v2");
  });

  it("reads older CloudEvents too", () => {
    const cloudEvent = JSON.stringify(
      toCloudEvent(stored, { source: "/invites" }),
    );
    const event = fromCloudEvent(cloudEvent, { definitions: [V2] });
    assert.deepEqual(event.payload, { email: "ada@example.com", locale: "en" });
    assert.equal(event.eventId, stored.eventId);
  });

  it("names both types when the upcast throws, or its result or the older payload is refused", () => {
    const throws = defineEvent("invite.created.v2", { schema: isV2 })
      .upcastFrom(V1, () => {
        throw new Error("no locale table");
      });
    assertRefused(
      () => parseEvent(json, { definition: throws }),
      /upcast from "invite\.created" to "invite\.created\.v2" to return a payload, got a throw: no locale table/,
    );
    const forgets = defineEvent("invite.created.v2", { schema: isV2 })
      .upcastFrom(V1, (payload) => ({ ...payload }) as never);
    assertRefused(
      () => parseEvent(json, { definition: forgets }),
      /after upcasting "invite\.created" to "invite\.created\.v2": expected a payload the "invite\.created\.v2" schema accepts/,
    );
    const StrictV1 = defineEvent("invite.created", {
      schema: (value): value is { email: string } =>
        typeof (value as { email?: unknown }).email === "string",
    });
    const fromStrict = defineEvent("invite.created.v2", { schema: isV2 })
      .upcastFrom(StrictV1, (payload) => ({ ...payload, locale: "en" }));
    const broken = JSON.stringify(V1.create({ email: 42 } as never));
    assertRefused(
      () => parseEvent(broken, { definition: fromStrict }),
      /upcasting "invite\.created" to "invite\.created\.v2": expected a payload the "invite\.created" schema accepts/,
    );
  });

  it("refuses a cycle, a second step from the same type, and arguments that are not a definition and a function", () => {
    assert.throws(
      () => defineEvent("invite.created").upcastFrom(V2, (p) => p),
      {
        name: "TypeError",
        message:
          /"invite\.created" cannot read events of its own type \(a cycle\)/,
      },
    );
    assert.throws(
      () => V2.upcastFrom(V1, (p) => ({ ...p, locale: "de" })),
      {
        name: "TypeError",
        message: /"invite\.created\.v2" reads "invite\.created" already/,
      },
    );
    assert.throws(
      () => V3.upcastFrom(V1, (p) => ({ ...p, locale: "en", seats: 2 })),
      TypeError,
    );
    assert.throws(
      () => V2.upcastFrom({ type: "x" } as never, (p) => p as never),
      TypeError,
    );
    assert.throws(() => V2.upcastFrom(V1, "upcast" as never), TypeError);
  });

  it("leaves the definition it extends unchanged", () => {
    const Plain = defineEvent("invite.created.v2", { schema: isV2 });
    const Reading = Plain.upcastFrom(V1, (p) => ({ ...p, locale: "en" }));
    assert.notEqual(Plain, Reading);
    assertRefused(
      () => parseEvent(json, { definition: Plain }),
      /eventType: expected "invite\.created\.v2"/,
    );
  });

  it("lets a listed older definition read its own events, and refuses two routes from one type", () => {
    assert.equal(
      parseEvent(json, { definitions: [V1, V2] }).eventType,
      "invite.created",
    );
    const OtherV2 = defineEvent("invite.other").upcastFrom(V1, (p) => p);
    assert.throws(
      () => parseEvent(json, { definitions: [V2, OtherV2] }),
      {
        name: "TypeError",
        message: /two definitions that both read "invite\.created"/,
      },
    );
  });

  it("gives typed handlers upcast events without checking them again", async () => {
    let checks = 0;
    const Counted = defineEvent("invite.created.v2", {
      schema: (value): value is { email: string; locale: string } => {
        checks++;
        return isV2(value);
      },
    }).upcastFrom(V1, (payload) => ({ ...payload, locale: "en" }));
    const dispatcher = new InProcessEventDispatcher();
    const seen: DomainEvent[] = [];
    dispatcher.register(Counted, (event) => {
      seen.push(event);
    });
    const event = parseEvent(json, { definition: Counted });
    assert.equal(checks, 1);
    await dispatcher.dispatch(event);
    assert.deepEqual(seen, [event]);
    assert.equal(checks, 1);
  });

  it("types the upcast from the older payload to the current input", () => {
    defineEvent("invite.created.v2", { schema: isV2 })
      // @ts-expect-error: the upcast must return the current input (locale missing)
      .upcastFrom(V1, (payload) => ({ email: payload.email }));
    defineEvent("invite.created.v2", { schema: isV2 })
      // @ts-expect-error: the older payload has no `name`
      .upcastFrom(V1, (payload) => ({ email: payload.name, locale: "en" }));
  });

  it("lets an error that is not about the event, from a hand-written older definition, through unchanged", () => {
    const HandWritten = {
      type: "invite.legacy",
      create: () => {
        throw new RangeError("the legacy store is gone");
      },
      is: (_value: unknown): _value is never => false,
    };
    const Reading = defineEvent("invite.created.v2", { schema: isV2 })
      .upcastFrom(HandWritten, () => ({ email: "a@b.c", locale: "en" }));
    const legacy = JSON.stringify({ ...stored, eventType: "invite.legacy" });
    assert.throws(() => parseEvent(legacy, { definition: Reading }), {
      name: "RangeError",
      message: "the legacy store is gone",
    });
  });

  it("refuses options whose generateEventId cannot be read", () => {
    const options = Object.defineProperty({}, "generateEventId", {
      get() {
        throw new Error("trap");
      },
    });
    assertRefused(
      () => defineEvent("a", options),
      /^options\.generateEventId: expected a readable value, got a throw: trap$/,
    );
  });

  it("blames the upcast whose result a later schema refuses, in a chain", () => {
    const X1 = defineEvent("x").withPayload<{ n: number }>();
    const X2 = defineEvent("x.v2", {
      schema: (value): value is { n: number; m: number } =>
        typeof (value as { m?: unknown }).m === "number",
    }).upcastFrom(X1, (payload) => ({ ...payload }) as never);
    const X3 = defineEvent("x.v3").withPayload<{ n: number; m: number }>()
      .upcastFrom(X2, (payload) => payload);
    const stored = JSON.stringify(X1.create({ n: 1 }));
    assertRefused(
      () => parseEvent(stored, { definition: X3 }),
      /^payload: after upcasting "x" to "x\.v2": expected a payload the "x\.v2" schema accepts/,
    );
  });
});
