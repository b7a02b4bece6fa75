// parseEvent: reading events back from JSON text or parsed values, which
// may be hostile. Whatever the input, the result is an event or an
// InvalidEventError.
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
  DomainEvent,
  EventIssue,
  JsonObject,
  JsonValue,
  StandardSchemaV1,
} from "../mod.ts";
import { assertDeepFrozen, assertInvalid, FIELDS, MIB } from "./_helpers.ts";

const event = createEvent("invite.created", {
  email: "ada@example.com",
  seats: [1, 2],
  extra: { a: null },
}, {
  correlationId: "req-1",
  causationId: "cmd-1",
  metadata: { tenant: "acme", trace: { sampled: true } },
});
const json = JSON.stringify(event);

/** The event as a mutable parsed object, with some fields replaced or removed. */
function parsed(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...JSON.parse(json), ...fields };
}

/** Asserts an InvalidEventError and returns its issues for more checks. */
function issuesOf(fn: () => unknown): readonly EventIssue[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidEventError, String(error));
    return error.issues;
  }
  return assert.fail("expected an InvalidEventError");
}

function nest(levels: number): JsonObject {
  let value: JsonObject = { a: 1 };
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

describe("parseEvent: round trip", () => {
  it("reads back what JSON.stringify wrote", () => {
    const copy = parseEvent(json);
    assert.deepEqual(copy, event);
    assert.notEqual(copy, event);
    assert.deepEqual(Object.keys(copy), FIELDS);
  });

  it("returns a frozen event at every level, that isDomainEvent accepts", () => {
    const copy = parseEvent(json);
    assertDeepFrozen(copy);
    assert.ok(isDomainEvent(copy));
  });

  it("reads an already parsed value", () => {
    assert.deepEqual(parseEvent(JSON.parse(json)), event);
  });

  it("reads an event, making a new one", () => {
    const copy = parseEvent(event);
    assert.deepEqual(copy, event);
    assert.notEqual(copy.payload, event.payload);
  });

  it("neither freezes nor keeps the parsed value it reads", () => {
    const value = JSON.parse(json);
    const copy = parseEvent(value);
    assert.equal(Object.isFrozen(value), false);
    assert.equal(Object.isFrozen(value.payload), false);
    value.payload.email = "changed";
    value.metadata.trace.sampled = false;
    assert.equal(copy.payload.email, "ada@example.com");
    assert.deepEqual(copy.metadata, {
      tenant: "acme",
      trace: { sampled: true },
    });
  });

  it("accepts null ids and pretty-printed JSON", () => {
    const root = createEvent("invite.created");
    assert.deepEqual(parseEvent(JSON.stringify(root, null, 2)), root);
  });

  it("stores an upper-case eventId in lower case", () => {
    const copy = parseEvent(parsed({ eventId: event.eventId.toUpperCase() }));
    assert.equal(copy.eventId, event.eventId);
  });

  it("ignores unknown top-level fields and does not copy them", () => {
    const copy = parseEvent(parsed({ extra: 1, version: "2", toJSON: "x" }));
    assert.deepEqual(Object.keys(copy), FIELDS);
    assert.equal("extra" in copy, false);
    assert.deepEqual(copy, event);
  });

  it("ignores a top-level __proto__ field without polluting anything", () => {
    const text = json.replace("{", '{"__proto__":{"polluted":true},');
    const copy = parseEvent(text);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal(
      (copy as unknown as Record<string, unknown>).polluted,
      undefined,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("accepts an input of exactly maxLength characters", () => {
    const base = JSON.stringify(createEvent("pad", { s: "" }));
    const padded = base.replace(
      '"s":""',
      `"s":"${"x".repeat(MIB - base.length)}"`,
    );
    assert.equal(padded.length, MIB);
    assert.equal(
      parseEvent(padded).payload.s?.toString().length,
      MIB - base.length,
    );
  });

  it("accepts exactly maxDepth levels", () => {
    assert.deepEqual(
      parseEvent(parsed({ payload: nest(64) })).payload,
      nest(64),
    );
    assert.deepEqual(
      parseEvent(parsed({ payload: nest(3) }), { maxDepth: 3 }).payload,
      nest(3),
    );
  });

  it("lets maxDepth be raised", () => {
    assert.deepEqual(
      parseEvent(parsed({ payload: nest(80) }), { maxDepth: 80 }).payload,
      nest(80),
    );
  });
});

describe("parseEvent: refused envelopes", () => {
  const messages: Record<string, string> = {
    eventId: "expected a UUID, got undefined",
    eventType:
      "expected 1-256 characters without whitespace or control characters, got undefined",
    occurredAt:
      "expected a timestamp in Date#toISOString() form, got undefined",
    correlationId:
      "expected null or 1-128 ASCII characters without whitespace or control characters, got undefined",
    causationId:
      "expected null or 1-128 ASCII characters without whitespace or control characters, got undefined",
    payload: "expected a plain object, got undefined",
    metadata: "expected a plain object, got undefined",
  };
  for (const field of FIELDS) {
    it(`names a missing ${field}`, () => {
      const value = parsed();
      delete value[field];
      assertInvalid(() => parseEvent(value), [{
        path: field,
        message: messages[field] ?? "",
      }]);
      assertInvalid(() => parseEvent(JSON.stringify(value)), [{
        path: field,
        message: messages[field] ?? "",
      }]);
    });
  }

  it("names every missing field of an empty object", () => {
    assert.deepEqual(
      issuesOf(() => parseEvent("{}")).map((issue) => issue.path),
      [...FIELDS],
    );
  });

  // [case, fields, path]
  const wrong: [string, Record<string, unknown>, string][] = [
    ["a numeric eventId", { eventId: 1 }, "eventId"],
    ["an eventId that is not a UUID", { eventId: "evt-1" }, "eventId"],
    ["an empty eventType", { eventType: "" }, "eventType"],
    ["a 257-character eventType", { eventType: "a".repeat(257) }, "eventType"],
    ["an eventType with a newline", { eventType: "a\nb" }, "eventType"],
    ["a date-only occurredAt", { occurredAt: "2024-01-01" }, "occurredAt"],
    ["a numeric occurredAt", { occurredAt: 1704067200000 }, "occurredAt"],
    [
      "an occurredAt of February 30",
      { occurredAt: "2024-02-30T00:00:00.000Z" },
      "occurredAt",
    ],
    ["an empty correlationId", { correlationId: "" }, "correlationId"],
    [
      "a 129-character causationId",
      { causationId: "a".repeat(129) },
      "causationId",
    ],
    ["a non-ASCII correlationId", { correlationId: "req-é" }, "correlationId"],
    ["a numeric causationId", { causationId: 7 }, "causationId"],
    ["an array payload", { payload: [] }, "payload"],
    ["a null payload", { payload: null }, "payload"],
    ["a string metadata", { metadata: "{}" }, "metadata"],
    ["a NaN in a parsed payload", { payload: { n: NaN } }, "payload.n"],
    [
      "a Date in a parsed payload",
      { payload: { at: new Date(0) } },
      "payload.at",
    ],
    [
      "undefined in a parsed array",
      { metadata: { list: [undefined] } },
      "metadata.list[0]",
    ],
  ];
  for (const [name, fields, path] of wrong) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(
        issuesOf(() => parseEvent(parsed(fields))).map((issue) => issue.path),
        [path],
      );
    });
  }

  it("reports every problem at once", () => {
    const issues = issuesOf(() =>
      parseEvent(parsed({ eventId: "x", occurredAt: "y", payload: { a: NaN } }))
    );
    assert.deepEqual(issues.map((issue) => issue.path), [
      "eventId",
      "occurredAt",
      "payload.a",
    ]);
  });

  const notObjects: [string, unknown, string][] = [
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
    ["a number", 42, "42"],
    ["an array", [event], "Array"],
    ["a function", () => event, "a function"],
  ];
  for (const [name, value, described] of notObjects) {
    it(`refuses ${name}`, () => {
      assertInvalid(() => parseEvent(value), [{
        path: "",
        message: `expected an event object, got ${described}`,
      }]);
    });
  }

  const notObjectJson: [string, string][] = [
    ["null", "null"],
    ["a number", "42"],
    ["a JSON string", '"text"'],
    ["an array", "[]"],
    ["true", "true"],
  ];
  for (const [name, text] of notObjectJson) {
    it(`refuses JSON that is ${name}`, () => {
      assertInvalid(() => parseEvent(text), [{
        path: "",
        message: `expected an event object, got ${
          name === "an array" ? "Array" : text
        }`,
      }]);
    });
  }
});

describe("parseEvent: malformed and hostile input", () => {
  const malformed = [
    "",
    " ",
    "{",
    "not json",
    "{'a':1}",
    '{"a":1,}',
    "[1,]",
    "undefined",
    "NaN",
    '{"a":1}x',
    "\u0000",
  ];
  for (const text of malformed) {
    it(`refuses malformed JSON ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseEvent(text), (error: unknown) => {
        assert.ok(error instanceof InvalidEventError);
        assert.equal(error.issues.length, 1);
        assert.equal(error.issues[0]?.path, "");
        assert.match(
          error.issues[0]?.message ?? "",
          /^expected JSON, got text that does not parse \(.+\)$/,
        );
        assert.ok(error.cause instanceof SyntaxError);
        return true;
      });
    });
  }

  it("refuses input longer than 1 MiB by default, before parsing it", () => {
    const text = " ".repeat(MIB - json.length + 1) + json;
    assertInvalid(() => parseEvent(text), [{
      path: "",
      message: `expected at most ${MIB} characters of JSON, got ${MIB + 1}`,
    }]);
  });

  it("takes a custom maxLength", () => {
    assertInvalid(() => parseEvent(json, { maxLength: 100 }), [{
      path: "",
      message: `expected at most 100 characters of JSON, got ${json.length}`,
    }]);
    assert.deepEqual(parseEvent(json, { maxLength: json.length }), event);
  });

  it("refuses rather than reads without limits when a limit is NaN", () => {
    assert.throws(
      () => parseEvent(json, { maxLength: NaN }),
      InvalidEventError,
    );
    assert.throws(
      () => parseEvent(parsed(), { maxLength: NaN }),
      InvalidEventError,
    );
    assert.throws(() => parseEvent(json, { maxDepth: NaN }), InvalidEventError);
  });

  it("applies maxLength to an already parsed value, counting its strings and keys", () => {
    const value = parsed({ payload: { big: "x".repeat(200) } });
    assertInvalid(() => parseEvent(value, { maxLength: 100 }), [{
      path: "payload.big",
      message: "expected at most 100 characters of JSON, got more",
    }]);
    const keys = parsed({ metadata: { ["k".repeat(200)]: 1 } });
    assert.deepEqual(
      issuesOf(() => parseEvent(keys, { maxLength: 100 })).map((issue) =>
        issue.path
      ),
      [
        `metadata.${"k".repeat(200)}`,
      ],
    );
    assert.deepEqual(parseEvent(parsed(), { maxLength: 1000 }), event);
  });

  it("refuses a payload deeper than 64 levels by default", () => {
    assertInvalid(() => parseEvent(parsed({ payload: nest(65) })), [{
      path: "payload" + ".a".repeat(64),
      message: "expected at most 64 levels of nesting, got more",
    }]);
  });

  it("takes a custom maxDepth, for payload and metadata", () => {
    assertInvalid(
      () =>
        parseEvent(parsed({ payload: nest(3), metadata: nest(4) }), {
          maxDepth: 2,
        }),
      [
        {
          path: "payload.a.a",
          message: "expected at most 2 levels of nesting, got more",
        },
        {
          path: "metadata.a.a",
          message: "expected at most 2 levels of nesting, got more",
        },
      ],
    );
  });

  it('ends 100,000 unclosed "[" in an InvalidEventError', () => {
    assert.throws(() => parseEvent("[".repeat(1e5)), InvalidEventError);
  });

  it("ends 100,000 nested arrays in an InvalidEventError", () => {
    assert.throws(
      () => parseEvent("[".repeat(1e5) + "]".repeat(1e5)),
      InvalidEventError,
    );
  });

  it('ends 100,000 nested {"a": in an InvalidEventError', () => {
    assert.throws(
      () => parseEvent('{"a":'.repeat(1e5) + "1" + "}".repeat(1e5)),
      InvalidEventError,
    );
    assert.throws(() => parseEvent('{"a":'.repeat(1e5)), InvalidEventError);
  });

  it("ends a payload nested 100,000 deep in an InvalidEventError", () => {
    const text = json.replace(
      /"payload":\{.*?\}\},"metadata"/,
      `"payload":${'{"a":'.repeat(1e5)}1${"}".repeat(1e5)},"metadata"`,
    );
    assert.ok(text.length > 5e5);
    assert.throws(() => parseEvent(text), (error: unknown) => {
      assert.ok(error instanceof InvalidEventError);
      return true;
    });
  });

  it("ends a parsed value nested 100,000 deep at the depth limit, without a stack overflow", () => {
    let deep: JsonValue = 1;
    for (let i = 0; i < 1e5; i++) deep = { a: deep };
    assertInvalid(() => parseEvent(parsed({ payload: deep })), [{
      path: "payload" + ".a".repeat(64),
      message: "expected at most 64 levels of nesting, got more",
    }]);
  });

  for (const field of ["payload", "metadata"]) {
    it(`refuses __proto__ in the ${field}, leaving Object.prototype untouched`, () => {
      const text = json.replace(
        `"${field}":{`,
        `"${field}":{"__proto__":{"isAdmin":true},`,
      );
      assertInvalid(() => parseEvent(text), [{
        path: `${field}.__proto__`,
        message: 'expected any key but "__proto__", got "__proto__"',
      }]);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
      assert.equal(
        Object.prototype.hasOwnProperty.call(Object.prototype, "isAdmin"),
        false,
      );
    });
  }

  for (
    const [name, member, path, message] of [
      [
        "a flat __proto__ key",
        '"__proto__":1',
        "__proto__",
        'expected any key but "__proto__", got "__proto__"',
      ],
      [
        "a number JSON.parse reads as Infinity",
        '"big":1e999',
        "big",
        "expected a finite number, got Infinity",
      ],
    ] as const
  ) {
    it(`refuses ${name} in a flat payload of JSON text`, () => {
      const flat = JSON.stringify(createEvent("a", { email: "ada@x.org" }));
      const text = flat.replace('"payload":{', `"payload":{${member},`);
      assertInvalid(() => parseEvent(text), [{
        path: `payload.${path}`,
        message,
      }]);
    });
  }

  it("refuses a nested __proto__ in a parsed value", () => {
    const value = parsed({
      payload: JSON.parse('{"list":[{"__proto__":{"x":1}}]}'),
    });
    assertInvalid(() => parseEvent(value), [{
      path: "payload.list[0].__proto__",
      message: 'expected any key but "__proto__", got "__proto__"',
    }]);
  });

  it("refuses a value whose getters throw", () => {
    const hostile = new Proxy({}, {
      get() {
        throw new Error("trap");
      },
    });
    assertInvalid(() => parseEvent(hostile), [{
      path: "",
      message: "expected a readable value, got a throw: trap",
    }]);
  });

  it("refuses a payload whose getter throws, naming the path", () => {
    const payload = {
      get secret(): string {
        throw new Error("denied");
      },
    };
    assertInvalid(() => parseEvent(parsed({ payload })), [{
      path: "payload.secret",
      message: "expected a readable value, got a throw: denied",
    }]);
  });

  it("reads each field once", () => {
    const reads: Record<string, number> = {};
    const value = new Proxy(parsed(), {
      get(target, key, receiver) {
        reads[String(key)] = (reads[String(key)] ?? 0) + 1;
        return Reflect.get(target, key, receiver);
      },
    });
    parseEvent(value);
    for (const field of FIELDS) assert.equal(reads[field], 1, field);
  });
});

describe("parseEvent: with a definition", () => {
  type Invite = { email: string };
  const lowerCase: StandardSchemaV1<Invite, Invite> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) =>
        typeof (value as Partial<Invite>)?.email === "string"
          ? { value: { email: (value as Invite).email.toLowerCase() } }
          : { issues: [{ message: "Expected a string", path: ["email"] }] },
    },
  };
  const InviteCreated = defineEvent("invite.created", { schema: lowerCase });

  it("returns the typed event when type and payload match", () => {
    const original = InviteCreated.create({ email: "ada@example.com" }, {
      correlationId: "req-1",
    });
    const copy = parseEvent(JSON.stringify(original), {
      definition: InviteCreated,
    });
    assert.deepEqual(copy, original);
    const email: string = copy.payload.email;
    assert.equal(email, "ada@example.com");
    assert.ok(InviteCreated.is(copy));
    assertDeepFrozen(copy);
  });

  it("keeps the envelope: id, time, correlation, causation and metadata", () => {
    const copy = parseEvent(json, {
      definition: defineEvent("invite.created"),
    });
    assert.deepEqual(copy, event);
  });

  it("uses the schema's output as the payload", () => {
    const text = JSON.stringify(
      createEvent("invite.created", { email: "ADA@EXAMPLE.COM" }),
    );
    assert.equal(
      parseEvent(text, { definition: InviteCreated }).payload.email,
      "ada@example.com",
    );
  });

  it("refuses another event type", () => {
    const text = JSON.stringify(
      createEvent("invite.accepted", { email: "ada@example.com" }),
    );
    assertInvalid(() => parseEvent(text, { definition: InviteCreated }), [{
      path: "eventType",
      message: 'expected "invite.created", got "invite.accepted"',
    }]);
  });

  it("refuses a payload the schema refuses, naming the path", () => {
    const text = JSON.stringify(createEvent("invite.created", { email: 42 }));
    assertInvalid(() => parseEvent(text, { definition: InviteCreated }), [{
      path: "payload.email",
      message: "Expected a string",
    }]);
  });

  it("checks the envelope before the definition", () => {
    assert.deepEqual(
      issuesOf(() =>
        parseEvent(parsed({ eventId: "x" }), { definition: InviteCreated })
      ).map((issue) => issue.path),
      ["eventId"],
    );
  });

  it("infers the result type from the definition", () => {
    const copy: DomainEvent<"invite.created", Invite> = parseEvent(
      JSON.stringify(InviteCreated.create({ email: "a@b.c" })),
      { definition: InviteCreated },
    );
    assert.equal(copy.eventType, "invite.created");
  });
});
