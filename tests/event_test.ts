// createEvent: the envelope, its defaults, overrides, causation and refusals.
// (Payload and metadata contents are covered in json_test.ts.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../mod.ts";
import type { CreateEventOptions, DomainEvent } from "../mod.ts";
import { assertInvalid, FIELDS } from "./_helpers.ts";

const UUID_V4 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TYPE_MESSAGE =
  "expected 1-256 characters without whitespace or control characters, got ";
const TRACE_MESSAGE =
  "expected null or 1-128 ASCII characters without whitespace or control characters, got ";
const TIME_MESSAGE = "expected a timestamp in Date#toISOString() form, got ";

/** Lets a test pass options the types (rightly) forbid. */
function options(value: Record<string, unknown>): CreateEventOptions {
  return value as CreateEventOptions;
}

describe("createEvent: defaults", () => {
  it("fills every field of the envelope, in a fixed order", () => {
    const before = Date.now();
    const event = createEvent("invite.created", { email: "ada@example.com" });
    const after = Date.now();
    assert.deepEqual(Object.keys(event), FIELDS);
    assert.match(event.eventId, UUID_V4);
    assert.equal(event.eventType, "invite.created");
    assert.equal(new Date(event.occurredAt).toISOString(), event.occurredAt);
    const time = Date.parse(event.occurredAt);
    assert.ok(
      before <= time && time <= after,
      `${before} <= ${time} <= ${after}`,
    );
    assert.equal(event.correlationId, null);
    assert.equal(event.causationId, null);
    assert.deepEqual(event.payload, { email: "ada@example.com" });
    assert.deepEqual(event.metadata, {});
  });

  it("makes a frozen plain object with no methods", () => {
    const event = createEvent("invite.created");
    assert.equal(Object.getPrototypeOf(event), Object.prototype);
    assert.ok(Object.isFrozen(event));
    for (const value of Object.values(event)) {
      assert.notEqual(typeof value, "function");
    }
    assert.ok(isDomainEvent(event));
  });

  it("defaults the payload to an empty object", () => {
    assert.deepEqual(createEvent("invite.created").payload, {});
    assert.deepEqual(createEvent("invite.created", undefined).payload, {});
    assert.deepEqual(createEvent("invite.created", undefined, {}).payload, {});
  });

  it("serializes with JSON.stringify and nothing else", () => {
    const event = createEvent("invite.created", { a: [1] }, {
      metadata: { m: true },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(event)), {
      eventId: event.eventId,
      eventType: "invite.created",
      occurredAt: event.occurredAt,
      correlationId: null,
      causationId: null,
      payload: { a: [1] },
      metadata: { m: true },
    });
  });

  it("gives every event a new id", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(createEvent("tick").eventId);
    assert.equal(ids.size, 2000);
  });
});

describe("createEvent: event types", () => {
  const accepted = [
    "a",
    "invite.created",
    "Invite/Created:v2",
    "invite_créé",
    "招待.作成",
    "\u{1F600}",
    "constructor",
    "__proto__",
    "a".repeat(256),
  ];
  for (const type of accepted) {
    it(`accepts ${JSON.stringify(type.length > 20 ? `${type.slice(0, 10)}… (${type.length})` : type)}`, () => {
      assert.equal(createEvent(type).eventType, type);
    });
  }

  // [case, value, how describeValue names it]
  const refused: [string, unknown, string][] = [
    ["empty", "", '""'],
    ["257 characters", "a".repeat(257), `"${"a".repeat(40)}"…`],
    ["a space", "invite created", '"invite created"'],
    ["only a space", " ", '" "'],
    ["a leading space", " invite", '" invite"'],
    ["a trailing newline", "invite\n", '"invite\\n"'],
    ["a tab", "a\tb", '"a\\tb"'],
    ["a carriage return", "a\rb", '"a\\rb"'],
    ["a no-break space", "a\u00a0b", '"a\u00a0b"'],
    ["a line separator", "a\u2028b", '"a\u2028b"'],
    ["an ideographic space", "a\u3000b", '"a\u3000b"'],
    ["a byte-order mark", "\ufeffa", '"\ufeffa"'],
    ["NUL", "a\u0000b", '"a\\u0000b"'],
    ["an escape character", "a\u001bb", '"a\\u001bb"'],
    ["DEL", "a\u007fb", '"a\u007fb"'],
    ["a C1 control character", "a\u0085b", '"a\u0085b"'],
    ["a number", 42, "42"],
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
    ["an object", { type: "x" }, "an object"],
    ["a boxed string", Object("invite.created"), "String"],
  ];
  for (const [name, type, described] of refused) {
    it(`refuses ${name}`, () => {
      assertInvalid(
        () => createEvent(type as string),
        [{ path: "eventType", message: TYPE_MESSAGE + described }],
      );
    });
  }
});

describe("createEvent: correlation and causation ids", () => {
  const accepted = [
    "req-42",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV", // ULID
    "4bf92f3577b34da6a3ce929d0e0e4736", // W3C trace id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // traceparent
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "F47AC10B-58CC-4372-A567-0E02B2C3D479",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "x",
    "a".repeat(128),
  ];
  for (const id of accepted) {
    it(`accepts ${JSON.stringify(id.length > 40 ? `${id.slice(0, 10)}… (${id.length})` : id)} as given`, () => {
      const event = createEvent("test.event", {}, {
        correlationId: id,
        causationId: id,
      });
      assert.equal(event.correlationId, id);
      assert.equal(event.causationId, id);
    });
  }

  it("accepts null explicitly", () => {
    const event = createEvent("test.event", {}, {
      correlationId: null,
      causationId: null,
    });
    assert.equal(event.correlationId, null);
    assert.equal(event.causationId, null);
  });

  it("accepts a causation id without a correlation id, and the reverse", () => {
    assert.equal(
      createEvent("a", {}, { causationId: "c" }).correlationId,
      null,
    );
    assert.equal(
      createEvent("a", {}, { correlationId: "c" }).causationId,
      null,
    );
  });

  const refused: [string, unknown, string][] = [
    ["empty", "", '""'],
    ["129 characters", "a".repeat(129), `"${"a".repeat(40)}"…`],
    ["a space", "req 42", '"req 42"'],
    ["a tab", "req\t42", '"req\\t42"'],
    ["a newline", "req42\n", '"req42\\n"'],
    ["non-ASCII", "req-é", '"req-é"'],
    ["an emoji", "req-\u{1F600}", '"req-\u{1F600}"'],
    ["DEL", "req\u007f", '"req\u007f"'],
    ["a number", 42, "42"],
    ["an object", { id: "x" }, "an object"],
  ];
  for (const field of ["correlationId", "causationId"]) {
    for (const [name, value, described] of refused) {
      it(`refuses ${name} as ${field}`, () => {
        assertInvalid(
          () => createEvent("test.event", {}, options({ [field]: value })),
          [{ path: `options.${field}`, message: TRACE_MESSAGE + described }],
        );
      });
    }
  }

  it("reports both ids when both are wrong, joined in the message", () => {
    assert.throws(
      () =>
        createEvent("test.event", {}, {
          correlationId: "",
          causationId: "a b",
        }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.deepEqual(error.issues.map((issue) => issue.path), [
          "options.correlationId",
          "options.causationId",
        ]);
        assert.equal(
          error.message,
          `options.correlationId: ${TRACE_MESSAGE}""; options.causationId: ${TRACE_MESSAGE}"a b"`,
        );
        return true;
      },
    );
  });
});

describe("createEvent: eventId", () => {
  it("uses the given id", () => {
    const id = "f47ac10b-58cc-4372-a567-0e02b2c3d479";
    assert.equal(createEvent("test.event", {}, { eventId: id }).eventId, id);
  });

  it("stores an upper-case id in lower case", () => {
    const event = createEvent("test.event", {}, {
      eventId: "F47AC10B-58CC-4372-A567-0E02B2C3D479",
    });
    assert.equal(event.eventId, "f47ac10b-58cc-4372-a567-0e02b2c3d479");
  });

  it("accepts any UUID version, and the nil and max UUIDs", () => {
    for (
      const id of [
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8", // v1
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", // v7
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
      ]
    ) {
      assert.equal(createEvent("test.event", {}, { eventId: id }).eventId, id);
    }
  });

  const refused: [string, unknown, string][] = [
    ["empty", "", '""'],
    ["not a UUID", "not-a-uuid", '"not-a-uuid"'],
    [
      "a UUID without dashes",
      "f47ac10b58cc4372a5670e02b2c3d479",
      '"f47ac10b58cc4372a5670e02b2c3d479"',
    ],
    [
      "a UUID in braces",
      "{f47ac10b-58cc-4372-a567-0e02b2c3d479}",
      '"{f47ac10b-58cc-4372-a567-0e02b2c3d479}"',
    ],
    [
      "a UUID URN",
      "urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479",
      '"urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c"…',
    ],
    [
      "a UUID with spaces",
      " f47ac10b-58cc-4372-a567-0e02b2c3d479 ",
      '" f47ac10b-58cc-4372-a567-0e02b2c3d479 "',
    ],
    [
      "a UUID with a newline",
      "f47ac10b-58cc-4372-a567-0e02b2c3d479\n",
      '"f47ac10b-58cc-4372-a567-0e02b2c3d479\\n"',
    ],
    [
      "a non-hex digit",
      "g47ac10b-58cc-4372-a567-0e02b2c3d479",
      '"g47ac10b-58cc-4372-a567-0e02b2c3d479"',
    ],
    ["a number", 42, "42"],
    ["null", null, "null"],
  ];
  for (const [name, value, described] of refused) {
    it(`refuses ${name}`, () => {
      assertInvalid(
        () => createEvent("test.event", {}, options({ eventId: value })),
        [{
          path: "options.eventId",
          message: `expected a UUID, got ${described}`,
        }],
      );
    });
  }
});

describe("createEvent: occurredAt", () => {
  it("keeps a canonical string as given", () => {
    const at = "2024-01-01T12:30:45.678Z";
    assert.equal(
      createEvent("test.event", {}, { occurredAt: at }).occurredAt,
      at,
    );
  });

  it("accepts the extremes Date#toISOString() writes", () => {
    for (
      const at of [
        "1970-01-01T00:00:00.000Z",
        "0000-01-01T00:00:00.000Z",
        "+275760-09-13T00:00:00.000Z",
      ]
    ) {
      assert.equal(
        createEvent("test.event", {}, { occurredAt: at }).occurredAt,
        at,
      );
    }
  });

  it("accepts a string exactly when Date#toISOString() writes it, around every month end and time limit", () => {
    const pad = (n: number, width: number) => String(n).padStart(width, "0");
    const writes = (at: string) =>
      new Date(Date.parse(at) || 0).toISOString() === at;
    let accepted = 0;
    for (const year of [0, 4, 100, 400, 1900, 2000, 2023, 2024, 9999]) {
      for (let month = 0; month <= 13; month++) {
        for (const day of [0, 1, 28, 29, 30, 31, 32]) {
          for (const time of ["00:00:00", "23:59:59", "24:00:00", "12:60:00"]) {
            const at = `${pad(year, 4)}-${pad(month, 2)}-${
              pad(day, 2)
            }T${time}.999Z`;
            let valid = true;
            try {
              createEvent("test.event", {}, { occurredAt: at });
            } catch (error) {
              assert.ok(error instanceof InvalidEventError);
              valid = false;
            }
            assert.equal(valid, writes(at), at);
            if (valid) accepted++;
          }
        }
      }
    }
    assert.ok(accepted > 500, `only ${accepted} accepted`);
  });

  it("converts a Date", () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    const event = createEvent("test.event", {}, { occurredAt: date });
    assert.equal(event.occurredAt, "2024-01-02T03:04:05.006Z");
    date.setFullYear(2000);
    assert.equal(event.occurredAt, "2024-01-02T03:04:05.006Z");
  });

  const refused: [string, unknown, string][] = [
    ["a date without a time", "2024-01-01", '"2024-01-01"'],
    [
      "a time without milliseconds",
      "2024-01-01T00:00:00Z",
      '"2024-01-01T00:00:00Z"',
    ],
    [
      "a time without a zone",
      "2024-01-01T00:00:00.000",
      '"2024-01-01T00:00:00.000"',
    ],
    [
      "an offset instead of Z",
      "2024-01-01T00:00:00.000+00:00",
      '"2024-01-01T00:00:00.000+00:00"',
    ],
    [
      "a lower-case z",
      "2024-01-01T00:00:00.000z",
      '"2024-01-01T00:00:00.000z"',
    ],
    [
      "microseconds",
      "2024-01-01T00:00:00.000000Z",
      '"2024-01-01T00:00:00.000000Z"',
    ],
    ["February 30", "2024-02-30T00:00:00.000Z", '"2024-02-30T00:00:00.000Z"'],
    ["hour 24", "2024-01-01T24:00:00.000Z", '"2024-01-01T24:00:00.000Z"'],
    ["month 13", "2024-13-01T00:00:00.000Z", '"2024-13-01T00:00:00.000Z"'],
    [
      "a letter where a digit goes",
      "2024-0a-01T00:00:00.000Z",
      '"2024-0a-01T00:00:00.000Z"',
    ],
    [
      "a leading space",
      " 2024-01-01T00:00:00.000Z",
      '" 2024-01-01T00:00:00.000Z"',
    ],
    [
      "an RFC 2822 date",
      "Mon, 01 Jan 2024 00:00:00 GMT",
      '"Mon, 01 Jan 2024 00:00:00 GMT"',
    ],
    ["an empty string", "", '""'],
    ["a number", 0, "0"],
    ["null", null, "null"],
  ];
  for (const [name, value, described] of refused) {
    it(`refuses ${name}`, () => {
      assertInvalid(
        () => createEvent("test.event", {}, options({ occurredAt: value })),
        [{ path: "options.occurredAt", message: TIME_MESSAGE + described }],
      );
    });
  }

  it("refuses an invalid Date", () => {
    assertInvalid(
      () => createEvent("test.event", {}, { occurredAt: new Date(NaN) }),
      [{
        path: "options.occurredAt",
        message: "expected a valid Date, got an Invalid Date",
      }],
    );
  });
});

describe("createEvent: causedBy", () => {
  it("links a root parent: correlation and causation are its id", () => {
    const parent = createEvent("invite.created");
    const child = createEvent("invite.email_sent", {}, { causedBy: parent });
    assert.equal(child.causationId, parent.eventId);
    assert.equal(child.correlationId, parent.eventId);
  });

  it("inherits the correlation id of a parent that has one", () => {
    const root = createEvent("invite.created");
    const child = createEvent("invite.email_sent", {}, { causedBy: root });
    const grandchild = createEvent("invite.email_delivered", {}, {
      causedBy: child,
    });
    assert.equal(grandchild.correlationId, root.eventId);
    assert.equal(grandchild.causationId, child.eventId);
  });

  it("inherits an explicit correlation id (a request id) through a chain", () => {
    const root = createEvent("invite.created", {}, { correlationId: "req-42" });
    const child = createEvent("invite.email_sent", {}, { causedBy: root });
    const grandchild = createEvent("invite.email_delivered", {}, {
      causedBy: child,
    });
    assert.equal(child.correlationId, "req-42");
    assert.equal(grandchild.correlationId, "req-42");
    assert.equal(child.causationId, root.eventId);
    assert.equal(grandchild.causationId, child.eventId);
  });

  it("accepts a parent read back by parseEvent", () => {
    const parent = parseEvent(
      JSON.stringify(
        createEvent("invite.created", {}, { correlationId: "c-1" }),
      ),
    );
    const child = createEvent("invite.email_sent", {}, { causedBy: parent });
    assert.equal(child.causationId, parent.eventId);
    assert.equal(child.correlationId, "c-1");
  });

  it("accepts a frozen event this library did not build", () => {
    const parent: DomainEvent = Object.freeze({
      eventId: "f47ac10b-58cc-4372-a567-0e02b2c3d479",
      eventType: "external.event",
      occurredAt: "2024-01-01T00:00:00.000Z",
      correlationId: null,
      causationId: null,
      payload: Object.freeze({}),
      metadata: Object.freeze({}),
    });
    const child = createEvent("test.event", {}, { causedBy: parent });
    assert.equal(child.causationId, parent.eventId);
  });

  it("keeps metadata and the other options alongside causedBy", () => {
    const parent = createEvent("invite.created");
    const child = createEvent("invite.email_sent", {}, {
      causedBy: parent,
      metadata: { actor: "system" },
      occurredAt: "2024-01-01T00:00:00.000Z",
    });
    assert.deepEqual(child.metadata, { actor: "system" });
    assert.equal(child.occurredAt, "2024-01-01T00:00:00.000Z");
  });

  const both = "expected causedBy or correlationId/causationId, got both";
  const conflicting: [string, Record<string, unknown>][] = [
    ["an explicit correlationId", { correlationId: "req-1" }],
    ["an explicit causationId", { causationId: "evt-1" }],
    ["both ids", { correlationId: "req-1", causationId: "evt-1" }],
    ["an explicit null correlationId", { correlationId: null }],
    ["an explicit null causationId", { causationId: null }],
  ];
  for (const [name, extra] of conflicting) {
    it(`refuses causedBy with ${name}`, () => {
      const parent = createEvent("invite.created");
      assertInvalid(
        () =>
          createEvent(
            "test.event",
            {},
            options({ causedBy: parent, ...extra }),
          ),
        [{ path: "options.causedBy", message: both }],
      );
    });
  }

  const parent = createEvent("invite.created", { a: 1 });
  // [case, value, the paths of the issues]
  const notEvents: [string, unknown, string[]][] = [
    ["null", null, ["options.causedBy"]],
    ["a string", parent.eventId, ["options.causedBy"]],
    ["an array", [parent], ["options.causedBy"]],
    ["an empty object", {}, [
      "options.causedBy",
      ...FIELDS.map((field) => `options.causedBy.${field}`),
    ]],
    ["an unfrozen copy of an event", { ...parent }, ["options.causedBy"]],
    [
      "an event read with JSON.parse",
      JSON.parse(JSON.stringify(parent)),
      [
        "options.causedBy",
        "options.causedBy.payload",
        "options.causedBy.metadata",
      ],
    ],
    [
      "a frozen copy with a bad eventId",
      Object.freeze({ ...parent, eventId: "x" }),
      ["options.causedBy.eventId"],
    ],
    [
      "a frozen copy with a mutable payload",
      Object.freeze({ ...parent, payload: { a: 1 } }),
      ["options.causedBy.payload"],
    ],
  ];
  for (const [name, value, paths] of notEvents) {
    it(`refuses causedBy that is ${name}`, () => {
      assert.throws(
        () => createEvent("test.event", {}, options({ causedBy: value })),
        (error: unknown) => {
          assert.ok(error instanceof InvalidEventError);
          assert.deepEqual(error.issues.map((issue) => issue.path), paths);
          return true;
        },
      );
    });
  }

  it("says why causedBy is not an event", () => {
    assertInvalid(
      () => createEvent("test.event", {}, options({ causedBy: null })),
      [
        {
          path: "options.causedBy",
          message: "expected an event object, got null",
        },
      ],
    );
    assertInvalid(
      () => createEvent("test.event", {}, options({ causedBy: { ...parent } })),
      [
        {
          path: "options.causedBy",
          message: "expected a frozen event, got a mutable object",
        },
      ],
    );
    assertInvalid(
      () =>
        createEvent(
          "test.event",
          {},
          options({ causedBy: Object.freeze({ ...parent, eventId: "x" }) }),
        ),
      [{
        path: "options.causedBy.eventId",
        message: 'expected a UUID, got "x"',
      }],
    );
  });
});

describe("createEvent: options and metadata", () => {
  it("copies and freezes the metadata", () => {
    const metadata = { tenant: "acme", tags: ["a"] };
    const event = createEvent("test.event", {}, { metadata });
    assert.deepEqual(event.metadata, metadata);
    assert.notEqual(event.metadata, metadata);
    assert.ok(Object.isFrozen(event.metadata.tags));
    assert.equal(Object.isFrozen(metadata), false);
  });

  it("treats options given as undefined as absent", () => {
    const event = createEvent(
      "test.event",
      {},
      options({
        correlationId: undefined,
        causationId: undefined,
        eventId: undefined,
        occurredAt: undefined,
        metadata: undefined,
        causedBy: undefined,
      }),
    );
    assert.match(event.eventId, UUID_V4);
    assert.equal(event.correlationId, null);
    assert.deepEqual(event.metadata, {});
  });

  for (
    const [name, value, described] of [["null", null, "null"], [
      "a string",
      "req-1",
      '"req-1"',
    ], ["a number", 1, "1"]] as const
  ) {
    it(`refuses ${name} as the options`, () => {
      assertInvalid(
        () =>
          createEvent("test.event", {}, value as unknown as CreateEventOptions),
        [{ path: "options", message: `expected an object, got ${described}` }],
      );
    });
  }

  it("reports every envelope problem in the options at once", () => {
    assertInvalid(
      () =>
        createEvent(
          "test.event",
          {},
          options({
            correlationId: "",
            causationId: " ",
            eventId: "x",
            occurredAt: "2024-01-01",
          }),
        ),
      [
        { path: "options.correlationId", message: `${TRACE_MESSAGE}""` },
        { path: "options.causationId", message: `${TRACE_MESSAGE}" "` },
        { path: "options.eventId", message: 'expected a UUID, got "x"' },
        { path: "options.occurredAt", message: `${TIME_MESSAGE}"2024-01-01"` },
      ],
    );
  });

  it("checks the event type before anything else", () => {
    assertInvalid(
      () => createEvent("", { a: NaN }, options({ eventId: "x" })),
      [{ path: "eventType", message: `${TYPE_MESSAGE}""` }],
    );
  });
});
