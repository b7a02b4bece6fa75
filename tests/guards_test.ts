// isDomainEvent and assertDomainEvent: a shallow envelope check that never
// throws (isDomainEvent) or names every field at fault (assertDomainEvent).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  assertDomainEvent,
  createEvent,
  EventRecorder,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../mod.ts";
import type { DomainEvent, EventIssue } from "../mod.ts";
import { FIELDS } from "./_helpers.ts";

const event = createEvent("invite.created", {
  email: "ada@example.com",
  nested: { a: [1] },
}, {
  correlationId: "req-1",
  metadata: { tenant: "acme" },
});

/** A frozen copy of `event`, not built by the library, with some fields replaced. */
function fake(fields: Record<string, unknown> = {}): unknown {
  return Object.freeze({
    ...event,
    payload: Object.freeze({ ...event.payload }),
    metadata: Object.freeze({ ...event.metadata }),
    ...fields,
  });
}

/** A frozen copy of `event` without `field`. */
function without(field: keyof DomainEvent): unknown {
  const copy: Record<string, unknown> = { ...event };
  delete copy[field];
  return Object.freeze(copy);
}

const TYPE =
  "expected 1-256 characters without whitespace or control characters, got ";
const TRACE =
  "expected null or 1-128 ASCII characters without whitespace or control characters, got ";
const TIME = "expected a timestamp in Date#toISOString() form, got ";

// [case, value, the issues assertDomainEvent reports]
const NOT_EVENTS: [string, unknown, EventIssue[]][] = [
  ["null", null, [{ path: "", message: "expected an event object, got null" }]],
  ["undefined", undefined, [{
    path: "",
    message: "expected an event object, got undefined",
  }]],
  ["a string", JSON.stringify(event), [{
    path: "",
    message: `expected an event object, got ${
      JSON.stringify(JSON.stringify(event).slice(0, 40))
    }…`,
  }]],
  ["a number", 1, [{ path: "", message: "expected an event object, got 1" }]],
  ["a function", () => event, [{
    path: "",
    message: "expected an event object, got a function",
  }]],
  ["an array", [event], [{
    path: "",
    message: "expected an event object, got Array",
  }]],
  ["an unfrozen copy", { ...event }, [{
    path: "",
    message: "expected a frozen event, got a mutable object",
  }]],
  [
    "an event read with JSON.parse",
    JSON.parse(JSON.stringify(event)),
    [
      { path: "", message: "expected a frozen event, got a mutable object" },
      { path: "payload", message: "expected a frozen object, got an object" },
      { path: "metadata", message: "expected a frozen object, got an object" },
    ],
  ],
  ["missing eventId", without("eventId"), [{
    path: "eventId",
    message: "expected a UUID, got undefined",
  }]],
  ["missing eventType", without("eventType"), [{
    path: "eventType",
    message: `${TYPE}undefined`,
  }]],
  ["missing occurredAt", without("occurredAt"), [{
    path: "occurredAt",
    message: `${TIME}undefined`,
  }]],
  ["missing correlationId", without("correlationId"), [{
    path: "correlationId",
    message: `${TRACE}undefined`,
  }]],
  ["missing causationId", without("causationId"), [{
    path: "causationId",
    message: `${TRACE}undefined`,
  }]],
  ["missing payload", without("payload"), [{
    path: "payload",
    message: "expected a frozen object, got undefined",
  }]],
  ["missing metadata", without("metadata"), [{
    path: "metadata",
    message: "expected a frozen object, got undefined",
  }]],
  ["an eventId that is not a UUID", fake({ eventId: "evt-1" }), [{
    path: "eventId",
    message: 'expected a UUID, got "evt-1"',
  }]],
  ["a numeric eventId", fake({ eventId: 1 }), [{
    path: "eventId",
    message: "expected a UUID, got 1",
  }]],
  ["an empty eventType", fake({ eventType: "" }), [{
    path: "eventType",
    message: `${TYPE}""`,
  }]],
  ["an eventType with a space", fake({ eventType: "a b" }), [{
    path: "eventType",
    message: `${TYPE}"a b"`,
  }]],
  ["a Date occurredAt", fake({ occurredAt: new Date(0) }), [{
    path: "occurredAt",
    message: `${TIME}Date`,
  }]],
  ["a non-canonical occurredAt", fake({ occurredAt: "2024-01-01" }), [{
    path: "occurredAt",
    message: `${TIME}"2024-01-01"`,
  }]],
  ["an undefined correlationId", fake({ correlationId: undefined }), [{
    path: "correlationId",
    message: `${TRACE}undefined`,
  }]],
  ["an empty causationId", fake({ causationId: "" }), [{
    path: "causationId",
    message: `${TRACE}""`,
  }]],
  ["a mutable payload", fake({ payload: { email: "x" } }), [{
    path: "payload",
    message: "expected a frozen object, got an object",
  }]],
  ["a frozen array payload", fake({ payload: Object.freeze([]) }), [{
    path: "payload",
    message: "expected a frozen object, got Array",
  }]],
  ["a null payload", fake({ payload: null }), [{
    path: "payload",
    message: "expected a frozen object, got null",
  }]],
  ["a string metadata", fake({ metadata: "x" }), [{
    path: "metadata",
    message: 'expected a frozen object, got "x"',
  }]],
  [
    "a payload that cannot be inspected",
    fake({
      payload: new Proxy({}, {
        getPrototypeOf() {
          throw new Error("trap");
        },
      }),
    }),
    [{
      path: "payload",
      message:
        "expected a frozen object, got an object that cannot be inspected",
    }],
  ],
  [
    "everything wrong at once",
    Object.freeze({
      eventId: 1,
      eventType: 2,
      occurredAt: 3,
      correlationId: 4,
      causationId: 5,
      payload: 6,
      metadata: 7,
    }),
    [
      { path: "eventId", message: "expected a UUID, got 1" },
      { path: "eventType", message: `${TYPE}2` },
      { path: "occurredAt", message: `${TIME}3` },
      { path: "correlationId", message: `${TRACE}4` },
      { path: "causationId", message: `${TRACE}5` },
      { path: "payload", message: "expected a frozen object, got 6" },
      { path: "metadata", message: "expected a frozen object, got 7" },
    ],
  ],
];

const throwingProxy = new Proxy(Object.freeze({ ...event }), {
  get() {
    throw new Error("trap");
  },
});
const frozenCheckThrows = new Proxy({}, {
  isExtensible() {
    throw new Error("isExtensible trap");
  },
});
const revoked = Proxy.revocable({}, {});
revoked.revoke();

// Hostile values: isDomainEvent must answer false, never throw.
const HOSTILE: [string, unknown][] = [
  ["a Proxy whose getters throw", throwingProxy],
  ["a Proxy whose isExtensible trap throws", frozenCheckThrows],
  ["a revoked Proxy", revoked.proxy],
  [
    "an object with a throwing getter",
    Object.freeze({
      get eventId(): string {
        throw new Error("getter");
      },
    }),
  ],
  [
    "an object with a throwing toString in a field",
    fake({
      eventType: {
        toString: () => {
          throw new Error("x");
        },
      },
    }),
  ],
];

describe("isDomainEvent", () => {
  const events: [string, unknown][] = [
    ["an event from createEvent", event],
    ["a root event with no payload", createEvent("x")],
    ["an event read back by parseEvent", parseEvent(JSON.stringify(event))],
    ["a frozen event this library did not build", fake()],
    [
      "a frozen fake with null ids",
      fake({ correlationId: null, causationId: null }),
    ],
    ["a frozen fake with extra fields", fake({ extra: "ignored" })],
    [
      "a frozen fake with a null-prototype payload",
      fake({ payload: Object.freeze(Object.create(null)) }),
    ],
    // Shallow by design: the payload itself is frozen, its contents are not walked.
    [
      "a frozen fake whose nested payload is mutable",
      fake({ payload: Object.freeze({ inner: { a: 1 } }) }),
    ],
  ];
  for (const [name, value] of events) {
    it(`is true for ${name}`, () => {
      assert.equal(isDomainEvent(value), true);
    });
  }

  for (const [name, value] of NOT_EVENTS) {
    it(`is false for ${name}`, () => {
      assert.equal(isDomainEvent(value), false);
    });
  }

  for (const [name, value] of HOSTILE) {
    it(`is false for ${name}, without throwing`, () => {
      assert.equal(isDomainEvent(value), false);
    });
  }

  it("narrows the type", () => {
    const value: unknown = event;
    if (isDomainEvent(value)) {
      const type: string = value.eventType;
      assert.equal(type, "invite.created");
    } else {
      assert.fail("expected an event");
    }
  });
});

describe("assertDomainEvent", () => {
  it("returns for an event and narrows the type", () => {
    const value: unknown = event;
    assertDomainEvent(value);
    const id: string = value.eventId;
    assert.equal(id, event.eventId);
  });

  for (const [name, value, issues] of NOT_EVENTS) {
    it(`names the fields at fault for ${name}`, () => {
      assert.throws(() => assertDomainEvent(value), (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.equal(error.code, "INVALID_EVENT");
        assert.deepEqual(error.issues, issues);
        return true;
      });
    });
  }

  for (const [name, value] of HOSTILE) {
    it(`throws an InvalidEventError for ${name}`, () => {
      assert.throws(() => assertDomainEvent(value), (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.equal(error.issues.length > 0, true);
        return true;
      });
    });
  }

  it("says when the value could not be read", () => {
    assert.throws(() => assertDomainEvent(throwingProxy), (error: unknown) => {
      assert.ok(error instanceof InvalidEventError);
      assert.deepEqual(error.issues, [{
        path: "",
        message: "expected a readable value, got a throw: trap",
      }]);
      return true;
    });
  });

  it("puts the path first in the message", () => {
    assert.throws(() => assertDomainEvent(fake({ eventId: "x" })), {
      message: 'eventId: expected a UUID, got "x"',
    });
  });
});

describe("frozen fakes", () => {
  it("isDomainEvent/dispatch/record: a frozen fake whose fields are inherited, hidden or getters is not an event", async () => {
    // A regression (found by the reliability suite): such fakes passed
    // isDomainEvent, so dispatch and record took them:
    // - fields inherited from a real event: JSON.stringify(fake) is "{}",
    //   so an outbox that stores recorded events silently loses them;
    // - non-enumerable fields: the same "{}";
    // - getters: the value checked is not the value dispatched.
    // An event this library did not build needs each field to be an own,
    // enumerable data property: on a frozen object it can never change.
    const real = createEvent("fake.real", { a: 1 }, { metadata: { m: "1" } });
    let reads = 0;
    const accessors = Object.freeze(
      Object.defineProperty({ ...real }, "eventType", {
        enumerable: true,
        get: () => (reads++ === 0 ? "fake.real" : "fake.other"),
      }),
    );
    const fakes: [string, object][] = [
      ["inherited fields", Object.freeze(Object.create(real))],
      [
        "non-enumerable fields",
        Object.freeze(
          Object.defineProperties(
            {},
            Object.fromEntries(
              FIELDS.map((f) => [f, { value: real[f], enumerable: false }]),
            ),
          ),
        ),
      ],
      ["a getter", accessors],
    ];
    for (const [name, fake] of fakes) {
      reads = 0;
      assert.equal(isDomainEvent(fake), false, name);
      const seen: string[] = [];
      const dispatcher = new InProcessEventDispatcher();
      dispatcher.registerAny((event) => {
        seen.push(event.eventType);
      });
      reads = 0;
      await assert.rejects(
        dispatcher.dispatch(fake as DomainEvent),
        InvalidEventError,
        name,
      );
      assert.deepEqual(seen, [], name);
      reads = 0;
      assert.throws(
        () => new EventRecorder().record(fake as DomainEvent),
        InvalidEventError,
        name,
      );
    }
  });
});
