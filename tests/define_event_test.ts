// defineEvent: type guards and Standard Schema objects (hand-written here;
// zod and valibot are in schema_libraries_test.ts), .type, .create and .is.
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
  DefineEventOptions,
  JsonObject,
  StandardSchemaV1,
  StandardSchemaV1Issue,
  StandardSchemaV1Result,
} from "../mod.ts";
import { assertInvalid } from "./_helpers.ts";

const TYPE_MESSAGE =
  "expected 1-256 characters without whitespace or control characters, got ";

type Invite = { email: string };

function isInvite(value: unknown): value is Invite {
  return typeof value === "object" && value !== null &&
    typeof (value as { email?: unknown }).email === "string";
}

/** A hand-written synchronous Standard Schema that lower-cases the email. */
const inviteSchema: StandardSchemaV1<{ email: string }, Invite> = {
  "~standard": {
    version: 1,
    vendor: "hand-written",
    validate(value): StandardSchemaV1Result<Invite> {
      if (!isInvite(value)) {
        return { issues: [{ message: "Expected an email", path: ["email"] }] };
      }
      return { value: { email: value.email.toLowerCase() } };
    },
  },
};

/** A Standard Schema that returns whatever `validate` says. */
function schemaReturning(
  validate: (value: unknown) => unknown,
): StandardSchemaV1<unknown, JsonObject> {
  return {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: validate as StandardSchemaV1<
        unknown,
        JsonObject
      >["~standard"]["validate"],
    },
  };
}

function failing(
  ...issues: StandardSchemaV1Issue[]
): StandardSchemaV1<unknown, JsonObject> {
  return schemaReturning(() => ({ issues }));
}

describe("defineEvent: the definition", () => {
  it("keeps the type", () => {
    const InviteCreated = defineEvent("invite.created");
    assert.equal(InviteCreated.type, "invite.created");
  });

  it("is frozen", () => {
    const InviteCreated = defineEvent("invite.created", { schema: isInvite });
    assert.ok(Object.isFrozen(InviteCreated));
    assert.throws(() => {
      (InviteCreated as { type: string }).type = "other";
    }, TypeError);
  });

  it("has functions that work unbound", () => {
    const { create, is, type } = defineEvent("invite.created", {
      schema: inviteSchema,
    });
    const event = create({ email: "ADA@example.com" });
    assert.equal(event.eventType, type);
    assert.equal(event.payload.email, "ada@example.com");
    assert.equal(is(event), true);
    assert.equal([event].every(is), true);
  });

  const badTypes: [string, unknown, string][] = [
    ["empty", "", '""'],
    ["257 characters", "a".repeat(257), `"${"a".repeat(40)}"…`],
    ["whitespace", "invite created", '"invite created"'],
    ["a control character", "invite\u0000", '"invite\\u0000"'],
    ["not a string", 42, "42"],
  ];
  for (const [name, type, described] of badTypes) {
    it(`refuses a type that is ${name}`, () => {
      assertInvalid(() => defineEvent(type as string), [{
        path: "type",
        message: TYPE_MESSAGE + described,
      }]);
    });
  }

  const badSchemas: [string, unknown, string][] = [
    ["a number", 42, "42"],
    ["a string", "email", '"email"'],
    ["null", null, "null"],
    ["an object without ~standard", { parse: () => ({}) }, "an object"],
    ["a Standard Schema of version 2", {
      "~standard": { version: 2, vendor: "x", validate: () => ({ value: {} }) },
    }, "an object"],
    ["a Standard Schema without validate", {
      "~standard": { version: 1, vendor: "x" },
    }, "an object"],
    ["a ~standard that is not an object", { "~standard": true }, "an object"],
  ];
  for (const [name, schema, described] of badSchemas) {
    it(`refuses a schema that is ${name}`, () => {
      assertInvalid(
        () =>
          defineEvent(
            "invite.created",
            { schema } as unknown as DefineEventOptions<JsonObject>,
          ),
        [{
          path: "options.schema",
          message:
            `expected a type guard or a Standard Schema v1, got ${described}`,
        }],
      );
    });
  }

  it("treats an absent schema as no validation", () => {
    const Any = defineEvent("anything", {} as DefineEventOptions<JsonObject>);
    assert.deepEqual(Any.create({ x: [1] }).payload, { x: [1] });
  });
});

describe("defineEvent: a type-guard schema", () => {
  const InviteCreated = defineEvent("invite.created", { schema: isInvite });

  it("creates an event when the guard accepts the payload", () => {
    const event = InviteCreated.create({ email: "ada@example.com" });
    assert.equal(event.eventType, "invite.created");
    assert.deepEqual(event.payload, { email: "ada@example.com" });
    assert.ok(isDomainEvent(event));
  });

  it("refuses a payload the guard rejects", () => {
    assertInvalid(
      () => InviteCreated.create({ email: 42 } as unknown as Invite),
      [{
        path: "payload",
        message:
          'expected a payload the "invite.created" schema accepts, got an object',
      }],
    );
  });

  it("still checks that the payload is JSON data", () => {
    const Loose = defineEvent("loose", {
      schema: (_value: unknown): _value is JsonObject => true,
    });
    assertInvalid(
      () => Loose.create({ at: new Date(0) } as unknown as JsonObject),
      [{ path: "payload.at", message: "expected a plain object, got Date" }],
    );
  });

  it("passes create's options through", () => {
    const parent = createEvent("invite.requested");
    const event = InviteCreated.create({ email: "a@b.c" }, {
      causedBy: parent,
      metadata: { actor: "x" },
    });
    assert.equal(event.causationId, parent.eventId);
    assert.deepEqual(event.metadata, { actor: "x" });
  });

  it("turns a guard that throws into an InvalidEventError with the cause", () => {
    const boom = new Error("boom");
    const Throwing = defineEvent("throwing", {
      schema: (_value: unknown): _value is JsonObject => {
        throw boom;
      },
    });
    assert.throws(() => Throwing.create({}), (error: unknown) => {
      assert.ok(error instanceof InvalidEventError);
      assert.deepEqual(error.issues, [{
        path: "payload",
        message: 'expected the "throwing" schema to return, got a throw: boom',
      }]);
      assert.equal(error.cause, boom);
      return true;
    });
  });

  it("describes a thrown value that is not an Error", () => {
    const Throwing = defineEvent("throwing", {
      schema: (_value: unknown): _value is JsonObject => {
        throw "nope";
      },
    });
    assertInvalid(() => Throwing.create({}), [{
      path: "payload",
      message: 'expected the "throwing" schema to return, got a throw: "nope"',
    }]);
  });
});

describe("defineEvent: a Standard Schema", () => {
  const InviteCreated = defineEvent("invite.created", { schema: inviteSchema });

  it("uses the schema's output as the payload", () => {
    const event = InviteCreated.create({ email: "ADA@Example.com" });
    assert.deepEqual(event.payload, { email: "ada@example.com" });
  });

  it("maps the schema's issues to paths under payload", () => {
    assertInvalid(
      () => InviteCreated.create({ email: 42 } as unknown as Invite),
      [{ path: "payload.email", message: "Expected an email" }],
    );
  });

  // [case, issue path, formatted path]
  const paths: [string, StandardSchemaV1Issue["path"], string][] = [
    ["no path", undefined, "payload"],
    ["an empty path", [], "payload"],
    ["keys", ["a", "b"], "payload.a.b"],
    ["an index", ["items", 2, "price"], "payload.items[2].price"],
    [
      "path segments",
      [{ key: "items" }, { key: 0 }, { key: "price" }],
      "payload.items[0].price",
    ],
    [
      "a key that is not an identifier",
      ["a b", "c-d"],
      'payload["a b"]["c-d"]',
    ],
    ["a symbol key", [Symbol("s")], 'payload["Symbol(s)"]'],
  ];
  for (const [name, path, formatted] of paths) {
    it(`formats an issue with ${name} as ${formatted}`, () => {
      const Def = defineEvent("test.event", {
        schema: failing({ message: "bad", path }),
      });
      assertInvalid(() => Def.create({}), [{
        path: formatted,
        message: "bad",
      }]);
    });
  }

  it("reports every issue", () => {
    const Def = defineEvent("test.event", {
      schema: failing({ message: "Required", path: ["a"] }, {
        message: "Too short",
        path: ["b", 0],
      }),
    });
    assert.throws(() => Def.create({}), {
      name: "InvalidEventError",
      message: "payload.a: Required; payload.b[0]: Too short",
    });
  });

  it("refuses with a message of its own when the schema fails without issues", () => {
    const Def = defineEvent("test.event", { schema: failing() });
    assertInvalid(() => Def.create({}), [{
      path: "payload",
      message:
        'expected a payload the "test.event" schema accepts, got an object',
    }]);
  });

  it("checks the schema's output as JSON data", () => {
    const Def = defineEvent("test.event", {
      schema: schemaReturning(() => ({ value: { at: new Date(0) } })),
    });
    assertInvalid(() => Def.create({}), [{
      path: "payload.at",
      message: "expected a plain object, got Date",
    }]);
    const NotObject = defineEvent("test.event", {
      schema: schemaReturning(() => ({ value: "text" })),
    });
    assertInvalid(() => NotObject.create({}), [{
      path: "payload",
      message: 'expected a plain object, got "text"',
    }]);
  });

  it("neither freezes nor aliases what the schema returns", () => {
    const output = { list: [1] };
    const Def = defineEvent("test.event", {
      schema: schemaReturning(() => ({ value: output })),
    });
    const event = Def.create({});
    assert.equal(Object.isFrozen(output), false);
    output.list.push(2);
    assert.deepEqual(event.payload, { list: [1] });
  });

  it("calls validate as a method of ~standard", () => {
    const props = {
      version: 1 as const,
      vendor: "this",
      accepted: { ok: true },
      validate(this: { accepted: JsonObject }, _value: unknown) {
        return { value: this.accepted };
      },
    };
    const Def = defineEvent("test.event", { schema: { "~standard": props } });
    assert.deepEqual(Def.create({}).payload, { ok: true });
  });

  it("turns a validate that throws into an InvalidEventError", () => {
    const Def = defineEvent("test.event", {
      schema: schemaReturning(() => {
        throw new TypeError("broken schema");
      }),
    });
    assertInvalid(() => Def.create({}), [{
      path: "payload",
      message:
        'expected the "test.event" schema to return, got a throw: broken schema',
    }]);
  });
});

describe("defineEvent: an async Standard Schema", () => {
  const message =
    'expected the "async.event" schema to validate synchronously, got a Promise';

  it("is refused with an InvalidEventError", () => {
    const Def = defineEvent("async.event", {
      schema: schemaReturning((value) => Promise.resolve({ value })),
    });
    assertInvalid(() => Def.create({}), [{ path: "payload", message }]);
  });

  it("does not leave its rejection unhandled", async () => {
    let handled = false;
    const Def = defineEvent("async.event", {
      schema: schemaReturning(() => {
        const promise = Promise.reject(new Error("async failure"));
        const then = promise.then.bind(promise);
        // Promise#catch calls this.then: seeing the call proves a handler was attached.
        Object.defineProperty(promise, "then", {
          value: (...args: Parameters<typeof then>) => {
            handled = true;
            return then(...args);
          },
        });
        return promise;
      }),
    });
    assertInvalid(() => Def.create({}), [{ path: "payload", message }]);
    assert.equal(handled, true);
    // Let an unhandled rejection, if any, surface and fail this test.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("makes .is answer false", () => {
    const Def = defineEvent("async.event", {
      schema: schemaReturning((value) => Promise.resolve({ value })),
    });
    assert.equal(Def.is(createEvent("async.event")), false);
  });
  it("refuses a thenable that is not a Promise", () => {
    let settled = false;
    const Def = defineEvent("async.event", {
      schema: schemaReturning(() => ({
        then(resolve: (value: unknown) => void) {
          settled = true;
          resolve({ value: {} });
        },
      })),
    });
    assertInvalid(() => Def.create({ a: 1 }), [{ path: "payload", message }]);
    assert.equal(Def.is(createEvent("async.event")), false);
    assert.equal(settled, false); // nothing ran it synchronously as a result
  });
});

describe("defineEvent: a Standard Schema that breaks its contract", () => {
  for (
    const [name, result, found] of [
      ["null", null, "null"],
      ["a string", "ok", '"ok"'],
      ["undefined", undefined, "undefined"],
    ] as const
  ) {
    it(`refuses a validate that returns ${name}`, () => {
      const Def = defineEvent("broken.schema", {
        schema: schemaReturning(() => result),
      });
      assertInvalid(() => Def.create({}), [{
        path: "payload",
        message:
          `expected the "broken.schema" schema to return a result, got ${found}`,
      }]);
    });
  }
});

describe("defineEvent: a callable Standard Schema (as arktype's are)", () => {
  // Called directly, it returns a truthy error object, as arktype's Type does:
  // treating it as a type guard would accept every payload.
  const callable = Object.assign(() => ({ errors: ["always truthy"] }), {
    "~standard": inviteSchema["~standard"],
  }) as unknown as StandardSchemaV1<{ email: string }, Invite>;
  const Def = defineEvent("callable.schema", { schema: callable });

  it("validates through ~standard, not by being called", () => {
    assert.equal(
      Def.create({ email: "ADA@example.com" }).payload.email,
      "ada@example.com",
    );
    assertInvalid(
      () => Def.create({ email: 42 } as unknown as Invite),
      [{ path: "payload.email", message: "Expected an email" }],
    );
  });

  it("makes .is answer from ~standard", () => {
    const wrong = createEvent("callable.schema", { email: 42 });
    assert.equal(Def.is(wrong), false);
  });
});

describe("defineEvent: a schema with defaults", () => {
  const withDefault: StandardSchemaV1<{ seats?: number }, { seats: number }> = {
    "~standard": {
      version: 1,
      vendor: "hand-written",
      validate(value) {
        const seats = (value as { seats?: unknown }).seats ?? 1;
        return typeof seats === "number"
          ? { value: { seats } }
          : { issues: [{ message: "Expected a number", path: ["seats"] }] };
      },
    },
  };
  const SeatsChanged = defineEvent("seats.changed", { schema: withDefault });

  it("stores the filled-in output, which .is and parseEvent accept again", () => {
    const event = SeatsChanged.create({} as { seats: number });
    assert.deepEqual(event.payload, { seats: 1 });
    assert.equal(SeatsChanged.is(event), true);
    const copy = parseEvent(JSON.stringify(event), {
      definition: SeatsChanged,
    });
    assert.deepEqual(copy, event);
  });
});

describe("defineEvent: .is", () => {
  const InviteCreated = defineEvent("invite.created", { schema: inviteSchema });
  const event = InviteCreated.create({ email: "ada@example.com" });

  const trueCases: [string, unknown][] = [
    ["an event it created", event],
    [
      "the same event read back by parseEvent",
      parseEvent(JSON.stringify(event)),
    ],
    [
      "an event of its type made by createEvent",
      createEvent("invite.created", { email: "x@y.z" }),
    ],
    [
      "a frozen event this library did not build",
      Object.freeze({ ...event, payload: Object.freeze({ email: "a@b.c" }) }),
    ],
  ];
  for (const [name, value] of trueCases) {
    it(`is true for ${name}`, () => {
      assert.equal(InviteCreated.is(value), true);
    });
  }

  const throwing = new Proxy(Object.freeze({ ...event }), {
    get() {
      throw new Error("trap");
    },
  });
  let reads = 0;
  // Looks like a valid event on the first read of each field, then throws.
  const flaky = new Proxy(event, {
    get(target, key, receiver) {
      if (key === "eventType" && ++reads > 1) throw new Error("second read");
      return Reflect.get(target, key, receiver);
    },
  });

  const falseCases: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["a string", "invite.created"],
    ["an array", [event]],
    [
      "an event of another type",
      createEvent("invite.accepted", { email: "x@y.z" }),
    ],
    [
      "an event whose payload the schema refuses",
      createEvent("invite.created", { email: 42 }),
    ],
    ["an unfrozen copy", { ...event }],
    ["a parsed but not revived event", JSON.parse(JSON.stringify(event))],
    ["a Proxy whose getters throw", throwing],
    ["a Proxy that throws on a second read", flaky],
  ];
  for (const [name, value] of falseCases) {
    it(`is false for ${name}`, () => {
      assert.equal(InviteCreated.is(value), false);
    });
  }

  it("is false when the guard schema throws, rather than throwing", () => {
    const Def = defineEvent("test.event", {
      schema: (_value: unknown): _value is JsonObject => {
        throw new Error("boom");
      },
    });
    assert.equal(Def.is(createEvent("test.event")), false);
  });

  it("without a schema, checks the envelope and the type only", () => {
    const Untyped = defineEvent<"invite.created", JsonObject>("invite.created");
    assert.equal(
      Untyped.is(createEvent("invite.created", { anything: [1] })),
      true,
    );
    assert.equal(Untyped.is(createEvent("invite.accepted")), false);
  });
});
