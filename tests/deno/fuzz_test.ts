// Fuzzing (issue #7, Deno only: fast-check from the import map, node:vm for
// objects of another realm). Whatever parseEvent and fromCloudEvent are
// given, they return a correct event or throw InvalidEventError, and leave
// the built-in prototypes as they were; a model of the dispatcher predicts
// every handler call and every failure report.
//
// Independent oracles: each property decides from DESIGN.md alone whether
// an input is valid and what event it must give, then checks the library
// agrees (accepts exactly the valid inputs, with no silent fix-up).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import fc from "fast-check";
import {
  createEvent,
  DispatchError,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../../cloudevents.ts";
import type {
  DispatcherOptions,
  DomainEvent,
  EventHandler,
  JsonObject,
} from "../../mod.ts";
import { assertDeepFrozen, FIELDS } from "../_helpers.ts";

/** Runs per property; FUZZ_RUNS=10000 for a long soak. */
const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 2000);
type Field = typeof FIELDS[number];

// ---------------------------------------------------------------------------
// Oracles, from DESIGN.md
// ---------------------------------------------------------------------------

// The oracles read strings one character at a time, without the library's
// regular expressions: a mistake in one of those would not pass both.

const HEX = "0123456789abcdefABCDEF";
const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** 8-4-4-4-12 hex digits, either case. */
function isUuid(value: string): boolean {
  if (value.length !== 36) return false;
  for (let index = 0; index < 36; index++) {
    const char = value[index] as string;
    const dash = index === 8 || index === 13 || index === 18 || index === 23;
    if (dash ? char !== "-" : !HEX.includes(char)) return false;
  }
  return true;
}

/** A control character (Unicode category Cc): U+0000-U+001F, U+007F-U+009F. */
function isControl(char: string): boolean {
  const code = char.codePointAt(0) as number;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** Whitespace as JavaScript knows it: what String#trim removes. */
function isWhitespace(char: string): boolean {
  return char.trim() === "";
}

/** 1-256 characters (code points), none whitespace or control. */
function isEventType(value: string): boolean {
  const chars = [...value];
  return chars.length >= 1 && chars.length <= 256 &&
    chars.every((char) => !isWhitespace(char) && !isControl(char));
}

/** 1-128 printable ASCII characters other than space (U+0021-U+007E). */
function isTraceId(value: string): boolean {
  if (value.length < 1 || value.length > 128) return false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/** A CloudEvents source: not empty, no whitespace. */
function isSource(value: string): boolean {
  return value.length > 0 && ![...value].some(isWhitespace);
}

/**
 * A JSON media type: `type/subtype` before any `;`, the subtype (trailing
 * whitespace aside, any case) `json` or ending in `+json`.
 */
function isJsonMediaType(value: string): boolean {
  const essence = value.split(";")[0] as string;
  const slash = essence.indexOf("/");
  if (slash < 1) return false;
  const subtype = essence.slice(slash + 1).trimEnd().toLowerCase();
  return subtype === "json" || subtype.endsWith("+json");
}

/** A CloudEvents extension name: a-z and 0-9 only, not empty. */
function isAttributeName(name: string): boolean {
  return name.length > 0 &&
    [...name].every((char) => LOWER_ALNUM.includes(char));
}

function validEnvelopeField(field: Field, value: unknown): boolean {
  switch (field) {
    case "eventId":
      return typeof value === "string" && isUuid(value);
    case "eventType":
      // 1..256 characters, no whitespace or control characters.
      return typeof value === "string" && isEventType(value);
    case "occurredAt": {
      if (typeof value !== "string") return false;
      const time = Date.parse(value);
      return !Number.isNaN(time) && new Date(time).toISOString() === value;
    }
    case "correlationId":
    case "causationId":
      return value === null ||
        typeof value === "string" && isTraceId(value);
    default:
      return isJsonObject(value);
  }
}

/** A JSON object by DESIGN.md: plain, finite, acyclic, no `__proto__`, <= 64 levels. */
function isJsonObject(value: unknown, maxDepth = 64): boolean {
  const ancestors: object[] = [];
  const ok = (item: unknown): boolean => {
    switch (typeof item) {
      case "string":
      case "boolean":
        return true;
      case "number":
        return Number.isFinite(item);
      case "object":
        break;
      default:
        return false;
    }
    if (item === null) return true;
    if (ancestors.includes(item) || ancestors.length >= maxDepth) return false;
    const proto = Object.getPrototypeOf(item);
    ancestors.push(item);
    let result: boolean;
    if (Array.isArray(item)) {
      result = proto === Array.prototype &&
        Array.from({ length: item.length }, (_, i) => item[i]).every((v) =>
          v !== undefined && ok(v)
        );
    } else {
      result = (proto === Object.prototype || proto === null) &&
        !Object.getOwnPropertySymbols(item).some((s) =>
          Object.prototype.propertyIsEnumerable.call(item, s)
        ) &&
        Object.keys(item).every((key) => {
          const v = (item as Record<string, unknown>)[key];
          return key !== "__proto__" && (v === undefined || ok(v));
        });
    }
    ancestors.pop();
    return result;
  };
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    ok(value);
}

/** What a valid JSON value must come out as: plain, undefined properties dropped, -0 kept. */
function normalize(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(normalize);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) copy[key] = normalize(item);
  }
  return copy;
}

/** The event parseEvent must return for a valid set of fields. */
function expectedEvent(fields: Record<string, unknown>): unknown {
  return {
    eventId: (fields.eventId as string).toLowerCase(),
    eventType: fields.eventType,
    occurredAt: fields.occurredAt,
    correlationId: fields.correlationId,
    causationId: fields.causationId,
    payload: normalize(fields.payload),
    metadata: normalize(fields.metadata),
  };
}

/** Calls `fn`: an event (checked) or an InvalidEventError; anything else fails. */
function outcome(fn: () => unknown): DomainEvent | InvalidEventError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    assert.ok(error instanceof InvalidEventError, `escaped: ${String(error)}`);
    assert.ok(error.issues.length > 0);
    for (const issue of error.issues) {
      assert.equal(typeof issue.path, "string");
      assert.ok(issue.message.length > 0);
    }
    return error;
  }
  assert.ok(isDomainEvent(result));
  assertDeepFrozen(result);
  const event = result as DomainEvent;
  for (const part of [event.payload, event.metadata]) {
    for (const [, container] of containers(part)) {
      const proto = Object.getPrototypeOf(container);
      assert.ok(proto === Object.prototype || proto === Array.prototype);
    }
  }
  // JSON.stringify is the serializer: what it writes reads back the same.
  assert.equal(
    JSON.stringify(parseEvent(JSON.stringify(event))),
    JSON.stringify(event),
  );
  return event;
}

function containers(value: unknown): [string, object][] {
  if (typeof value !== "object" || value === null) return [];
  return [
    ["", value],
    ...Object.values(value).flatMap((item) => containers(item)),
  ];
}

// The built-in prototypes, as they are before any property runs.
const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype];
const before = PROTOTYPES.map((proto) =>
  new Map(
    Reflect.ownKeys(proto).map((key) => [
      key,
      Object.getOwnPropertyDescriptor(proto, key)?.value,
    ]),
  )
);

function assertNoPollution(): void {
  PROTOTYPES.forEach((proto, index) => {
    const snapshot = before[index] as Map<PropertyKey, unknown>;
    const keys = Reflect.ownKeys(proto);
    assert.equal(keys.length, snapshot.size, "a prototype gained a property");
    for (const key of keys) {
      assert.equal(
        Object.getOwnPropertyDescriptor(proto, key)?.value,
        snapshot.get(key),
      );
    }
  });
  assert.equal(Object.getPrototypeOf(Object.prototype), null);
}

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

const anything = fc.anything({
  maxDepth: 3,
  maxKeys: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Objects whose keys include `__proto__`, `constructor` and `prototype` as own data. */
const trickyObject: fc.Arbitrary<Record<string, unknown>> = fc.letrec<
  { node: Record<string, unknown>; value: unknown }
>((tie) => ({
  node: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom("__proto__", "constructor", "prototype", "toString"),
        fc.string({ maxLength: 6 }),
      ),
      tie("value"),
    ),
    { maxLength: 4 },
  ).map((entries) => {
    const object: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      Object.defineProperty(object, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }),
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    tie("node"),
    fc.array(tie("value"), { maxLength: 3 }),
  ),
})).node;

/** Objects nested 60 to 70 levels: both sides of the depth limit. */
const nearLimit = fc.integer({ min: 60, max: 70 }).map((levels) => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
});

const payloadLike = fc.oneof(
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 }),
  trickyObject,
  nearLimit,
  anything,
);

const nearUuid = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.tuple(fc.uuid(), fc.nat(35), fc.string({ maxLength: 2 })).map((
    [id, at, text],
  ) => id.slice(0, at) + text + id.slice(at + 1)),
);
const isoDate = fc.date({ noInvalidDate: true }).map((date) =>
  date.toISOString()
);
const nearTime = fc.oneof(
  isoDate,
  isoDate.map((time) => time.replace("Z", "+00:00")),
  isoDate.map((time) => time.replace(".000Z", "Z")),
  isoDate.map((time) => time.toLowerCase()),
  isoDate.map((time) => time.replace("T", " ")),
  fc.constantFrom("2024-02-30T00:00:00.000Z", "2024-01-01T24:00:00.000Z"),
);
const nearType = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.integer({ min: 250, max: 260 }).map((n) => "t".repeat(n)),
  fc.constantFrom("a b", "a\tb", "\u0000", "\u0085", "\u00a0", "a\u2028b"),
);
const nearTraceId = fc.oneof(
  fc.constant(null),
  fc.string({ unit: "binary-ascii", maxLength: 10 }),
  fc.stringMatching(/^[\x21-\x7e]{1,10}$/),
  fc.integer({ min: 126, max: 130 }).map((n) => "x".repeat(n)),
);

const fieldValue: Record<Field, fc.Arbitrary<unknown>> = {
  eventId: fc.oneof(nearUuid, anything),
  eventType: fc.oneof(nearType, anything),
  occurredAt: fc.oneof(nearTime, anything),
  correlationId: fc.oneof(nearTraceId, anything),
  causationId: fc.oneof(nearTraceId, anything),
  payload: payloadLike,
  metadata: payloadLike,
};

/** Valid events, built by createEvent from valid parts. */
const validEvent = fc.record({
  type: fc.stringMatching(/^[a-z]{1,8}(\.[a-z_]{1,8}){0,2}$/),
  payload: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), {
    maxKeys: 5,
  }),
  metadata: fc.dictionary(
    // Extension names, but not those of the CloudEvent's own attributes.
    fc.stringMatching(/^[a-z0-9]{1,8}$/).filter((key) =>
      ![
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "datacontenttype",
        "correlationid",
        "causationid",
        "data",
      ].includes(key)
    ),
    fc.oneof(
      fc.boolean(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.string().filter((text) => !/\p{Cc}/u.test(text)),
    ),
    { maxKeys: 4 },
  ),
  correlationId: fc.option(fc.stringMatching(/^[\x21-\x7e]{1,20}$/), {
    nil: undefined,
  }),
  eventId: fc.uuid(),
  occurredAt: fc.date({ noInvalidDate: true }),
}).filter(({ payload }) => isJsonObject(payload)).map((parts) =>
  createEvent(parts.type, parts.payload as JsonObject, {
    metadata: parts.metadata,
    eventId: parts.eventId,
    occurredAt: parts.occurredAt,
    ...(parts.correlationId === undefined
      ? {}
      : { correlationId: parts.correlationId }),
  })
);

// ---------------------------------------------------------------------------
// parseEvent and fromCloudEvent on garbage
// ---------------------------------------------------------------------------

describe("fuzz: garbage in, InvalidEventError out", () => {
  it("parseEvent on any string: an event or an InvalidEventError, the same as on its parsed value", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.json(),
          validEvent.chain((event) => {
            const text = JSON.stringify(event);
            return fc.tuple(fc.nat(text.length), fc.string({ maxLength: 3 }))
              .map(([at, cut]) => text.slice(0, at) + cut + text.slice(at + 1));
          }),
        ),
        (text) => {
          const result = outcome(() => parseEvent(text));
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            assert.ok(result instanceof InvalidEventError);
            return;
          }
          const fromValue = outcome(() => parseEvent(value));
          assert.equal(
            result instanceof InvalidEventError,
            fromValue instanceof InvalidEventError,
          );
          assertNoPollution();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("parseEvent and fromCloudEvent on anything at all", () => {
    fc.assert(
      fc.property(fc.oneof(anything, trickyObject, fc.jsonValue()), (input) => {
        outcome(() => parseEvent(input));
        outcome(() => fromCloudEvent(input));
        assertNoPollution();
      }),
      { numRuns: RUNS },
    );
  });

  it("fromCloudEvent on any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.json(),
          validEvent.chain((event) => {
            const text = JSON.stringify(toCloudEvent(event, { source: "/s" }));
            return fc.tuple(fc.nat(text.length), fc.string({ maxLength: 3 }))
              .map(([at, cut]) => text.slice(0, at) + cut + text.slice(at + 1));
          }),
        ),
        (text) => {
          outcome(() => fromCloudEvent(text));
          assertNoPollution();
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// One field mutated: the oracle decides
// ---------------------------------------------------------------------------

describe("fuzz: a valid event with one field mutated", () => {
  it("parseEvent accepts exactly what DESIGN.md allows, returns exactly it, and names the field otherwise", () => {
    const mutation = fc.constantFrom(...FIELDS).chain((field) =>
      fc.tuple(
        fc.constant(field),
        fc.oneof(
          { weight: 8, arbitrary: fieldValue[field] },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
      )
    );
    fc.assert(
      fc.property(
        validEvent,
        mutation,
        fc.boolean(),
        (event, [field, value], asText) => {
          const fields: Record<string, unknown> = {
            ...JSON.parse(JSON.stringify(event)),
            unknownField: { __ignored: true },
          };
          fields[field] = value;
          let input: unknown = fields;
          if (asText) {
            // Only what JSON can carry goes through text.
            let text: string | undefined;
            try {
              text = JSON.stringify(fields);
            } catch {
              return;
            }
            if (text === undefined) return;
            input = text;
            Object.assign(fields, JSON.parse(text));
            if (!(field in JSON.parse(text))) fields[field] = undefined;
          }
          const valid = FIELDS.every((f) => validEnvelopeField(f, fields[f]));
          const result = outcome(() => parseEvent(input));
          if (valid) {
            if (result instanceof InvalidEventError) {
              assert.fail(`refused a valid input: ${result.message}`);
            }
            assert.deepEqual({ ...result }, expectedEvent(fields));
            assert.equal("unknownField" in result, false);
          } else {
            assert.ok(result instanceof InvalidEventError, "accepted");
            const paths = result.issues.map((issue) => issue.path);
            assert.equal(paths.length, 1, paths.join(", "));
            const path = paths[0] as string;
            assert.ok(
              path === field || path.startsWith(`${field}.`) ||
                path.startsWith(`${field}[`),
              `${field}: ${path}`,
            );
          }
          assertNoPollution();
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it("fromCloudEvent accepts exactly what its documentation allows, and maps it exactly", () => {
    const KNOWN = [
      "specversion",
      "id",
      "source",
      "type",
      "time",
      "datacontenttype",
      "correlationid",
      "causationid",
      "data",
    ];
    const attribute = fc.oneof(
      fc.constantFrom(...KNOWN),
      fc.stringMatching(/^[a-z0-9]{1,10}$/),
      fc.string({ maxLength: 8 }),
      fc.constantFrom(
        "data_base64",
        "Tenant",
        "__proto__",
        "constructor",
        "eventid",
        "subject",
      ),
    );
    const attributeValue = fc.oneof(
      anything,
      nearUuid,
      nearTime,
      nearType,
      nearTraceId,
      payloadLike,
      fc.constantFrom(
        "1.0",
        "1",
        "/source",
        "has space",
        "",
        "application/json",
        "application/cloudevents+json; charset=utf-8",
        "text/json",
        "application/json-seq",
        "text/plain",
        2 ** 31 - 1,
        2 ** 31,
        -(2 ** 31),
        1.5,
        -0,
        true,
        null,
        "tab\there",
      ),
      // Objects that cannot be converted to a primitive (see the regression test
      // "attribute {"toString":0}" in reliability_test.ts, which this
      // property found).
      fc.constantFrom(
        JSON.parse('{"toString":0}'),
        JSON.parse('{"valueOf":0,"toString":0}'),
        JSON.parse('[{"toString":0}]'),
      ),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        validEvent,
        attribute,
        attributeValue,
        (event, key, value) => {
          const cloud: Record<string, unknown> = JSON.parse(
            JSON.stringify(toCloudEvent(event, { source: "/s" })),
          );
          Object.defineProperty(cloud, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          const {
            specversion,
            source,
            datacontenttype,
            id,
            type,
            time,
            correlationid = null,
            causationid = null,
            data = {},
            ...extensions
          } = cloud;
          // Undefined attributes are absent (JSON cannot carry them).
          for (const [k, v] of Object.entries(extensions)) {
            if (v === undefined) delete extensions[k];
          }
          const extensionOk = (name: string, v: unknown) =>
            v === null ||
            isAttributeName(name) &&
              (typeof v === "boolean" ||
                typeof v === "number" && Number.isInteger(v) &&
                  v >= -(2 ** 31) && v < 2 ** 31 ||
                typeof v === "string" && ![...v].some(isControl));
          // The CloudEvent object is one level above its data.
          const valid = isJsonObject(cloud, 65) &&
            specversion === "1.0" &&
            typeof source === "string" && isSource(source) &&
            (datacontenttype == null ||
              typeof datacontenttype === "string" &&
                isJsonMediaType(datacontenttype)) &&
            validEnvelopeField("eventId", id) &&
            validEnvelopeField("eventType", type) &&
            validEnvelopeField("occurredAt", time) &&
            validEnvelopeField("correlationId", correlationid) &&
            validEnvelopeField("causationId", causationid) &&
            isJsonObject(data) &&
            Object.entries(extensions).every(([k, v]) => extensionOk(k, v));
          const result = outcome(() => fromCloudEvent(cloud));
          if (valid) {
            if (result instanceof InvalidEventError) {
              assert.fail(`refused a valid input: ${result.message}`);
            }
            const metadata = Object.fromEntries(
              Object.entries(extensions).filter(([, v]) => v !== null),
            );
            assert.deepEqual(
              { ...result },
              expectedEvent({
                eventId: id,
                eventType: type,
                occurredAt: time,
                correlationId: correlationid,
                causationId: causationid,
                payload: data,
                metadata,
              }),
            );
          } else {
            assert.ok(
              result instanceof InvalidEventError,
              `accepted ${JSON.stringify(key)}: ${Deno.inspect(value)}`,
            );
          }
          assertNoPollution();
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it("any valid event round-trips exactly through JSON, parseEvent, toCloudEvent and fromCloudEvent", () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        // Through text, compared as text: JSON writes -0 as 0.
        const text = JSON.stringify(event);
        assert.equal(JSON.stringify(parseEvent(text)), text);
        assert.deepEqual(parseEvent(JSON.parse(text)), JSON.parse(text));
        const cloud = toCloudEvent(event, { source: "/s" });
        assert.equal(
          JSON.stringify(fromCloudEvent(JSON.stringify(cloud))),
          text,
        );
        assert.deepEqual(fromCloudEvent(cloud), event);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// Another realm
// ---------------------------------------------------------------------------

describe("fuzz: objects from another realm (node:vm)", () => {
  const otherRealm = vm.createContext({});
  const inOtherRealm = (value: unknown): unknown =>
    vm.runInContext(
      `JSON.parse(${JSON.stringify(JSON.stringify(value))})`,
      otherRealm,
    );

  it("are refused wherever they sit, naming the path (plain means this realm's Object.prototype or null), and nothing is polluted", () => {
    fc.assert(
      fc.property(
        validEvent,
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), {
          minKeys: 1,
          maxKeys: 4,
        }),
        fc.constantFrom("payload", "metadata"),
        fc.boolean(),
        (event, object, field, nested) => {
          const fields = JSON.parse(JSON.stringify(event));
          const foreign = inOtherRealm(nested ? [object] : object);
          assert.notEqual(Object.getPrototypeOf(foreign), Object.prototype);
          fields[field] = nested ? { list: foreign } : foreign;
          const result = outcome(() => parseEvent(fields));
          assert.ok(result instanceof InvalidEventError);
          assert.deepEqual(
            result.issues.map((issue) => issue.path),
            [nested ? `${field}.list` : field],
          );
          assert.match(
            result.issues[0]?.message ?? "",
            /expected a plain (object|array)/,
          );
          // The whole event from the other realm: refused too; its JSON text is the way across.
          const whole = inOtherRealm(event);
          assert.ok(
            outcome(() => parseEvent(whole)) instanceof InvalidEventError,
          );
          assert.ok(
            outcome(() =>
              fromCloudEvent(
                inOtherRealm(toCloudEvent(event, { source: "/s" })),
              )
            ) instanceof
              InvalidEventError,
          );
          assert.equal(
            JSON.stringify(parseEvent(JSON.stringify(whole))),
            JSON.stringify(event),
          );
          assertNoPollution();
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });
});

// ---------------------------------------------------------------------------
// The dispatcher against a model
// ---------------------------------------------------------------------------

describe("fuzz: the dispatcher against a model", () => {
  const TYPES = ["a", "b", "constructor"] as const;
  type Type = typeof TYPES[number];
  type Op =
    | { op: "register"; type: Type; h: number }
    | { op: "registerAny"; h: number }
    | { op: "unregister"; type: Type; h: number }
    | { op: "off"; index: number }
    | { op: "clear" }
    | { op: "dispatch"; type: Type };
  const h = fc.nat(5);
  const type = fc.constantFrom(...TYPES);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("register" as const), type, h }),
    fc.record({ op: fc.constant("registerAny" as const), h }),
    fc.record({ op: fc.constant("unregister" as const), type, h }),
    fc.record({ op: fc.constant("off" as const), index: fc.nat(30) }),
    fc.record({ op: fc.constant("clear" as const) }),
    fc.record({ op: fc.constant("dispatch" as const), type }),
    fc.record({ op: fc.constant("dispatch" as const), type }),
  );

  it("register, registerAny, unregister, Unsubscribe (twice), clear and re-entrant changes: every dispatch calls exactly the model's snapshot, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const dispatcher = new InProcessEventDispatcher();
        // The model: ordered handler indexes per type, null for registerAny.
        const model = new Map<Type | null, number[]>();
        const offs: {
          key: Type | null;
          h: number;
          done: boolean;
          off: () => void;
        }[] = [];
        const calls: number[] = [];
        const modelRegister = (key: Type | null, index: number) => {
          const list = model.get(key) ?? [];
          if (!list.includes(index)) model.set(key, [...list, index]);
        };
        const modelRemove = (key: Type | null, index: number): boolean => {
          const list = model.get(key) ?? [];
          if (!list.includes(index)) return false;
          model.set(key, list.filter((x) => x !== index));
          return true;
        };
        // Handler 5 changes the registrations while it runs: it removes
        // handler 0 from the event's type and adds handler 4 to it.
        const handlers: EventHandler[] = Array.from(
          { length: 6 },
          (_, index) =>
            index === 5
              ? (event: DomainEvent) => {
                calls.push(5);
                dispatcher.unregister(
                  event.eventType,
                  handlers[0] as EventHandler,
                );
                dispatcher.register(
                  event.eventType,
                  handlers[4] as EventHandler,
                );
              }
              : index === 3
              ? { handle: () => void calls.push(3) } // a method handler
              : () => void calls.push(index),
        );
        const handler = (index: number) => handlers[index] as EventHandler;
        for (const step of ops) {
          switch (step.op) {
            case "register":
              modelRegister(step.type, step.h);
              offs.push({
                key: step.type,
                h: step.h,
                done: false,
                off: dispatcher.register(step.type, handler(step.h)),
              });
              break;
            case "registerAny":
              modelRegister(null, step.h);
              offs.push({
                key: null,
                h: step.h,
                done: false,
                off: dispatcher.registerAny(handler(step.h)),
              });
              break;
            case "unregister":
              assert.equal(
                dispatcher.unregister(step.type, handler(step.h)),
                modelRemove(step.type, step.h),
              );
              break;
            case "off": {
              const entry = offs[step.index % Math.max(offs.length, 1)];
              if (!entry) break;
              if (!entry.done) modelRemove(entry.key, entry.h);
              entry.done = true;
              entry.off();
              break;
            }
            case "clear":
              model.clear();
              dispatcher.clear();
              break;
            case "dispatch": {
              const expected = [
                ...(model.get(step.type) ?? []),
                ...(model.get(null) ?? []),
              ];
              calls.length = 0;
              await dispatcher.dispatch(createEvent(step.type));
              assert.deepEqual(calls, expected);
              // Handler 5's changes take effect for the next dispatch.
              for (const index of expected) {
                if (index === 5) {
                  modelRemove(step.type, 0);
                  modelRegister(step.type, 4);
                }
              }
              break;
            }
          }
          for (const t of TYPES) {
            assert.equal(
              dispatcher.handlerCount(t),
              (model.get(t) ?? []).length + (model.get(null) ?? []).length,
            );
          }
          assert.equal(
            dispatcher.handlerCount(),
            [...model.values()].flat().length,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  type Kind = "sync" | "microtask" | "macrotask" | "thenable";
  const handlerSpec = fc.record({
    fails: fc.boolean(),
    kind: fc.constantFrom<Kind>("sync", "microtask", "macrotask", "thenable"),
    reason: fc.oneof(
      fc.string().map((message) => new Error(message)),
      fc.anything({ maxDepth: 1 }),
    ),
  });

  it("any mix of failing and succeeding handlers, in every mode: exact runs and exact reports", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(handlerSpec, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<NonNullable<DispatcherOptions["errorMode"]>>(
          "fail-fast",
          "collect",
          "isolate",
        ),
        fc.constantFrom<NonNullable<DispatcherOptions["concurrency"]>>(
          "sequential",
          "parallel",
        ),
        fc.integer({ min: 1, max: 5 }),
        async (specs, errorMode, concurrency, dispatches) => {
          const reported: HandlerError[] = [];
          const ran: string[] = [];
          const dispatcher = new InProcessEventDispatcher({
            errorMode,
            concurrency,
            onHandlerError: (error) => void reported.push(error),
          });
          specs.forEach((spec, index) => {
            const name = `h${index}`;
            const settle = () => {
              if (spec.fails) throw spec.reason;
            };
            const run = (event: DomainEvent): unknown => {
              ran.push(`${event.payload.n}:${name}`);
              switch (spec.kind) {
                case "sync":
                  return settle();
                case "microtask":
                  return Promise.resolve().then(settle);
                case "macrotask":
                  return new Promise((resolve) => setTimeout(resolve, 0)).then(
                    settle,
                  );
                case "thenable":
                  return {
                    then(ok: (v: unknown) => void, fail: (r: unknown) => void) {
                      queueMicrotask(() =>
                        spec.fails ? fail(spec.reason) : ok(undefined)
                      );
                    },
                  };
              }
            };
            Object.defineProperty(run, "name", { value: name });
            dispatcher.register("x", run);
          });
          const events = Array.from(
            { length: dispatches },
            (_, n) => createEvent("x", { n }),
          );
          const settled = await Promise.allSettled(
            events.map((e) => dispatcher.dispatch(e)),
          );

          const failing = specs.flatMap((spec, i) =>
            spec.fails ? [`h${i}`] : []
          );
          const stops = errorMode === "fail-fast" &&
            concurrency === "sequential";
          const runsPerEvent = stops && failing.length
            ? specs.findIndex((spec) => spec.fails) + 1
            : specs.length;
          assert.deepEqual(
            [...ran].sort(),
            events.flatMap((_, n) =>
              specs.slice(0, runsPerEvent).map((_, i) => `${n}:h${i}`)
            ).sort(),
          );
          const seen: HandlerError[] = [...reported];
          for (const result of settled) {
            if (result.status === "fulfilled") {
              assert.ok(errorMode === "isolate" || failing.length === 0);
              continue;
            }
            assert.ok(failing.length > 0 && errorMode !== "isolate");
            const error = result.reason;
            if (errorMode === "collect") {
              assert.ok(error instanceof DispatchError);
              assert.deepEqual(error.errors.map((e) => e.handlerName), failing);
              seen.push(...error.errors);
            } else {
              assert.ok(error instanceof HandlerError);
              assert.equal(error.handlerName, failing[0]);
              seen.push(error);
            }
          }
          const expected = stops ? failing.slice(0, 1) : failing;
          assert.equal(seen.length, expected.length * dispatches);
          for (const error of seen) {
            const index = Number(error.handlerName.slice(1));
            assert.ok(expected.includes(error.handlerName));
            assert.equal(error.cause, specs[index]?.reason);
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
