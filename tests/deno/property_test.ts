// Property-based tests, ported from the Python original's hypothesis suite
// (Deno only: fast-check comes from the import map).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createEvent,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "../../mod.ts";
import type { DomainEvent, JsonObject, JsonValue } from "../../mod.ts";

const NUM_RUNS = 200;

type Path = (string | number)[];

/** Formats a path the way the library documents it: `payload.items[2]["a b"]`. */
function formatPath(root: string, path: Path): string {
  let text = root;
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

/** Every object and array inside `value` (itself included), with its path. */
function containers(value: unknown, path: Path = []): [Path, object][] {
  if (typeof value !== "object" || value === null) return [];
  const found: [Path, object][] = [[path, value]];
  for (const [key, item] of Object.entries(value)) {
    found.push(
      ...containers(item, [...path, Array.isArray(value) ? Number(key) : key]),
    );
  }
  return found;
}

/** Whether any object in `value` has a `__proto__` own key. */
function hasProtoKey(value: unknown): boolean {
  return containers(value).some(([, container]) =>
    !Array.isArray(container) &&
    Object.prototype.hasOwnProperty.call(container, "__proto__")
  );
}

/** Whether `value` holds a -0 (kept by createEvent, written as 0 by JSON). */
function hasNegativeZero(value: unknown): boolean {
  if (Object.is(value, -0)) return true;
  return typeof value === "object" && value !== null &&
    Object.values(value).some(hasNegativeZero);
}

/** Like JSON.parse(JSON.stringify(value)), but keeps -0. */
function plain(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(plain);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: plain(item),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

const jsonValue = fc.jsonValue({ maxDepth: 6 });
const jsonObject = fc.dictionary(fc.string(), jsonValue, {
  maxKeys: 8,
}) as fc.Arbitrary<JsonObject>;
const unicodeObject = fc.dictionary(
  fc.string({ unit: "binary" }),
  fc.jsonValue({ maxDepth: 4, stringUnit: "binary" }),
  {
    maxKeys: 5,
  },
) as fc.Arbitrary<JsonObject>;
const eventType = fc.string({ minLength: 1, maxLength: 40 }).filter((type) =>
  /^[^\s\p{Cc}]+$/u.test(type)
);
const traceId = fc.option(fc.stringMatching(/^[\x21-\x7e]{1,128}$/), {
  nil: null,
});
const occurredAt = fc.date({ noInvalidDate: true });

describe("property: JSON round trip", () => {
  it("any JSON payload and metadata round-trip through JSON.stringify + parseEvent", () => {
    fc.assert(
      fc.property(
        eventType,
        fc.oneof(jsonObject, unicodeObject),
        jsonObject,
        fc.uuid(),
        occurredAt,
        traceId,
        traceId,
        (type, payload, metadata, eventId, at, correlationId, causationId) => {
          const create = () =>
            createEvent(type, payload, {
              metadata,
              eventId,
              occurredAt: at,
              correlationId,
              causationId,
            });
          if (hasProtoKey(payload) || hasProtoKey(metadata)) {
            assert.throws(create, (error: unknown) => {
              assert.ok(error instanceof InvalidEventError);
              assert.match(error.issues[0]?.path ?? "", /(^|\.)__proto__$/);
              return true;
            });
            return;
          }
          const event = create();
          assert.deepEqual(event.payload, plain(payload));
          assert.deepEqual(event.metadata, plain(metadata));
          assert.equal(event.occurredAt, at.toISOString());

          const copy = parseEvent(JSON.stringify(event));
          assert.ok(isDomainEvent(copy));
          assert.equal(JSON.stringify(copy), JSON.stringify(event));
          if (!hasNegativeZero(payload) && !hasNegativeZero(metadata)) {
            assert.deepEqual(copy, event);
          }
          assert.deepEqual(parseEvent(JSON.parse(JSON.stringify(event))), copy);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("parseEvent answers any input with an event or an InvalidEventError", () => {
    const valid = JSON.stringify(
      createEvent("valid.event", { a: [1, { b: "c" }] }),
    );
    const garbage = fc.oneof(
      fc.anything({
        withNullPrototype: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withTypedArray: true,
      }),
      fc.string(),
      fc.json(),
      // The valid event's text, cut or with a character replaced.
      fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 2 })).map((
        [at, text],
      ) => valid.slice(0, at) + text + valid.slice(at + 1)),
    );
    fc.assert(
      fc.property(garbage, (input) => {
        try {
          assert.ok(isDomainEvent(parseEvent(input)));
        } catch (error) {
          assert.ok(error instanceof InvalidEventError, String(error));
          assert.ok(error.issues.length > 0);
        }
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });
});

describe("property: ids", () => {
  it("eventIds are unique across many creations", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        eventType,
        (count, type) => {
          const ids = new Set<string>();
          for (let i = 0; i < count; i++) ids.add(createEvent(type).eventId);
          assert.equal(ids.size, count);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("causedBy links every event of a chain to the root's correlation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        traceId,
        (length, correlationId) => {
          const root = createEvent("root", {}, { correlationId });
          let parent: DomainEvent = root;
          for (let i = 0; i < length; i++) {
            const child = createEvent("child", {}, { causedBy: parent });
            assert.equal(child.causationId, parent.eventId);
            assert.equal(child.correlationId, correlationId ?? root.eventId);
            parent = child;
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("property: immutability", () => {
  const operations = [
    "assign",
    "add",
    "delete",
    "define",
    "push",
    "truncate",
    "prototype",
  ] as const;

  it("mutation is refused at every depth, and leaves the event unchanged", () => {
    fc.assert(
      fc.property(
        jsonObject.filter((payload) => !hasProtoKey(payload)),
        fc.nat(),
        fc.constantFrom(...operations),
        (payload, pick, operation) => {
          const event = createEvent("test.event", payload);
          const before = JSON.stringify(event);
          const all = containers(event.payload);
          const [, target] = all[pick % all.length] ?? [[], event.payload];
          const record = target as Record<string, unknown>;
          const keys = Object.keys(target);
          const attempt = (): unknown => {
            switch (operation) {
              case "assign":
                return record[keys[0] ?? "new"] = "changed";
              case "add":
                return record[
                  Array.isArray(target) ? keys.length : "added key"
                ] = 1;
              case "delete":
                // Deleting a key that does not exist is not a mutation, so add instead.
                return keys.length > 0
                  ? delete record[keys[0] ?? ""]
                  : (record.added = 1);
              case "define":
                return Object.defineProperty(target, "defined", { value: 1 });
              case "push":
                return Array.isArray(target)
                  ? target.push(1)
                  : Object.assign(target, { pushed: 1 });
              case "truncate":
                return Array.isArray(target)
                  ? (target.length = 0)
                  : Object.assign(target, { truncated: 1 });
              case "prototype":
                return Object.setPrototypeOf(
                  target,
                  Array.isArray(target) ? Object.prototype : null,
                );
            }
          };
          if (
            operation === "truncate" && Array.isArray(target) &&
              target.length === 0 ||
            operation === "assign" && keys.length > 0 &&
              Object.is(record[keys[0] ?? ""], "changed")
          ) {
            return; // not a change, so nothing to refuse
          }
          assert.throws(attempt, TypeError);
          assert.equal(JSON.stringify(event), before);
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("every object and array of an event is frozen", () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (payload, metadata) => {
        fc.pre(!hasProtoKey(payload) && !hasProtoKey(metadata));
        const event = createEvent("test.event", payload, { metadata });
        for (const [path, container] of containers(event)) {
          assert.ok(Object.isFrozen(container), formatPath("event", path));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("the caller's objects are never frozen, aliased or changed", () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (payload, metadata) => {
        fc.pre(!hasProtoKey(payload) && !hasProtoKey(metadata));
        const payloadText = JSON.stringify(payload);
        const event = createEvent("test.event", payload, { metadata });
        const originals = new Set<object>(
          [...containers(payload), ...containers(metadata)].map(([, c]) => c),
        );
        for (const original of originals) {
          assert.equal(Object.isFrozen(original), false);
        }
        for (const [path, copy] of containers(event)) {
          assert.equal(
            originals.has(copy),
            false,
            `aliased at ${formatPath("event", path)}`,
          );
        }
        assert.equal(JSON.stringify(payload), payloadText);
        const eventText = JSON.stringify(event);
        // Changing every original container afterwards leaves the event as it was.
        for (const original of originals) {
          if (Array.isArray(original)) original.push("mutated");
          else (original as Record<string, unknown>).mutated = true;
        }
        assert.equal(JSON.stringify(event), eventText);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("property: refusals name the path", () => {
  class Money {
    amount = 1;
  }
  // [value, message] of values that are not JSON data; `undefined` only in arrays.
  const badValues: [() => unknown, string][] = [
    [() => NaN, "expected a finite number, got NaN"],
    [() => Infinity, "expected a finite number, got Infinity"],
    [() => -Infinity, "expected a finite number, got -Infinity"],
    [() => () => 1, "expected JSON data, got a function"],
    [() => Symbol("s"), "expected JSON data, got a symbol"],
    [() => 10n, "expected JSON data, got a bigint"],
    [() => new Date(0), "expected a plain object, got Date"],
    [() => new Map(), "expected a plain object, got Map"],
    [() => new Set(), "expected a plain object, got Set"],
    [() => /re/, "expected a plain object, got RegExp"],
    [() => new Money(), "expected a plain object, got Money"],
    [() => new Uint8Array(1), "expected a plain object, got Uint8Array"],
  ];

  it("any non-JSON value at a random path is refused with that path", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("payload", "metadata"),
        jsonObject.filter((value) => !hasProtoKey(value)),
        fc.nat(),
        fc.constantFrom(...badValues),
        fc.oneof(fc.string(), fc.constantFrom("a", "a b", "0", "", "$x", "é"))
          .filter((key) => key !== "__proto__"),
        fc.constantFrom("value", "undefined in an array", "cycle"),
        (root, generated, pick, [makeBad, badMessage], key, kind) => {
          const data = structuredClone(generated);
          const all = containers(data);
          const [path, target] = all[pick % all.length] ?? [[], data];
          let at: Path;
          let bad: unknown = makeBad();
          let message = badMessage;
          if (kind === "cycle") {
            bad = data;
            message = "expected JSON data, got a cycle";
          }
          if (Array.isArray(target)) {
            at = [...path, target.length];
            if (kind === "undefined in an array") {
              bad = undefined;
              message = "expected JSON data, got undefined";
            }
            target.push(bad);
          } else {
            at = [...path, key];
            (target as Record<string, unknown>)[key] = bad;
          }
          const options = root === "payload" ? {} : { metadata: data };
          assert.throws(
            () =>
              createEvent(
                "test.event",
                root === "payload" ? data : {},
                options,
              ),
            (error: unknown) => {
              assert.ok(error instanceof InvalidEventError, String(error));
              assert.deepEqual(error.issues, [{
                path: formatPath(root, at),
                message,
              }]);
              return true;
            },
          );
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("any payload nested deeper than 64 levels is refused at level 65", () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 0, maxLength: 80 }),
        (kinds) => {
          // payload = { k: c1 }, where container c1 holds c2 ... holds 1; true makes an array.
          // The payload is level 1, so c(i) is level i + 1.
          let value: JsonValue = 1;
          for (let i = kinds.length - 1; i >= 0; i--) {
            value = kinds[i] ? [value] : { k: value };
          }
          const payload = { k: value };
          if (kinds.length + 1 <= 64) {
            assert.deepEqual(
              createEvent("test.event", payload).payload,
              payload,
            );
            return;
          }
          const path: Path = [
            "k",
            ...kinds.slice(0, 63).map((isArray) => isArray ? 0 : "k"),
          ];
          assert.throws(
            () => createEvent("test.event", payload),
            (error: unknown) => {
              assert.ok(error instanceof InvalidEventError);
              assert.deepEqual(error.issues, [{
                path: formatPath("payload", path),
                message: "expected at most 64 levels of nesting, got more",
              }]);
              return true;
            },
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
