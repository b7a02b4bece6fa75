// Reliability (issue #7): hostile input, failing handlers and load, with
// nothing lost. Cross-runtime (Deno, Bun, Node): node:test, node:assert and
// the library only. The fast-check fuzzing is in deno/fuzz_test.ts, the heap
// check in deno/leaks.ts (`deno task test:leaks`).
//
// The "regressions" group holds the defects this suite found in src/ while
// it was written, each fixed since: they keep those defects from coming back.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  assertDomainEvent,
  createEvent,
  DispatchError,
  EventRecorder,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  MaxDepthExceededError,
  parseEvent,
} from "../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../cloudevents.ts";
import type {
  DispatcherOptions,
  DomainEvent,
  EventHandler,
  JsonObject,
  JsonValue,
} from "../mod.ts";
import {
  assertDeepFrozen,
  assertNoUnhandledRejection,
  MIB,
} from "./_helpers.ts";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const SOURCE = "/reliability";

const sample = createEvent("order.placed", {
  lines: [{ sku: "a-1", qty: 2 }],
  note: null,
}, { correlationId: "req-1", metadata: { tenant: "acme" } });
const sampleJson = JSON.stringify(sample);

/** The sample event as a fresh, mutable parsed object, fields replaced. */
function parsed(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...JSON.parse(sampleJson), ...fields };
}

/** A fresh, mutable CloudEvent of the sample, attributes replaced. */
function cloud(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...JSON.parse(JSON.stringify(toCloudEvent(sample, { source: SOURCE }))),
    ...fields,
  };
}

/** What `fn` ended in: an event, or the InvalidEventError; anything else fails. */
function outcome(
  fn: () => unknown,
): { event: DomainEvent } | { error: InvalidEventError } {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    assert.ok(
      error instanceof InvalidEventError,
      `expected an InvalidEventError, got ${safeDescribe(error)}`,
    );
    assert.ok(error.issues.length > 0, "an InvalidEventError names issues");
    for (const issue of error.issues) {
      assert.equal(typeof issue.path, "string");
      assert.ok(issue.message.length > 0);
    }
    return { error };
  }
  assert.ok(isDomainEvent(result), "the result is an event");
  assertDeepFrozen(result);
  return { event: result as DomainEvent };
}

/** Asserts an InvalidEventError and returns it. */
function invalid(fn: () => unknown): InvalidEventError {
  const result = outcome(fn);
  assert.ok("error" in result, "expected an InvalidEventError, got an event");
  return result.error;
}

/** Asserts an InvalidEventError with one issue whose path is `path`. */
function invalidAt(
  fn: () => unknown,
  path: string | RegExp,
  message?: RegExp,
): InvalidEventError {
  const error = invalid(fn);
  const paths = error.issues.map((issue) => issue.path);
  if (typeof path === "string") assert.deepEqual(paths, [path]);
  else {
    assert.equal(paths.length, 1, paths.join(", "));
    assert.match(paths[0] ?? "", path);
  }
  if (message) assert.match(error.issues[0]?.message ?? "", message);
  return error;
}

function safeDescribe(value: unknown): string {
  try {
    return value instanceof Error
      ? `${value.name}: ${value.message}`
      : String(value);
  } catch {
    return typeof value;
  }
}

// Object.prototype and Array.prototype as they were before any test ran.
const PROTOTYPES: [string, object][] = [
  ["Object.prototype", Object.prototype],
  ["Array.prototype", Array.prototype],
  ["Function.prototype", Function.prototype],
];
const snapshots = PROTOTYPES.map(([name, proto]) =>
  [
    name,
    proto,
    new Map(
      Reflect.ownKeys(proto).map((key) => [
        key,
        Object.getOwnPropertyDescriptor(proto, key)?.value,
      ]),
    ),
    Object.getPrototypeOf(proto),
  ] as const
);

/** Fails if any built-in prototype gained, lost or changed a property. */
function assertNoPollution(): void {
  for (const [name, proto, before, parent] of snapshots) {
    const keys = Reflect.ownKeys(proto);
    assert.deepEqual(
      keys.map(String).sort(),
      [...before.keys()].map(String).sort(),
      `${name} keys`,
    );
    for (const key of keys) {
      assert.equal(
        Object.getOwnPropertyDescriptor(proto, key)?.value,
        before.get(key),
        `${name}.${String(key)}`,
      );
    }
    assert.equal(Object.getPrototypeOf(proto), parent, `${name}'s prototype`);
  }
  const probe = {} as Record<string, unknown>;
  for (const key of ["polluted", "isAdmin", "x"]) {
    assert.equal(probe[key], undefined, `({}).${key}`);
  }
}

/** `levels` objects nested under key `key`, the innermost holding `leaf`. */
function nestText(levels: number, innermost: string, key = "a"): string {
  return `{"${key}":`.repeat(levels - 1) + innermost + "}".repeat(levels - 1);
}

function deepObject(levels: number, leaf: JsonValue = 1): JsonObject {
  let value: JsonObject = { a: leaf };
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The errors of a `cause` chain (DispatchErrors followed through errors[0]). */
function chain(error: unknown): unknown[] {
  const list: unknown[] = [];
  let current = error;
  while (current !== undefined) {
    list.push(current);
    current = current instanceof DispatchError
      ? current.errors[0]
      : (current as { cause?: unknown }).cause;
  }
  return list;
}

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

describe("bad input: __proto__ keys are refused at every depth", () => {
  const proto = '{"__proto__":{"polluted":true,"isAdmin":true}}';

  it("in a payload or metadata, levels 1 to 64, as JSON text and as parsed values", () => {
    for (let level = 1; level <= 64; level++) {
      for (const field of ["payload", "metadata"] as const) {
        const text = JSON.stringify(parsed({ [field]: "@" })).replace(
          '"@"',
          nestText(level, proto),
        );
        const path = field + ".a".repeat(level - 1) + ".__proto__";
        const message = /__proto__/;
        invalidAt(() => parseEvent(text), path, message);
        invalidAt(() => parseEvent(JSON.parse(text)), path, message);
      }
      invalidAt(
        () => createEvent("x", JSON.parse(nestText(level, proto))),
        "payload" + ".a".repeat(level - 1) + ".__proto__",
      );
      invalidAt(
        () =>
          createEvent("x", {}, {
            metadata: JSON.parse(nestText(level, proto)),
          }),
        "metadata" + ".a".repeat(level - 1) + ".__proto__",
      );
    }
    assertNoPollution();
  });

  it("inside arrays, and as a CloudEvent attribute or in its data (levels 1 to 63 of data)", () => {
    invalidAt(
      () => parseEvent(parsed({ payload: JSON.parse(`{"l":[1,${proto}]}`) })),
      "payload.l[1].__proto__",
    );
    invalidAt(
      () => parseEvent(parsed({ payload: JSON.parse(`{"l":[[[${proto}]]]}`) })),
      "payload.l[0][0][0].__proto__",
    );
    invalidAt(
      () =>
        fromCloudEvent(
          `{"__proto__":{"polluted":true},${JSON.stringify(cloud()).slice(1)}`,
        ),
      "__proto__",
    );
    // Level 64 of data is the regression test "a 64-level payload survives the CloudEvents round trip".
    for (let level = 1; level <= 63; level++) {
      const text = JSON.stringify(cloud({ data: 0 })).replace(
        '"data":0',
        `"data":${nestText(level, proto)}`,
      );
      const path = new RegExp(
        `^(data|payload)${"\\.a".repeat(level - 1)}\\.__proto__$`,
      );
      invalidAt(() => fromCloudEvent(text), path);
      invalidAt(() => fromCloudEvent(JSON.parse(text)), path);
    }
    assertNoPollution();
  });

  it("at the top level of an event it is an unknown field: ignored, not copied, nothing polluted", () => {
    const text = `{"__proto__":{"polluted":true},${sampleJson.slice(1)}`;
    const { event } = outcome(() => parseEvent(text)) as { event: DomainEvent };
    assert.deepEqual(event, sample);
    assert.equal(Object.getPrototypeOf(event), Object.prototype);
    assertNoPollution();
  });
});

describe("bad input: constructor and prototype keys are ordinary data", () => {
  const keys = [
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "__defineGetter__",
    "__lookupGetter__",
  ];
  const data = (level: number): JsonObject => {
    const leaf: JsonObject = {};
    for (const key of keys) leaf[key] = { prototype: { polluted: true } };
    return level === 1 ? leaf : deepObject(level - 1, leaf);
  };

  it("kept at every depth, through createEvent, JSON and parseEvent, with nothing polluted", () => {
    // The leaf's values add two levels: 62 + 2 is the limit, 64.
    for (let level = 1; level <= 62; level++) {
      const payload = data(level);
      const event = createEvent("x", payload, { metadata: payload });
      let leaf = event.payload as JsonObject;
      for (let i = 1; i < level; i++) leaf = leaf.a as JsonObject;
      for (const key of keys) {
        assert.ok(Object.hasOwn(leaf, key), key);
        assert.deepEqual(leaf[key], { prototype: { polluted: true } });
      }
      const back = outcome(() => parseEvent(JSON.stringify(event)));
      assert.ok("event" in back);
      assert.deepEqual(back.event, event);
      assert.deepEqual(parseEvent(JSON.parse(JSON.stringify(event))), event);
    }
    assertNoPollution();
    assert.equal(({}).constructor, Object);
  });

  it("as event types, CloudEvents extension attributes and data keys", async () => {
    const metadata = { constructor: "c", prototype: "p", valueof: "v" };
    const event = createEvent("constructor", data(3), { metadata });
    const back = fromCloudEvent(
      JSON.stringify(toCloudEvent(event, { source: SOURCE })),
    );
    assert.deepEqual(back, event);
    assert.equal(back.metadata.constructor, "c");

    const dispatcher = new InProcessEventDispatcher();
    const seen: string[] = [];
    for (const type of ["constructor", "prototype", "__proto__", "toString"]) {
      dispatcher.register(type, (e) => {
        seen.push(e.eventType);
      });
    }
    for (const type of ["constructor", "prototype", "__proto__", "toString"]) {
      await dispatcher.dispatch(createEvent(type));
    }
    await dispatcher.dispatch(createEvent("valueOf"));
    assert.deepEqual(seen, [
      "constructor",
      "prototype",
      "__proto__",
      "toString",
    ]);
    assertNoPollution();
  });
});

describe("bad input: 100,000-deep nesting ends at the depth limit, without a stack overflow", () => {
  const DEEP = 100_000;

  it("as CloudEvents JSON text and parsed values", () => {
    const open = '{"a":'.repeat(DEEP) + "1" + "}".repeat(DEEP);
    const text = JSON.stringify(cloud({ data: 0 })).replace(
      '"data":0',
      `"data":${open}`,
    );
    invalid(() => fromCloudEvent(text));
    invalid(() => fromCloudEvent(`{"data":${"[".repeat(DEEP)}`));
    invalid(() => fromCloudEvent(cloud({ data: deepObject(DEEP) })));
    invalid(() => fromCloudEvent("[".repeat(DEEP) + "]".repeat(DEEP)));
  });

  it("through arrays, objects and both, in payload and metadata, for every entry point", () => {
    let arrays: JsonValue = 1;
    let mixed: JsonValue = 1;
    for (let i = 0; i < DEEP; i++) {
      arrays = [arrays];
      mixed = i % 2 ? [mixed] : { a: mixed };
    }
    for (const deep of [deepObject(DEEP), { l: arrays }, { m: mixed }]) {
      const depthError = /expected at most 64 levels of nesting/;
      invalidAt(() => createEvent("x", deep), /^payload[.[]/, depthError);
      invalidAt(
        () => createEvent("x", {}, { metadata: deep }),
        /^metadata[.[]/,
        depthError,
      );
      invalidAt(
        () => parseEvent(parsed({ payload: deep })),
        /^payload/,
        depthError,
      );
      invalidAt(
        () => parseEvent(parsed({ metadata: deep })),
        /^metadata/,
        depthError,
      );
      invalid(() => fromCloudEvent(cloud({ data: deep })));
    }
  });

  it("under a raised maxDepth too", () => {
    invalidAt(
      () =>
        parseEvent(parsed({ payload: deepObject(DEEP) }), { maxDepth: 1000 }),
      "payload" + ".a".repeat(1000),
    );
  });
});

describe("bad input: over the length limit", () => {
  it("fromCloudEvent refuses text longer than 1 MiB by default, and than maxLength, before parsing it", () => {
    const padded = (length: number) => {
      const base = JSON.stringify(cloud({ pad: "" }));
      return base.replace(
        '"pad":""',
        `"pad":"${"x".repeat(length - base.length)}"`,
      );
    };
    invalidAt(
      () => fromCloudEvent(padded(MIB + 1)),
      "",
      /at most 1048576 characters/,
    );
    assert.ok("event" in outcome(() => fromCloudEvent(padded(MIB))));
    invalidAt(
      () => fromCloudEvent(padded(1001), { maxLength: 1000 }),
      "",
      /at most 1000/,
    );
    // Not JSON at all, but too long: the length is what is reported.
    invalidAt(() => fromCloudEvent("{".repeat(MIB + 1)), "", /at most 1048576/);
  });

  it("counts the strings and keys of parsed values, wherever they are", () => {
    const big = "x".repeat(MIB + 1);
    const tooLong = /at most 1048576 characters/;
    invalidAt(
      () => parseEvent(parsed({ payload: { s: big } })),
      "payload.s",
      tooLong,
    );
    invalidAt(
      () => parseEvent(parsed({ metadata: { s: big } })),
      "metadata.s",
      tooLong,
    );
    invalidAt(
      () => parseEvent(parsed({ payload: { [big]: 1 } })),
      /^payload\.x+$/,
      tooLong,
    );
    invalid(() => fromCloudEvent(cloud({ data: { s: big } })));
    invalid(() => fromCloudEvent(cloud({ ext: big })));
    const many: JsonObject = {};
    for (let i = 0; i < 300_000; i++) many[`k${i}`] = 1;
    invalidAt(
      () => parseEvent(parsed({ payload: many })),
      /^payload\.k\d+$/,
      tooLong,
    );
    invalidAt(
      () => parseEvent(parsed({ payload: { l: new Array(MIB).fill(0) } })),
      /^payload\.l$/,
      tooLong,
    );
  });

  it("ends a shared-subtree blow-up (2^60 paths in a few objects) at the length limit, quickly", () => {
    let dag: JsonValue = "leaf";
    for (let i = 0; i < 60; i++) dag = [dag, dag];
    // Bounded by maxLength, not by the 2^60 paths: a regression hangs here
    // (and CI's step timeout fails it) rather than failing on a slow day.
    invalid(() => parseEvent(parsed({ payload: { dag } })));
    invalid(() => fromCloudEvent(cloud({ data: { dag } })));
  });

  it("ends an array that claims 2^32 - 1 items quickly: its length is past the limit, a Proxy's too", () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    sparse[0] = 1;
    // As above: a regression hangs instead of failing on time.
    invalidAt(
      () => parseEvent(parsed({ payload: { sparse } })),
      "payload.sparse",
      /at most/,
    );
    invalidAt(
      () => createEvent("test.event", { sparse: sparse as JsonValue[] }),
      "payload.sparse",
      /at most/,
    );
    const huge = new Proxy([] as unknown[], {
      get: (target, key) =>
        key === "length"
          ? 2 ** 32 - 1
          : typeof key === "string" && /^\d+$/.test(key)
          ? 0
          : Reflect.get(target, key),
    });
    invalidAt(
      () => parseEvent(parsed({ payload: { huge } })),
      "payload.huge",
      /at most/,
    );
  });
});

describe("bad input: cycles are refused, naming where", () => {
  const cycle = /cycle/;

  it("in payload, metadata, arrays, CloudEvent data, and through the input itself", () => {
    const self: Record<string, unknown> = { a: 1 };
    self.self = self;
    invalidAt(
      () => parseEvent(parsed({ payload: self })),
      "payload.self",
      cycle,
    );
    invalidAt(
      () => parseEvent(parsed({ metadata: self })),
      "metadata.self",
      cycle,
    );
    invalidAt(
      () => createEvent("x", self as JsonObject),
      "payload.self",
      cycle,
    );
    invalidAt(
      () => fromCloudEvent(cloud({ data: self })),
      /^(data|payload)\.self$/,
      cycle,
    );

    const list: unknown[] = [1];
    list.push({ back: list });
    invalidAt(
      () => parseEvent(parsed({ payload: { list } })),
      "payload.list[1].back",
      cycle,
    );

    const deep = deepObject(10) as Record<string, unknown>;
    let inner = deep;
    for (let i = 1; i < 10; i++) inner = inner.a as Record<string, unknown>;
    inner.a = deep;
    invalidAt(
      () => parseEvent(parsed({ payload: deep })),
      "payload" + ".a".repeat(10),
      cycle,
    );

    const input = parsed();
    input.payload = { input };
    (input.payload as Record<string, unknown>).payload = input.payload;
    invalidAt(() => parseEvent(input), "payload.input.payload", cycle);
  });
});

describe("bad input: Proxies and getters that throw", () => {
  const TRAPS = [
    "get",
    "getOwnPropertyDescriptor",
    "ownKeys",
    "getPrototypeOf",
    "has",
    "isExtensible",
  ] as const;
  function trapped<T extends object>(target: T, trap: typeof TRAPS[number]): T {
    return new Proxy(target, {
      [trap]() {
        throw new Error(`trap ${trap}`);
      },
    });
  }
  // Where a hostile object sits, and the path an error names.
  const places: [string, (hostile: object) => Record<string, unknown>][] = [
    ["payload", (h) => parsed({ payload: h })],
    [
      "payload.nested.deep",
      (h) => parsed({ payload: { nested: { deep: h } } }),
    ],
    ["payload.list[1]", (h) => parsed({ payload: { list: [0, h] } })],
    ["metadata", (h) => parsed({ metadata: h })],
  ];

  it("in parseEvent, for every trap at every place: an InvalidEventError naming the place and the trap, or a correct copy", () => {
    for (const trap of TRAPS) {
      for (const [path, place] of places) {
        const result = outcome(() =>
          parseEvent(place(trapped({ k: "v" }, trap)))
        );
        if ("error" in result) {
          // The object itself, or the property being read when the trap sprang.
          const paths = result.error.issues.map((i) => i.path);
          assert.ok(
            paths.length === 1 &&
              (paths[0] === path || paths[0] === `${path}.k`),
            `${trap}: ${paths.join(", ")}`,
          );
          assert.match(result.error.message, new RegExp(`trap ${trap}`));
        } else {
          // The trap was never sprung: the proxy read as the plain object it wraps.
          assert.ok(["has", "isExtensible"].includes(trap), trap);
          assert.equal(
            JSON.stringify(result.event),
            JSON.stringify(parseEvent(place({ k: "v" }))),
          );
        }
      }
      const root = outcome(() => parseEvent(trapped(parsed(), trap)));
      if ("error" in root) {
        assert.match(root.error.message, new RegExp(`trap ${trap}`));
      }
      const cloudRoot = outcome(() => fromCloudEvent(trapped(cloud(), trap)));
      if ("error" in cloudRoot) {
        assert.match(cloudRoot.error.message, new RegExp(`trap ${trap}`));
      }
      outcome(() => fromCloudEvent(cloud({ data: trapped({ k: "v" }, trap) })));
      outcome(() => createEvent("x", trapped({ k: "v" }, trap)));
    }
  });

  it("revoked proxies and getters that throw, in every entry point", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = {
      get boom(): string {
        throw new TypeError("getter says no");
      },
    };
    for (const hostile of [proxy, getter]) {
      invalid(() => parseEvent(hostile));
      invalid(() => parseEvent(parsed({ payload: { x: hostile } })));
      invalid(() => fromCloudEvent(hostile));
      invalid(() => fromCloudEvent(cloud({ data: { x: hostile } })));
      invalid(() => createEvent("x", { x: hostile } as JsonObject));
      assert.equal(isDomainEvent(hostile), false);
      invalid(() => assertDomainEvent(hostile));
    }
    invalidAt(
      () => parseEvent(parsed({ payload: getter })),
      "payload.boom",
      /getter says no/,
    );
  });

  it("dispatch and record refuse them before any handler runs", async () => {
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: () => ran++,
    });
    let ran = 0;
    dispatcher.registerAny(() => {
      ran++;
    });
    const recorder = new EventRecorder();
    const frozen = Object.freeze({ ...sample });
    // The traps the guard springs on a frozen event (it reads the fields
    // and checks frozenness; the prototype is not looked at).
    const hostiles: object[] =
      (["get", "getOwnPropertyDescriptor", "ownKeys", "isExtensible"] as const)
        .map((trap) => trapped(frozen, trap));
    const revocable = Proxy.revocable(frozen, {});
    revocable.revoke();
    hostiles.push(revocable.proxy);
    for (const hostile of hostiles) {
      await assert.rejects(
        dispatcher.dispatch(hostile as DomainEvent),
        InvalidEventError,
      );
      assert.throws(
        () => recorder.record(hostile as DomainEvent),
        InvalidEventError,
      );
    }
    assert.equal(ran, 0);
    assert.equal(recorder.size, 0);
  });
});

describe("bad input: objects with a foreign prototype are refused, naming the path", () => {
  class Point {
    x = 1;
  }
  class List extends Array<number> {}
  const foreign: [string, () => unknown][] = [
    ["an object inheriting from another object", () => Object.create({ x: 1 })],
    [
      "an object whose prototype has a null prototype",
      () => Object.setPrototypeOf({ a: 1 }, Object.create(null)),
    ],
    [
      "an object two steps from Object.prototype",
      () => Object.create(Object.create(Object.prototype)),
    ],
    ["a class instance", () => new Point()],
    [
      "an object made with Array.prototype",
      () => Object.create(Array.prototype),
    ],
    ["an array with a null prototype", () => Object.setPrototypeOf([1], null)],
    ["an array with an object prototype", () => Object.setPrototypeOf([1], {})],
    ["an Array subclass", () => List.from([1])],
    [
      "an object whose prototype is a Proxy",
      () => Object.create(new Proxy({}, {})),
    ],
    ["an Error", () => new Error("x")],
  ];
  const plain = /expected a plain (object|array)/;

  for (const [name, make] of foreign) {
    it(name, () => {
      invalidAt(
        () => parseEvent(parsed({ payload: { v: make() } })),
        "payload.v",
        plain,
      );
      invalidAt(
        () => parseEvent(parsed({ metadata: { l: [make()] } })),
        "metadata.l[0]",
        plain,
      );
      invalidAt(
        () => createEvent("x", { v: make() } as JsonObject),
        "payload.v",
        plain,
      );
      invalidAt(
        () => fromCloudEvent(cloud({ data: { v: make() } })),
        /^(data|payload)\.v$/,
        plain,
      );
      const asPayload = make();
      if (!Array.isArray(asPayload)) {
        invalidAt(
          () => parseEvent(parsed({ payload: asPayload })),
          "payload",
          plain,
        );
      }
      assertNoPollution();
    });
  }

  it("null-prototype objects are plain (DESIGN): accepted, copied onto Object.prototype", () => {
    const payload = Object.assign(Object.create(null), {
      a: Object.assign(Object.create(null), { b: [1] }),
    });
    const { event } = outcome(() => parseEvent(parsed({ payload }))) as {
      event: DomainEvent;
    };
    assert.deepEqual(JSON.parse(JSON.stringify(event.payload)), {
      a: { b: [1] },
    });
    assert.equal(Object.getPrototypeOf(event.payload), Object.prototype);
    assert.equal(Object.getPrototypeOf(event.payload.a), Object.prototype);
  });
});

describe("bad input: frozen-looking fakes given to dispatch, record and toCloudEvent", () => {
  const fields = () => JSON.parse(sampleJson) as Record<string, unknown>;
  const freezeEnvelope = (f: Record<string, unknown>) => {
    Object.freeze(f.payload);
    Object.freeze(f.metadata);
    return Object.freeze(f);
  };
  const fakes: [string, () => unknown, RegExp][] = [
    [
      "frozen, with a mutable payload",
      () => Object.freeze({ ...fields(), metadata: Object.freeze({}) }),
      /^payload$/,
    ],
    [
      "frozen, with mutable metadata",
      () => Object.freeze({ ...fields(), payload: Object.freeze({}) }),
      /^metadata$/,
    ],
    ["sealed, not frozen", () => Object.seal({ ...sample }), /^$/],
    [
      "not extensible, fields writable",
      () => Object.preventExtensions({ ...sample }),
      /^$/,
    ],
    [
      "frozen, with a bad eventId",
      () => freezeEnvelope({ ...fields(), eventId: "not-a-uuid" }),
      /^eventId$/,
    ],
    [
      "frozen, with whitespace in eventType",
      () => freezeEnvelope({ ...fields(), eventType: "a b" }),
      /^eventType$/,
    ],
    [
      "frozen, with a Date for occurredAt",
      () => freezeEnvelope({ ...fields(), occurredAt: new Date() }),
      /^occurredAt$/,
    ],
    [
      "frozen, with an empty correlationId",
      () => freezeEnvelope({ ...fields(), correlationId: "" }),
      /^correlationId$/,
    ],
    [
      "frozen, with a frozen array as payload",
      () => Object.freeze({ ...sample, payload: Object.freeze([]) }),
      /^payload$/,
    ],
    [
      "frozen, with a frozen null payload",
      () => Object.freeze({ ...sample, payload: null }),
      /^payload$/,
    ],
    [
      "frozen, without metadata",
      () => Object.freeze({ ...sample, metadata: undefined }),
      /^metadata$/,
    ],
    ["a frozen array", () => Object.freeze([...Object.values(sample)]), /^/],
    [
      "a frozen CloudEvent",
      () => Object.freeze(toCloudEvent(sample, { source: SOURCE })),
      /^/,
    ],
  ];

  for (const [name, make, path] of fakes) {
    it(`refuses ${name}: no handler runs, nothing is recorded`, async () => {
      const fake = make() as DomainEvent;
      const error = invalid(() => assertDomainEvent(fake));
      assert.ok(
        error.issues.some((issue) => path.test(issue.path)),
        error.message,
      );
      assert.equal(isDomainEvent(fake), false);
      let ran = 0;
      const dispatcher = new InProcessEventDispatcher({
        onUnhandled: () => ran++,
      });
      dispatcher.registerAny(() => {
        ran++;
      });
      await assert.rejects(dispatcher.dispatch(fake), InvalidEventError);
      await assert.rejects(
        dispatcher.dispatchAll([sample, fake]),
        InvalidEventError,
      );
      assert.equal(ran, 0);
      const recorder = new EventRecorder();
      assert.throws(() => recorder.record(fake), InvalidEventError);
      assert.equal(recorder.size, 0);
      assert.throws(
        () => toCloudEvent(fake, { source: SOURCE }),
        InvalidEventError,
      );
    });
  }

  it("accepts a deep-frozen, hand-built copy (a correct event) and hands it on unchanged", async () => {
    const copy = JSON.parse(sampleJson);
    (function freeze(value: unknown) {
      if (typeof value === "object" && value !== null) {
        Object.values(value).forEach(freeze);
        Object.freeze(value);
      }
    })(copy);
    const dispatcher = new InProcessEventDispatcher();
    let seen: unknown;
    dispatcher.registerAny((event) => {
      seen = event;
    });
    await dispatcher.dispatch(copy);
    assert.equal(seen, copy);
    const recorder = new EventRecorder();
    recorder.record(copy);
    assert.equal(JSON.stringify(recorder.pullEvents()[0]), sampleJson);
  });

  it("documents the cheap guard (DESIGN): a shallow-frozen fake's nested objects are not walked — parseEvent untrusted events first", () => {
    const fake = Object.freeze({
      ...sample,
      payload: Object.freeze({ nested: { mutable: true } }),
    });
    assert.equal(isDomainEvent(fake), true);
    const { error } = outcome(() => parseEvent(fake)) as {
      error?: InvalidEventError;
    };
    assert.equal(error, undefined, "parseEvent makes a deep-frozen copy");
    assert.ok(Object.isFrozen(parseEvent(fake).payload.nested));
  });
});

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

type Mode = NonNullable<DispatcherOptions["errorMode"]>;
type Concurrency = NonNullable<DispatcherOptions["concurrency"]>;
const MODES: Mode[] = ["fail-fast", "collect", "isolate"];
const CONCURRENCIES: Concurrency[] = ["sequential", "parallel"];

describe("faults: 1,000 concurrent dispatches with failing handlers, every mode", () => {
  const DISPATCHES = 1000;
  // Registration order: [name, fails for event i, how it fails or succeeds].
  type Kind = "sync" | "async" | "thenable" | "method";
  const HANDLERS: [string, (i: number) => boolean, Kind][] = [
    ["syncOk", () => false, "sync"],
    ["syncThrows", (i) => i % 3 === 0, "sync"],
    ["asyncOk", () => false, "async"],
    ["asyncRejects", (i) => i % 5 === 0, "async"],
    ["thenableRejects", (i) => i % 7 === 0, "thenable"],
    ["methodThrows", (i) => i % 11 === 0, "method"],
    ["lastOk", () => false, "async"],
  ];
  // Not only Errors are thrown: every kind of value is a failure.
  const reasonFor = (name: string, i: number): unknown =>
    [new Error(`${name} ${i}`), `${name} ${i}`, undefined, null, 0, {
      name,
      i,
    }][
      i % 6
    ];

  function setup(errorMode: Mode, concurrency: Concurrency) {
    const runs = new Set<string>();
    const reported: HandlerError[] = [];
    const reasons = new Map<string, unknown>();
    const dispatcher = new InProcessEventDispatcher({
      errorMode,
      concurrency,
      onHandlerError: (error) => {
        reported.push(error);
      },
    });
    for (const [name, fails, kind] of HANDLERS) {
      const failure = (event: DomainEvent) => {
        const i = event.payload.i as number;
        runs.add(`${i}:${name}`);
        if (!fails(i)) return undefined;
        const reason = reasonFor(name, i);
        reasons.set(`${i}:${name}`, reason);
        return { reason };
      };
      // Waits a microtask or a macrotask, so dispatches interleave.
      const wait = (i: number) => i % 2 ? Promise.resolve() : macrotask();
      let handler: EventHandler;
      if (kind === "sync") {
        handler = (event) => {
          const failed = failure(event);
          if (failed) throw failed.reason;
        };
      } else if (kind === "async") {
        handler = async (event) => {
          const failed = failure(event);
          await wait(event.payload.i as number);
          if (failed) throw failed.reason;
        };
      } else if (kind === "thenable") {
        handler = (event) => {
          const failed = failure(event);
          return {
            then(resolve: (v: unknown) => void, reject: (r: unknown) => void) {
              setTimeout(
                () => failed ? reject(failed.reason) : resolve(undefined),
                0,
              );
            },
          };
        };
      } else {
        handler = {
          handle(event: DomainEvent) {
            const failed = failure(event);
            if (failed) throw failed.reason;
          },
        };
      }
      if (typeof handler === "function") {
        Object.defineProperty(handler, "name", { value: name });
      } else {
        Object.defineProperty(handler, "constructor", { value: { name } });
      }
      dispatcher.register("load", handler);
    }
    return { dispatcher, runs, reported, reasons };
  }

  for (const errorMode of MODES) {
    for (const concurrency of CONCURRENCIES) {
      it(`${errorMode}, ${concurrency}: exact failures, every handler that should run ran, nothing unhandled`, async () => {
        await assertNoUnhandledRejection(async () => {
          const { dispatcher, runs, reported, reasons } = setup(
            errorMode,
            concurrency,
          );
          const events = Array.from(
            { length: DISPATCHES },
            (_, i) => createEvent("load", { i }),
          );
          const settled = await Promise.allSettled(
            events.map((e) => dispatcher.dispatch(e)),
          );

          // What a model of the contract expects, event by event.
          const expectedRuns = new Set<string>();
          const expectedFailures: string[] = [];
          let expectedRejections = 0;
          const stopsAtFirst = errorMode === "fail-fast" &&
            concurrency === "sequential";
          for (let i = 0; i < DISPATCHES; i++) {
            const failing = HANDLERS.filter(([, fails]) => fails(i)).map((
              [n],
            ) => n);
            if (failing.length && errorMode !== "isolate") expectedRejections++;
            for (const [name] of HANDLERS) {
              expectedRuns.add(`${i}:${name}`);
              if (failing.includes(name)) {
                expectedFailures.push(`${i}:${name}`);
                if (stopsAtFirst) break;
              }
            }
          }

          assert.deepEqual(
            [...runs].sort(),
            [...expectedRuns].sort(),
            "handler runs",
          );
          const failures: HandlerError[] = [...reported];
          let rejections = 0;
          settled.forEach((result, i) => {
            if (result.status === "fulfilled") return;
            rejections++;
            const error = result.reason;
            if (errorMode === "collect") {
              assert.ok(error instanceof DispatchError, safeDescribe(error));
              assert.equal(error.event, events[i]);
              failures.push(...error.errors);
            } else {
              assert.ok(error instanceof HandlerError, safeDescribe(error));
              failures.push(error);
              // fail-fast rejects with the first failure in registration order.
              const first = HANDLERS.find(([, fails]) => fails(i))?.[0];
              assert.equal(error.handlerName, first);
            }
          });
          assert.equal(rejections, expectedRejections, "rejected dispatches");
          // Only isolate and parallel fail-fast report through onHandlerError.
          if (errorMode === "collect" || stopsAtFirst) {
            assert.equal(reported.length, 0, "onHandlerError calls");
          }
          const keys = failures.map((error) => {
            assert.ok(error instanceof HandlerError);
            const key = `${error.event.payload.i}:${error.handlerName}`;
            assert.equal(error.event, events[error.event.payload.i as number]);
            assert.equal(error.cause, reasons.get(key), key);
            return key;
          });
          assert.equal(
            keys.length,
            expectedFailures.length,
            "failures reported",
          );
          assert.deepEqual(
            keys.sort(),
            expectedFailures.sort(),
            "each failure reported exactly once",
          );
        });
      });
    }
  }

  it("onHandlerError that throws: the dispatch rejects with what it threw, nothing unhandled", async () => {
    await assertNoUnhandledRejection(async () => {
      for (const concurrency of CONCURRENCIES) {
        const thrown = new Error("reporter down");
        const dispatcher = new InProcessEventDispatcher({
          errorMode: "isolate",
          concurrency,
          onHandlerError: () => {
            throw thrown;
          },
        });
        dispatcher.register("x", () => {
          throw new Error("sync");
        });
        dispatcher.register("x", async () => {
          await macrotask();
          throw new Error("async");
        });
        const results = await Promise.allSettled(
          Array.from(
            { length: 100 },
            () => dispatcher.dispatch(createEvent("x")),
          ),
        );
        for (const result of results) {
          assert.equal(result.status, "rejected");
          assert.equal((result as PromiseRejectedResult).reason, thrown);
        }
      }
    });
  });
});

describe("faults: re-entrancy", () => {
  /** A small deterministic PRNG, so a failure can be replayed. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
  }

  for (const concurrency of CONCURRENCIES) {
    it(`${concurrency}: handlers (un)registering during 1,000 concurrent dispatches — each dispatch runs exactly the handlers registered when it started, in order`, async () => {
      await assertNoUnhandledRejection(async () => {
        const next = random(7);
        const dispatcher = new InProcessEventDispatcher({ concurrency });
        // A mirror of the registrations, kept in step with the dispatcher.
        const own: { id: number; off: () => void }[] = [];
        const any: { id: number; off: () => void }[] = [];
        const runs = new Map<number, number[]>();
        let ids = 0;
        const add = (list: typeof own, isAny: boolean) => {
          const id = ids++;
          const handler = async (event: DomainEvent) => {
            const n = event.payload.n as number;
            runs.set(n, [...(runs.get(n) ?? []), id]);
            // Churn: register or unregister someone, at random, mid-dispatch.
            mutate();
            if (next() < 0.5) await macrotask();
            mutate();
          };
          const off = isAny
            ? dispatcher.registerAny(handler)
            : dispatcher.register("t", handler);
          list.push({ id, off });
        };
        const mutate = () => {
          const roll = next();
          const list = next() < 0.7 ? own : any;
          if (roll < 0.5 || list.length < 2) add(list, list === any);
          else {
            const [gone] = list.splice(Math.floor(next() * list.length), 1);
            gone?.off();
            gone?.off(); // twice is harmless
          }
        };
        for (let i = 0; i < 5; i++) add(own, false);
        for (let i = 0; i < 2; i++) add(any, true);

        const expected = new Map<number, number[]>();
        const pending: Promise<void>[] = [];
        for (let n = 0; n < 1000; n++) {
          expected.set(n, [...own, ...any].map((entry) => entry.id));
          pending.push(dispatcher.dispatch(createEvent("t", { n })));
          if (n % 10 === 0) await Promise.resolve();
        }
        await Promise.all(pending);
        for (let n = 0; n < 1000; n++) {
          assert.deepEqual(runs.get(n) ?? [], expected.get(n), `dispatch ${n}`);
        }
        assert.equal(dispatcher.handlerCount("t"), own.length + any.length);
        assert.ok(ids > 1000, `churned ${ids} registrations`);
      });
    });
  }

  it("clear() and unregister during a dispatch take effect from the next one", async () => {
    const seen: string[] = [];
    let unhandled = 0;
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: () => unhandled++,
    });
    const later = async () => {
      await Promise.resolve();
      seen.push("later");
    };
    dispatcher.register("x", async () => {
      seen.push("first");
      dispatcher.unregister("x", later);
      dispatcher.clear();
      await macrotask();
    });
    dispatcher.register("x", later);
    await dispatcher.dispatch(createEvent("x"));
    await dispatcher.dispatch(createEvent("x"));
    assert.deepEqual(seen, ["first", "later"]);
    assert.equal(unhandled, 1);
  });

  for (const errorMode of MODES) {
    for (const concurrency of CONCURRENCIES) {
      it(`${errorMode}, ${concurrency}: 1,000 concurrent A → B → A publish loops all stop at maxDepth`, async () => {
        await assertNoUnhandledRejection(async () => {
          const maxDepth = 5;
          const reported: HandlerError[] = [];
          const dispatcher = new InProcessEventDispatcher({
            errorMode,
            concurrency,
            maxDepth,
            onHandlerError: (error) => {
              reported.push(error);
            },
          });
          let handled = 0;
          for (const [from, to] of [["a", "b"], ["b", "a"]] as const) {
            dispatcher.register(from, () => {
              handled++;
            });
            dispatcher.register(from, async (_event, { publish }) => {
              await publish(to);
            });
          }
          const settled = await Promise.allSettled(
            Array.from(
              { length: 1000 },
              () => dispatcher.dispatch(createEvent("a")),
            ),
          );
          assert.equal(handled, 1000 * (maxDepth + 1), "events handled");
          const refusals: unknown[] = [];
          for (const result of settled) {
            if (errorMode === "isolate") {
              assert.equal(result.status, "fulfilled");
              continue;
            }
            assert.equal(result.status, "rejected");
            const errors = chain((result as PromiseRejectedResult).reason);
            // One HandlerError per level, then the refusal.
            assert.equal(
              errors.filter((e) => e instanceof HandlerError).length,
              maxDepth + 1,
            );
            refusals.push(errors.at(-1));
          }
          if (errorMode === "isolate") {
            assert.equal(reported.length, 1000, "one report per loop");
            for (const error of reported) refusals.push(error.cause);
          } else assert.equal(reported.length, 0);
          assert.equal(refusals.length, 1000);
          for (const refusal of refusals) {
            assert.ok(refusal instanceof MaxDepthExceededError);
            assert.equal(refusal.maxDepth, maxDepth);
          }
        });
      });
    }
  }

  it("a fan-out loop (each event publishes two) stops at maxDepth: exactly 2^(maxDepth+1) - 1 events", async () => {
    await assertNoUnhandledRejection(async () => {
      const maxDepth = 8;
      const reported: HandlerError[] = [];
      const dispatcher = new InProcessEventDispatcher({
        errorMode: "isolate",
        concurrency: "parallel",
        maxDepth,
        onHandlerError: (error) => {
          reported.push(error);
        },
      });
      let handled = 0;
      dispatcher.register("split", async (_event, { publish }) => {
        handled++;
        await Promise.all([publish("split"), publish("split")]);
      });
      await dispatcher.dispatch(createEvent("split"));
      assert.equal(handled, 2 ** (maxDepth + 1) - 1);
      assert.equal(
        reported.length,
        2 ** maxDepth,
        "one failure per leaf handler",
      );
      for (const error of reported) {
        assert.ok(error.cause instanceof MaxDepthExceededError);
      }
    });
  });

  it("a handler re-dispatching its own event is stopped at maxDepth; maxDepth 0 refuses any publish", async () => {
    for (const maxDepth of [0, 1, 32]) {
      const dispatcher = new InProcessEventDispatcher({ maxDepth });
      let runs = 0;
      dispatcher.register("echo", async (event, context) => {
        runs++;
        await context.dispatch(event);
      });
      await assert.rejects(
        dispatcher.dispatch(createEvent("echo")),
        (error) => {
          assert.ok(chain(error).at(-1) instanceof MaxDepthExceededError);
          return true;
        },
      );
      assert.equal(runs, maxDepth + 1);
    }
  });
});
