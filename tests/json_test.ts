// Payload and metadata as JSON data: what is refused (with the exact path),
// what is accepted, and that events are copied and frozen at every level.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent, InvalidEventError, parseEvent } from "../mod.ts";
import type { JsonObject, JsonValue } from "../mod.ts";
import { assertInvalid } from "./_helpers.ts";

/** Lets a test pass what the types (rightly) forbid. */
function raw(value: unknown): JsonObject {
  return value as JsonObject;
}

/** Views a frozen value as mutable, to try to mutate it. */
function mutable(value: unknown): Record<PropertyKey, unknown> {
  return value as Record<PropertyKey, unknown>;
}

/** An object nested `levels` deep: `nest(1)` is `{ a: leaf }`. */
function nest(levels: number, leaf: JsonValue = 1): JsonObject {
  let value: JsonObject = { a: leaf };
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

/** Arrays nested `levels` deep: `nestArrays(1)` is `[leaf]`. */
function nestArrays(levels: number, leaf: JsonValue = 1): JsonValue {
  let value: JsonValue = [leaf];
  for (let level = 1; level < levels; level++) value = [value];
  return value;
}

class Money {
  amount = 1;
}

class Items extends Array<number> {}

const sym = Symbol("s");

const cyclicObject: Record<string, unknown> = { name: "loop" };
cyclicObject.self = cyclicObject;
const cyclicArray: unknown[] = [];
cyclicArray.push(cyclicArray);

const throwingGetter = {
  get a(): never {
    throw new Error("boom");
  },
};

const revoked = Proxy.revocable({}, {});
revoked.revoke();

// [case, payload, path, message]
const REFUSED: [string, unknown, string, string][] = [
  [
    "a function",
    { a: () => 1 },
    "payload.a",
    "expected JSON data, got a function",
  ],
  ["a symbol", { a: sym }, "payload.a", "expected JSON data, got a symbol"],
  ["a bigint", { a: 1n }, "payload.a", "expected JSON data, got a bigint"],
  ["NaN", { a: NaN }, "payload.a", "expected a finite number, got NaN"],
  [
    "Infinity",
    { a: Infinity },
    "payload.a",
    "expected a finite number, got Infinity",
  ],
  [
    "-Infinity",
    { a: -Infinity },
    "payload.a",
    "expected a finite number, got -Infinity",
  ],
  [
    "a Date",
    { a: new Date(0) },
    "payload.a",
    "expected a plain object, got Date",
  ],
  ["a Map", { a: new Map() }, "payload.a", "expected a plain object, got Map"],
  [
    "a Set",
    { a: new Set([1]) },
    "payload.a",
    "expected a plain object, got Set",
  ],
  ["a RegExp", { a: /x/ }, "payload.a", "expected a plain object, got RegExp"],
  [
    "a class instance",
    { a: new Money() },
    "payload.a",
    "expected a plain object, got Money",
  ],
  [
    "an Error",
    { a: new Error("x") },
    "payload.a",
    "expected a plain object, got Error",
  ],
  [
    "a Promise",
    { a: Promise.resolve(1) },
    "payload.a",
    "expected a plain object, got Promise",
  ],
  [
    "a boxed string",
    { a: Object("s") },
    "payload.a",
    "expected a plain object, got String",
  ],
  [
    "a Uint8Array",
    { a: new Uint8Array(2) },
    "payload.a",
    "expected a plain object, got Uint8Array",
  ],
  [
    "a Float64Array",
    { a: new Float64Array(1) },
    "payload.a",
    "expected a plain object, got Float64Array",
  ],
  [
    "an ArrayBuffer",
    { a: new ArrayBuffer(1) },
    "payload.a",
    "expected a plain object, got ArrayBuffer",
  ],
  [
    "an Array subclass",
    { a: Items.from([1]) },
    "payload.a",
    "expected a plain array, got Items",
  ],
  [
    "an object with a plain object as prototype",
    { a: Object.create({ inherited: 1 }) },
    "payload.a",
    "expected a plain object, got an object with a custom prototype",
  ],
  [
    "undefined in an array",
    { a: [1, undefined] },
    "payload.a[1]",
    "expected JSON data, got undefined",
  ],
  [
    "a hole in a sparse array",
    // deno-lint-ignore no-sparse-arrays
    { a: [1, , 3] },
    "payload.a[1]",
    "expected JSON data, got undefined",
  ],
  [
    "a cycle through an object",
    { a: cyclicObject },
    "payload.a.self",
    "expected JSON data, got a cycle",
  ],
  [
    "a cycle through an array",
    { list: cyclicArray },
    "payload.list[0]",
    "expected JSON data, got a cycle",
  ],
  [
    "a symbol key",
    { a: { [sym]: 1 } },
    "payload.a",
    "expected string keys, got Symbol(s)",
  ],
  [
    "a symbol key on the payload itself",
    { [sym]: 1 },
    "payload",
    "expected string keys, got Symbol(s)",
  ],
  [
    "a __proto__ key from JSON.parse",
    JSON.parse('{"a":{"__proto__":{"admin":true}}}'),
    "payload.a.__proto__",
    'expected any key but "__proto__", got "__proto__"',
  ],
  [
    "a __proto__ key from a computed property",
    { ["__proto__"]: 1 },
    "payload.__proto__",
    'expected any key but "__proto__", got "__proto__"',
  ],
  [
    "a __proto__ key on a null-prototype object",
    Object.defineProperty(Object.create(null), "__proto__", {
      value: 1,
      enumerable: true,
    }),
    "payload.__proto__",
    'expected any key but "__proto__", got "__proto__"',
  ],
  [
    "a __proto__ key whose value is undefined",
    { ["__proto__"]: undefined },
    "payload.__proto__",
    'expected any key but "__proto__", got "__proto__"',
  ],
  [
    "NaN deep in arrays (the path in the design)",
    { items: [{ price: 1 }, { price: 2 }, { price: NaN }] },
    "payload.items[2].price",
    "expected a finite number, got NaN",
  ],
  [
    "a key that is not an identifier",
    { "a b": NaN },
    'payload["a b"]',
    "expected a finite number, got NaN",
  ],
  [
    "an empty key",
    { "": NaN },
    'payload[""]',
    "expected a finite number, got NaN",
  ],
  [
    "an index-like key",
    { "0": NaN },
    'payload["0"]',
    "expected a finite number, got NaN",
  ],
  [
    "a non-ASCII key",
    { "é": NaN },
    'payload["é"]',
    "expected a finite number, got NaN",
  ],
  [
    "a getter that throws",
    { a: throwingGetter },
    "payload.a.a",
    "expected a readable value, got a throw: boom",
  ],
  [
    "a revoked proxy",
    { a: revoked.proxy },
    "payload.a",
    "expected a readable value, got a throw: " +
    errorMessage(() => Array.isArray(revoked.proxy)),
  ],
  [
    "65 levels of objects",
    nest(65),
    "payload" + ".a".repeat(64),
    "expected at most 64 levels of nesting, got more",
  ],
  [
    "65 levels through arrays",
    { a: nestArrays(64) },
    "payload.a" + "[0]".repeat(63),
    "expected at most 64 levels of nesting, got more",
  ],
];

// [case, payload, message] for a payload that is not an object at all
const NOT_OBJECTS: [string, unknown, string][] = [
  ["null", null, "expected a plain object, got null"],
  ["an array", [1], "expected a plain object, got Array"],
  ["a string", "text", 'expected a plain object, got "text"'],
  ["a number", 42, "expected a plain object, got 42"],
  ["true", true, "expected a plain object, got true"],
  ["a function", () => {}, "expected a plain object, got a function"],
  ["a Date", new Date(0), "expected a plain object, got Date"],
  ["a Map", new Map(), "expected a plain object, got Map"],
  ["a class instance", new Money(), "expected a plain object, got Money"],
];

function errorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

describe("payload: refused values", () => {
  for (const [name, payload, path, message] of REFUSED) {
    it(`refuses ${name} at ${path}`, () => {
      assertInvalid(() => createEvent("test.event", raw(payload)), [{
        path,
        message,
      }]);
    });
  }

  for (const [name, payload, message] of NOT_OBJECTS) {
    it(`refuses ${name} as the payload`, () => {
      assertInvalid(() => createEvent("test.event", raw(payload)), [{
        path: "payload",
        message,
      }]);
    });
  }

  it("names the path in the error message, as the design shows", () => {
    assert.throws(
      () =>
        createEvent("order.placed", {
          items: [{ price: 1 }, { price: 2 }, { price: NaN }],
        }),
      {
        name: "InvalidEventError",
        code: "INVALID_EVENT",
        message: "payload.items[2].price: expected a finite number, got NaN",
      },
    );
  });

  it("does not leave Object.prototype polluted by a __proto__ key", () => {
    assert.throws(() =>
      createEvent("test.event", JSON.parse('{"__proto__":{"polluted":true}}'))
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(
      Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"),
      false,
    );
  });
});

describe("metadata: refused values", () => {
  for (const [name, payload, path, message] of REFUSED) {
    const metadataPath = path.replace(/^payload/, "metadata");
    it(`refuses ${name} at ${metadataPath}`, () => {
      assertInvalid(
        () => createEvent("test.event", {}, { metadata: raw(payload) }),
        [{ path: metadataPath, message }],
      );
    });
  }

  for (const [name, metadata, message] of NOT_OBJECTS) {
    it(`refuses ${name} as the metadata`, () => {
      assertInvalid(
        () => createEvent("test.event", {}, { metadata: raw(metadata) }),
        [{ path: "metadata", message }],
      );
    });
  }
});

describe("payload: accepted values", () => {
  it("accepts every kind of JSON value", () => {
    const payload = {
      text: 'héllo \u{1F600} \n\t"quoted"',
      empty: "",
      zero: 0,
      negative: -1.5,
      big: Number.MAX_VALUE,
      tiny: Number.MIN_VALUE,
      yes: true,
      no: false,
      nothing: null,
      list: [1, "two", null, [3], { four: 4 }],
      emptyList: [],
      emptyObject: {},
      nested: { deeper: { deepest: ["x"] } },
    };
    const event = createEvent("test.event", payload);
    assert.deepEqual(event.payload, payload);
    assert.deepEqual(JSON.parse(JSON.stringify(event.payload)), payload);
  });

  it("drops properties whose value is undefined, at every level", () => {
    const event = createEvent(
      "test.event",
      raw({ a: 1, b: undefined, c: { d: undefined, e: [{ f: undefined }] } }),
    );
    assert.deepEqual(event.payload, { a: 1, c: { e: [{}] } });
    assert.equal(Object.hasOwn(event.payload, "b"), false);
    assert.deepEqual(Object.keys(event.payload), ["a", "c"]);
  });

  it("accepts null-prototype objects and returns ordinary ones", () => {
    const inner = Object.assign(Object.create(null), { b: 2 });
    const payload = Object.assign(Object.create(null), { a: 1, inner });
    const event = createEvent("test.event", payload);
    assert.deepEqual(event.payload, { a: 1, inner: { b: 2 } });
    assert.equal(Object.getPrototypeOf(event.payload), Object.prototype);
  });

  it("keeps constructor, prototype and other Object.prototype names as data", () => {
    const payload = {
      constructor: "not a function",
      prototype: { a: 1 },
      toString: 1,
      hasOwnProperty: null,
      valueOf: [1],
      __defineGetter__: "x",
    };
    const event = createEvent("test.event", payload);
    assert.deepEqual(event.payload, payload);
    assert.equal(event.payload.constructor, "not a function");
    assert.equal(JSON.stringify(event.payload), JSON.stringify(payload));
  });

  it("keeps -0 as given (JSON writes it as 0)", () => {
    const event = createEvent("test.event", { n: -0 });
    assert.ok(Object.is(event.payload.n, -0));
    assert.equal(JSON.stringify(event.payload), '{"n":0}');
  });

  it("keeps the order of keys", () => {
    const event = createEvent("test.event", { z: 1, a: 2, m: 3 });
    assert.deepEqual(Object.keys(event.payload), ["z", "a", "m"]);
  });

  it("accepts exactly 64 levels of objects", () => {
    const event = createEvent("test.event", nest(64));
    assert.deepEqual(event.payload, nest(64));
  });

  it("accepts exactly 64 levels through arrays", () => {
    const payload = { a: nestArrays(63) };
    assert.deepEqual(createEvent("test.event", payload).payload, payload);
  });

  it("accepts exactly 64 levels of metadata", () => {
    assert.deepEqual(
      createEvent("test.event", {}, { metadata: nest(64) }).metadata,
      nest(64),
    );
  });

  it("accepts the same object twice (shared, not a cycle)", () => {
    const shared = { x: 1 };
    const event = createEvent("test.event", {
      a: shared,
      b: shared,
      list: [shared, shared],
    });
    assert.deepEqual(event.payload, {
      a: { x: 1 },
      b: { x: 1 },
      list: [{ x: 1 }, { x: 1 }],
    });
  });

  it("copies a shared subtree once, so a graph of many paths stays linear", () => {
    // 25 levels of [x, x]: 2^24 paths to the leaf, 25 distinct arrays
    // (and about 134 million characters of JSON, under the limit).
    let graph: JsonValue = ["x"];
    for (let level = 1; level < 25; level++) graph = [graph, graph];
    const event = createEvent("test.event", { graph });
    let copy = event.payload.graph as unknown as unknown[];
    assert.equal(copy[0], copy[1]); // one frozen copy in both places
    for (let level = 1; level < 25; level++) {
      assert.ok(Object.isFrozen(copy));
      assert.deepEqual(copy[0], copy[1]);
      copy = copy[0] as unknown[];
    }
    assert.deepEqual(copy, ["x"]);
  });

  it("refuses a graph whose JSON would be longer than any string can be", () => {
    // 60 levels of [x, x]: copied in a moment, but 2^60 leaves written out.
    let graph: JsonValue = ["leaf"];
    for (let level = 1; level < 60; level++) graph = [graph, graph];
    assert.throws(
      () => createEvent("test.event", { graph }),
      (error: unknown) =>
        error instanceof InvalidEventError &&
        /^payload\.graph.*: expected at most 268369920 characters of JSON, got more$/
          .test(error.message),
    );
  });

  it("still refuses a shared subtree met again where it nests too deep, in a small payload or a large one", () => {
    const deep = nest(60);
    // However many containers come first (a large copy may reuse the copy
    // of a subtree it meets again, and then stops at its top), the second
    // `deep` is refused at or below payload.b.a.a.a.a.
    for (const containers of [0, 1000]) {
      const filler = Array.from({ length: containers }, () => ({}));
      assert.throws(
        () => createEvent("test.event", { filler, a: deep, b: nest(4, deep) }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidEventError);
          assert.equal(error.issues.length, 1);
          const [issue] = error.issues;
          assert.match(issue?.path ?? "", /^payload\.b\.a\.a\.a\.a(\.a)*$/);
          assert.equal(
            issue?.message,
            "expected at most 64 levels of nesting, got more",
          );
          return true;
        },
      );
    }
  });

  it("counts a shared subtree's characters each time it is met", () => {
    let graph: JsonValue = ["x".repeat(100)];
    for (let level = 1; level < 40; level++) graph = [graph, graph];
    assert.throws(
      () =>
        parseEvent({
          ...JSON.parse(JSON.stringify(createEvent("test.event"))),
          payload: { graph },
        }),
      (error: unknown) =>
        error instanceof InvalidEventError &&
        /expected at most 1048576 characters of JSON, got more/.test(
          error.message,
        ),
    );
  });

  it("ignores non-enumerable properties, as JSON.stringify does", () => {
    const payload = Object.defineProperty({ a: 1 }, "hidden", {
      value: 2,
      enumerable: false,
    });
    assert.deepEqual(createEvent("test.event", payload).payload, { a: 1 });
  });

  it("ignores non-enumerable symbol keys", () => {
    const payload = Object.defineProperty({ a: 1 }, sym, {
      value: 2,
      enumerable: false,
    });
    assert.deepEqual(createEvent("test.event", payload).payload, { a: 1 });
  });

  it("reads getters once and stores their values", () => {
    let reads = 0;
    const payload = {
      get a() {
        reads++;
        return 1;
      },
    };
    const event = createEvent("test.event", payload);
    assert.equal(reads, 1);
    assert.deepEqual(Object.getOwnPropertyDescriptor(event.payload, "a"), {
      value: 1,
      writable: false,
      enumerable: true,
      configurable: false,
    });
  });

  it("reads a getter once beside a nested object, and still finds a cycle through the top", () => {
    let reads = 0;
    const payload: Record<string, unknown> = {
      get a() {
        reads++;
        return 1;
      },
      nested: { b: [true] },
    };
    const event = createEvent("test.event", raw(payload));
    assert.equal(reads, 1);
    assert.deepEqual(event.payload, { a: 1, nested: { b: [true] } });
    (payload.nested as Record<string, unknown>).back = payload;
    assertInvalid(() => createEvent("test.event", raw(payload)), [{
      path: "payload.nested.back",
      message: "expected JSON data, got a cycle",
    }]);
  });

  it("refuses an object whose getter throws once, naming it, though a second read would not throw", () => {
    const reads = { a: 0, b: 0 };
    const payload = {
      get a() {
        reads.a++;
        return 1;
      },
      get b() {
        if (reads.b++ == 0) throw new Error("first read");
        return 2;
      },
    };
    // Read again to name it, it does not throw: the payload is the place.
    assertInvalid(() => createEvent("test.event", raw(payload)), [{
      path: "payload",
      message: "expected a readable value, got a throw: first read",
    }]);
    assert.equal(reads.b, 2);
  });

  it("refuses a Proxy whose keys cannot be listed, at the payload itself", () => {
    const keysThrow = new Proxy({ a: 1 }, {
      ownKeys() {
        throw new Error("no keys");
      },
    });
    assertInvalid(() => createEvent("test.event", raw(keysThrow)), [{
      path: "payload",
      message: "expected a readable value, got a throw: no keys",
    }]);
  });

  it("refuses an array whose prototype is Object.prototype, as any array", () => {
    const array = Object.setPrototypeOf([1, "x"], Object.prototype);
    assertInvalid(() => createEvent("test.event", raw(array)), [{
      path: "payload",
      message: "expected a plain object, got an object",
    }]);
  });

  it("shares one frozen empty object when there is no payload or metadata", () => {
    const event = createEvent("test.event");
    assert.deepEqual(event.payload, {});
    assert.deepEqual(event.metadata, {});
    assert.ok(Object.isFrozen(event.payload));
    assert.ok(Object.isFrozen(event.metadata));
  });
});

describe("frozen at every level", () => {
  const event = createEvent("test.event", {
    a: 1,
    b: { c: 2, d: { e: 3, f: { g: 4 } } },
    list: [1, { x: 1 }, [2, [3]]],
  }, { metadata: { tenant: "acme", trace: { id: "t1" } } });

  const attempts: [string, () => void][] = [
    ["assign to the event", () => {
      mutable(event).eventType = "other";
    }],
    ["add to the event", () => {
      mutable(event).extra = 1;
    }],
    ["delete from the event", () => {
      delete mutable(event).correlationId;
    }],
    ["assign at depth 1", () => {
      mutable(event.payload).a = 2;
    }],
    ["add at depth 1", () => {
      mutable(event.payload).z = 2;
    }],
    ["delete at depth 1", () => {
      delete mutable(event.payload).a;
    }],
    ["assign at depth 2", () => {
      mutable(event.payload.b).c = 3;
    }],
    ["assign at depth 3", () => {
      mutable(event.payload.b.d).e = 4;
    }],
    ["add at depth 4", () => {
      mutable(event.payload.b.d.f).h = 5;
    }],
    ["assign into an array", () => {
      mutable(event.payload.list)[0] = 9;
    }],
    ["push onto an array", () => {
      (event.payload.list as unknown as unknown[]).push(9);
    }],
    ["pop from an array", () => {
      (event.payload.list as unknown as unknown[]).pop();
    }],
    ["set an array's length", () => {
      mutable(event.payload.list).length = 0;
    }],
    ["sort an array", () => {
      (event.payload.list as unknown as unknown[]).sort();
    }],
    ["assign into an object inside an array", () => {
      mutable(event.payload.list[1]).x = 2;
    }],
    ["push onto an array inside an array", () => {
      (event.payload.list[2] as unknown as unknown[]).push(1);
    }],
    ["assign to the metadata", () => {
      mutable(event.metadata).tenant = "evil";
    }],
    ["assign inside the metadata", () => {
      mutable(event.metadata.trace).id = "t2";
    }],
    ["define a property on the payload", () => {
      Object.defineProperty(event.payload, "y", { value: 1 });
    }],
    ["change the payload's prototype", () => {
      Object.setPrototypeOf(event.payload, null);
    }],
  ];

  for (const [name, attempt] of attempts) {
    it(`throws a TypeError on an attempt to ${name}`, () => {
      assert.throws(attempt, TypeError);
    });
  }

  it("stays unchanged after the attempts", () => {
    for (const [, attempt] of attempts) {
      try {
        attempt();
      } catch {
        // expected
      }
    }
    assert.deepEqual(JSON.parse(JSON.stringify(event)).payload, {
      a: 1,
      b: { c: 2, d: { e: 3, f: { g: 4 } } },
      list: [1, { x: 1 }, [2, [3]]],
    });
    assert.deepEqual(event.metadata, { tenant: "acme", trace: { id: "t1" } });
  });

  it("freezes every object and array it returns", () => {
    const seen: unknown[] = [];
    const visit = (value: unknown): void => {
      if (typeof value !== "object" || value === null) return;
      assert.ok(Object.isFrozen(value), JSON.stringify(value));
      seen.push(value);
      for (const item of Object.values(value)) visit(item);
    };
    visit(event);
    assert.equal(seen.length, 11);
  });
});

describe("the caller's objects", () => {
  function original() {
    return {
      a: 1,
      b: { c: [1, { d: 2 }] },
    };
  }

  it("are neither frozen nor sealed, at any level", () => {
    const payload = original();
    const metadata = original();
    createEvent("test.event", payload, { metadata });
    for (
      const value of [
        payload,
        payload.b,
        payload.b.c,
        payload.b.c[1],
        metadata,
        metadata.b.c,
      ]
    ) {
      assert.equal(Object.isFrozen(value), false);
      assert.equal(Object.isSealed(value), false);
      assert.equal(Object.isExtensible(value), true);
    }
  });

  it("are not aliased: the event holds copies", () => {
    const payload = original();
    const metadata = original();
    const event = createEvent("test.event", payload, { metadata });
    assert.notEqual(event.payload, payload);
    assert.notEqual(event.payload.b, payload.b);
    assert.notEqual(event.payload.b.c, payload.b.c);
    assert.notEqual(event.payload.b.c[1], payload.b.c[1]);
    assert.notEqual(event.metadata, metadata);
  });

  it("can be changed afterwards without changing the event", () => {
    const payload = original();
    const metadata = original();
    const event = createEvent("test.event", payload, { metadata });
    payload.a = 2;
    payload.b.c.push(3);
    (payload.b.c[1] as { d: number }).d = 3;
    Object.assign(payload, { added: true });
    metadata.b.c.length = 0;
    assert.deepEqual(event.payload, original());
    assert.deepEqual(event.metadata, original());
  });
});

describe("parseEvent shares the rules", () => {
  it("reads JSON text whose payload passes the length limit only when counted exactly", () => {
    // Counted by their bound (six characters per character), the strings
    // pass the limit: the exact count runs over objects already frozen.
    const lines = Array.from({ length: 200 }, (_, index) => ({
      sku: "x".repeat(50),
      quantity: index,
    }));
    const text = JSON.stringify(createEvent("order.placed", { lines }));
    const event = parseEvent(text, { maxLength: text.length });
    assert.deepEqual(event.payload, { lines });
    assert.ok(Object.isFrozen(event.payload.lines[199]));
  });

  it("refuses a __proto__ key in a JSON payload, naming the path", () => {
    const json = JSON.stringify(createEvent("test.event")).replace(
      '"payload":{}',
      '"payload":{"a":[{"__proto__":{"polluted":1}}]}',
    );
    assertInvalid(() => parseEvent(json), [{
      path: "payload.a[0].__proto__",
      message: 'expected any key but "__proto__", got "__proto__"',
    }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
