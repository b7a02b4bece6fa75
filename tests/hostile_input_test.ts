// Issue #11: the defects a hostile-input review found in creating and reading
// events, each pinned by the input that showed it. Every test here failed on
// the code before the fix: with a raw engine error, a wrong event, or a hang.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../cloudevents.ts";
import type {
  CreateEventOptions,
  JsonObject,
  JsonValue,
  StandardSchemaV1,
} from "../mod.ts";
import { assertInvalid, UNINSPECTABLE } from "./_helpers.ts";

/** Asserts one InvalidEventError at `path` whose message matches `message`. */
function assertInvalidAt(
  fn: () => unknown,
  path: string | RegExp,
  message: RegExp,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidEventError, String(error));
    assert.equal(error.issues.length, 1, error.message);
    if (typeof path == "string") assert.equal(error.issues[0]?.path, path);
    else assert.match(error.issues[0]?.path ?? "", path);
    assert.match(error.issues[0]?.message ?? "", message);
    return true;
  });
}

const sample = createEvent("order.placed", { orderId: "o-1" }, {
  metadata: { tenant: "acme" },
});

/** The sample event as a fresh parsed object, its payload replaced. */
function parsedWith(payload: unknown): Record<string, unknown> {
  return { ...JSON.parse(JSON.stringify(sample)), payload };
}

/** An object whose every trap throws once `armed` is set. */
function throwingProxy<T extends object>(target: T): T {
  return new Proxy(target, {
    get() {
      throw new Error("trap");
    },
  });
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const AT = "2024-01-02T03:04:05.006Z";

describe("#11.1 occurredAt: a Date is read with the intrinsic Date methods", () => {
  it("ignores an overridden toISOString", () => {
    for (const lie of [() => "yesterday", () => ({}), () => AT + " "]) {
      const date = Object.assign(new Date(AT), { toISOString: lie });
      const event = createEvent("a", {}, { occurredAt: date });
      assert.equal(event.occurredAt, AT);
      assert.ok(isDomainEvent(event));
      assert.deepEqual(parseEvent(JSON.stringify(event)), event);
    }
  });

  it("ignores a subclass's getTime, valueOf and toISOString", () => {
    class Lying extends Date {
      override getTime(): number {
        return 0;
      }
      override valueOf(): number {
        return NaN;
      }
      override toISOString(): string {
        return "never";
      }
    }
    const event = createEvent("a", {}, { occurredAt: new Lying(AT) });
    assert.equal(event.occurredAt, AT);
  });

  it("refuses an Invalid Date whose valueOf lies", () => {
    const date = Object.assign(new Date(NaN), { valueOf: () => 0 });
    assertInvalid(() => createEvent("a", {}, { occurredAt: date }), [{
      path: "options.occurredAt",
      message: "expected a valid Date, got an Invalid Date",
    }]);
  });

  it("refuses objects that only look like Dates", () => {
    const fakes: unknown[] = [
      Object.create(Date.prototype),
      new Proxy(new Date(AT), {}),
      { toISOString: () => AT },
      [],
    ];
    for (const occurredAt of fakes) {
      for (
        const create of [
          (options: CreateEventOptions) => createEvent("a", {}, options),
          (options: CreateEventOptions) => defineEvent("a").create({}, options),
        ]
      ) {
        assertInvalid(() => create({ occurredAt: occurredAt as Date }), [{
          path: "options.occurredAt",
          message: "expected a valid Date, got an object that is not a Date",
        }]);
      }
    }
  });
});

describe("#11.2 the length limit counts JSON text, as JSON.stringify writes it", () => {
  it("refuses 90 million control characters (540 million characters of JSON) at the default limit, and under a higher maxLength", () => {
    const s = "\u0001".repeat(90_000_000);
    assertInvalidAt(
      () => createEvent("a", { s }),
      "payload.s",
      /^expected at most 268369920 characters of JSON, got more$/,
    );
    assertInvalidAt(
      () => parseEvent(parsedWith({ s }), { maxLength: 2 ** 30 }),
      "payload.s",
      /^expected at most 268369920 characters of JSON, got more$/,
    );
  });

  it("counts escaped quotes, backslashes and control characters, long numbers and literals", () => {
    const cases: [string, JsonValue][] = [
      ["quotes", '"'.repeat(600)],
      ["backslashes", "\\".repeat(600)],
      ["newlines", "\n".repeat(600)],
      ["control characters", "\u0001".repeat(200)],
      ["lone surrogates", "\ud800".repeat(200)],
      ["long numbers", Array(50).fill(-1.2345678901234567e-7)],
      ["false", Array(200).fill(false)],
      ["null", Array(250).fill(null)],
    ];
    for (const [name, value] of cases) {
      // Under 1,000 characters by length, over it once written as JSON.
      const payload = { value };
      assert.ok(JSON.stringify(payload).length > 1000, name);
      assertInvalidAt(
        () => parseEvent(parsedWith(payload), { maxLength: 1000 }),
        Array.isArray(value) ? /^payload\.value\[\d+\]$/ : "payload.value",
        /^expected at most 1000 characters of JSON, got more$/,
      );
    }
  });

  it("counts exactly: a payload of n characters of JSON passes a limit of n and not n - 1", () => {
    const payload: JsonObject = {
      text:
        'a "quoted" \\ back\nslash\ttab\u0001\u001f\u007f é 😀 \ud800 \udfff',
      [`key "with" \n escapes \u0000`]: 1,
      numbers: [
        0,
        -0,
        1.5,
        -1e-7,
        1e21,
        123456789012,
        5e-324,
        -1.7976931348623157e308,
      ],
      literals: [true, false, null],
      empty: { object: {}, array: [] },
      dropped: undefined,
      nested: [[[{ a: [{}] }]]],
    };
    const length = JSON.stringify(payload).length;
    const event = parseEvent(parsedWith(payload), { maxLength: length });
    assert.deepEqual(
      JSON.parse(JSON.stringify(event.payload)),
      JSON.parse(JSON.stringify(payload)),
    );
    assert.throws(
      () => parseEvent(parsedWith(payload), { maxLength: length - 1 }),
      InvalidEventError,
    );
    // The same through a CloudEvent's data.
    const cloudEvent = {
      ...JSON.parse(JSON.stringify(toCloudEvent(sample, { source: "/x" }))),
      data: payload,
    };
    assert.deepEqual(
      fromCloudEvent(cloudEvent, {
        maxLength: JSON.stringify(cloudEvent).length,
      }).payload,
      event.payload,
    );
  });

  it("counts a shared subtree's escapes each time it is met", () => {
    const shared = { s: '"'.repeat(10) };
    const payload = { list: Array(200).fill(shared) };
    const length = JSON.stringify(payload).length;
    assert.ok(parseEvent(parsedWith(payload), { maxLength: length }));
    assert.throws(
      () => parseEvent(parsedWith(payload), { maxLength: length - 1 }),
      InvalidEventError,
    );
  });
});

describe("#11.4 the schema checks the payload that is stored", () => {
  const isContact = (value: unknown): value is { email: string } =>
    typeof (value as { email?: unknown }).email === "string";
  const standard: StandardSchemaV1<{ email: string }> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) =>
        isContact(value)
          ? { value }
          : { issues: [{ message: "Expected an email", path: ["email"] }] },
    },
  };

  /** A payload whose `email` reads "a@b.c" once, then 42. */
  function twoFaced(): { email: string } {
    let reads = 0;
    return {
      get email() {
        return (reads++ ? 42 : "a@b.c") as unknown as string;
      },
    };
  }

  /** The same with a Proxy. */
  function twoFacedProxy(): { email: string } {
    let reads = 0;
    return new Proxy({ email: "a@b.c" }, {
      get: (target, key) =>
        key === "email" && reads++ ? 42 : Reflect.get(target, key),
    });
  }

  for (
    const [name, schema] of [["a guard", isContact], [
      "a Standard Schema",
      standard,
    ]] as const
  ) {
    it(`with ${name}: a getter or Proxy cannot show the schema one value and the event another`, () => {
      const Contacted = defineEvent("contacted", { schema });
      for (const payload of [twoFaced(), twoFacedProxy()]) {
        const event = Contacted.create(payload);
        assert.equal(event.payload.email, "a@b.c");
        assert.ok(Contacted.is(event));
      }
    });
  }

  it("gives the schema a frozen copy, and copies its output only when it is another object", () => {
    const seen: unknown[] = [];
    const Same = defineEvent("same", {
      schema: (value): value is JsonObject => {
        seen.push(value);
        return true;
      },
    });
    const payload = { a: [1] };
    const event = Same.create(payload);
    assert.ok(Object.isFrozen(seen[0]));
    assert.notEqual(seen[0], payload);
    assert.equal(event.payload, seen[0]); // not copied twice
    const output = { a: [2] };
    const Replaced = defineEvent("replaced", {
      schema: {
        "~standard": {
          version: 1,
          vendor: "t",
          validate: () => ({ value: output }),
        },
      } as StandardSchemaV1<JsonObject>,
    });
    const replaced = Replaced.create({ a: [1] });
    assert.deepEqual(replaced.payload, { a: [2] });
    assert.notEqual(replaced.payload, output); // the output is copied and frozen
    assert.ok(Object.isFrozen(replaced.payload.a));
    assert.ok(!Object.isFrozen(output));
  });
});

describe("#11.5 an array that grows while it is copied is refused, at once", () => {
  it("refuses an array whose index getter defines the next index", () => {
    const list: unknown[] = [];
    const define = (index: number): void => {
      Object.defineProperty(list, index, {
        enumerable: true,
        configurable: true,
        get() {
          define(index + 1);
          return 1;
        },
      });
    };
    define(0);
    assertInvalid(() => createEvent("a", { list } as JsonObject), [{
      path: "payload.list",
      message:
        "expected an array that keeps its length while it is copied, got a new length",
    }]);
  });

  it("refuses a Proxy whose length grows with every read", () => {
    let length = 0;
    const list = new Proxy([] as unknown[], {
      get: (target, key) =>
        key === "length"
          ? ++length
          : typeof key === "string" && /^\d+$/.test(key)
          ? 0
          : Reflect.get(target, key),
    });
    assertInvalidAt(
      () => createEvent("a", { list } as JsonObject),
      "payload.list",
      /keeps its length/,
    );
    assertInvalidAt(
      () => parseEvent(parsedWith({ list })),
      "payload.list",
      /keeps its length/,
    );
  });

  it("refuses a Proxy array whose length is not an array length", () => {
    for (const length of [-1, 1.5, NaN, "3", Symbol("length"), 2 ** 32]) {
      const list = new Proxy([] as unknown[], {
        get: (target, key) =>
          key === "length" ? length : Reflect.get(target, key),
      });
      assert.throws(
        () => createEvent("a", { list } as JsonObject),
        InvalidEventError,
        String(length),
      );
    }
  });

  it("refuses a length the characters left cannot hold before reading any item", () => {
    let reads = 0;
    const list = new Proxy([] as unknown[], {
      get: (target, key) => {
        if (key === "length") return 600_000;
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key);
      },
    });
    assertInvalidAt(
      () => parseEvent(parsedWith({ list })),
      "payload.list",
      /^expected at most 1048576 characters of JSON, got more$/,
    );
    assert.equal(reads, 0);
  });
});

describe("#11.6 options that cannot be read end in an InvalidEventError", () => {
  const bad: [string, unknown][] = [
    ["a Proxy whose get throws", throwingProxy({})],
    ["a revoked Proxy", revokedProxy()],
  ];
  const json = JSON.stringify(sample);
  const cloudEvent = toCloudEvent(sample, { source: "/x" });
  const calls: [string, (options: never) => unknown][] = [
    ["createEvent", (options) => createEvent("a", {}, options)],
    ["Def.create", (options) => defineEvent("a").create({}, options)],
    ["parseEvent", (options) => parseEvent(json, options)],
    ["fromCloudEvent", (options) => fromCloudEvent(cloudEvent, options)],
    ["toCloudEvent", (options) => toCloudEvent(sample, options)],
  ];
  for (const [call, fn] of calls) {
    for (const [name, options] of bad) {
      it(`${call}: ${name}`, () => {
        assertInvalidAt(
          () => fn(options as never),
          "options",
          /^expected a readable value, got a throw: /,
        );
      });
    }
  }

  it("parseEvent and fromCloudEvent: options that are not an object, and limits that are not numbers", () => {
    for (const fn of [parseEvent, fromCloudEvent]) {
      const input = fn === parseEvent ? json : cloudEvent;
      assertInvalid(() => fn(input, null as never), [{
        path: "options",
        message: "expected an object, got null",
      }]);
      assertInvalid(() => fn(input, { maxLength: Symbol("x") as never }), [{
        path: "options.maxLength",
        message: "expected a number, got a symbol",
      }]);
      assertInvalid(
        () => fn(input, { maxDepth: { valueOf: () => 3 } as never }),
        [{
          path: "options.maxDepth",
          message: "expected a number, got an object",
        }],
      );
    }
  });

  it("createEvent: a causedBy Proxy that throws once checked", () => {
    let reads = 0;
    const parent = new Proxy(createEvent("parent"), {
      get(target, key, receiver) {
        if (++reads > 7) throw new Error("late");
        return Reflect.get(target, key, receiver);
      },
    });
    assertInvalidAt(
      () => createEvent("child", {}, { causedBy: parent }),
      "options.causedBy",
      /got a throw: late/,
    );
  });
});

describe("#11.7 a Standard Schema result that breaks the contract", () => {
  const invalidResult = [{
    path: "payload",
    message:
      'expected the "broken" schema to return a result, got an invalid result',
  }];

  function schemaReturning(
    result: () => unknown,
  ): StandardSchemaV1<JsonObject> {
    return {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: result as StandardSchemaV1<
          JsonObject
        >["~standard"]["validate"],
      },
    };
  }

  const results: [string, () => unknown][] = [
    ["{} (neither value nor issues)", () => ({})],
    ["issues that are a string", () => ({ issues: "abc" })],
    ["issues holding null", () => ({ issues: [null] })],
    ["an issue without a message", () => ({ issues: [{ path: ["a"] }] })],
    ["a message that is not a string", () => ({
      issues: [{
        message: {
          toString: () => {
            throw new Error("no");
          },
        },
      }],
    })],
    [
      "a path that is not an array",
      () => ({ issues: [{ message: "m", path: 5 }] }),
    ],
    ["a path that is an iterable but not an array", () => ({
      issues: [{ message: "m", path: new Set(["a"]) }],
    })],
    [
      "a path segment without a key",
      () => ({ issues: [{ message: "m", path: [{}] }] }),
    ],
    [
      "a path segment that is null",
      () => ({ issues: [{ message: "m", path: [null] }] }),
    ],
    ["a throwing issues getter", () => ({
      get issues() {
        throw new Error("no");
      },
    })],
    ["a throwing then getter", () => ({
      get then() {
        throw new Error("no");
      },
    })],
    ["a throwing message getter", () => ({
      issues: [{
        get message() {
          throw new Error("no");
        },
      }],
    })],
    ["a Proxy whose traps throw", () => throwingProxy({})],
  ];
  for (const [name, result] of results) {
    it(`refuses ${name} with one InvalidEventError at payload`, () => {
      const Broken = defineEvent("broken", { schema: schemaReturning(result) });
      assertInvalid(() => Broken.create({ a: 1 }), invalidResult);
      assert.equal(Broken.is(createEvent("broken", { a: 1 })), false);
      assert.throws(
        () =>
          parseEvent(JSON.stringify(createEvent("broken", { a: 1 })), {
            definition: Broken,
          }),
        InvalidEventError,
      );
    });
  }

  it("still maps well-formed issues, with number, symbol and object segments", () => {
    const Picky = defineEvent("picky", {
      schema: schemaReturning(() => ({
        issues: [
          { message: "first", path: ["items", 2, { key: "price" }] },
          { message: "second", path: [Symbol("tag")] },
          { message: "third" },
        ],
      })),
    });
    assertInvalid(() => Picky.create({}), [
      { path: "payload.items[2].price", message: "first" },
      { path: 'payload["Symbol(tag)"]', message: "second" },
      { path: "payload", message: "third" },
    ]);
  });

  it("reads the schema once, and refuses one that cannot be read", () => {
    assertInvalidAt(
      () => defineEvent("a", { schema: throwingProxy({}) as never }),
      "options.schema",
      /got a throw: trap/,
    );
    assertInvalidAt(
      () => defineEvent("a", throwingProxy({})),
      "options.schema",
      /got a throw: trap/,
    );
  });
});

describe("#11.8 arrays with properties other than their items are refused, as objects are", () => {
  it("refuses an enumerable string property", () => {
    const list = Object.assign([1, 2], { note: "x" });
    assertInvalid(() => createEvent("a", { list }), [{
      path: "payload.list",
      message:
        "expected an array without holes or other properties, got the property note",
    }]);
  });

  it("refuses an enumerable symbol property", () => {
    const list = Object.assign([1], { [Symbol("tag")]: 1 });
    assertInvalid(() => createEvent("a", { list }), [{
      path: "payload.list",
      message: "expected string keys, got Symbol(tag)",
    }]);
  });

  it("ignores non-enumerable properties, as for objects and JSON.stringify", () => {
    const list = Object.defineProperty([1], "hidden", {
      value: 2,
      enumerable: false,
    });
    const symbolic = Object.defineProperty([1], Symbol("hidden"), {
      value: 2,
      enumerable: false,
    });
    assert.deepEqual(createEvent("a", { list, symbolic }).payload, {
      list: [1],
      symbolic: [1],
    });
  });

  it("refuses holes, even when Array.prototype fills them", () => {
    // deno-lint-ignore no-sparse-arrays
    const holey = [1, , 3] as JsonValue[];
    assertInvalidAt(
      () => createEvent("a", { list: holey }),
      "payload.list[1]",
      /undefined/,
    );
    const prototype = Array.prototype as unknown as Record<number, unknown>;
    prototype[1] = 2;
    try {
      // deno-lint-ignore no-sparse-arrays
      const list = [1, , 3] as JsonValue[];
      assertInvalid(() => createEvent("a", { list }), [{
        path: "payload.list",
        message:
          "expected an array without holes or other properties, got holes",
      }]);
    } finally {
      delete prototype[1];
    }
  });
});

describe("a thrown value that cannot be inspected", () => {
  it("thrown by a getter, ends in an InvalidEventError naming the place, in every entry point", () => {
    for (const thrown of UNINSPECTABLE) {
      const getter = () => ({
        get boom(): never {
          throw thrown();
        },
      });
      const parsed = (fields: Record<string, unknown>) => ({
        ...JSON.parse(JSON.stringify(sample)),
        ...fields,
      });
      assertInvalidAt(
        () => parseEvent(parsed({ payload: getter() })),
        "payload.boom",
        /throw/,
      );
      assertInvalidAt(
        () => parseEvent(parsed({ metadata: { x: getter() } })),
        "metadata.x.boom",
        /throw/,
      );
      const eventId = Object.defineProperty(parsed({}), "eventId", {
        get: () => {
          throw thrown();
        },
      });
      assert.throws(() => parseEvent(eventId), InvalidEventError);
      const cloud = {
        ...JSON.parse(JSON.stringify(toCloudEvent(sample, { source: "/s" }))),
        data: getter(),
      };
      assert.throws(() => fromCloudEvent(cloud), InvalidEventError);
      assert.throws(
        () => createEvent("x", getter() as unknown as JsonObject),
        InvalidEventError,
      );
    }
  });
});
