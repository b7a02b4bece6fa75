// toCloudEvent / fromCloudEvent: the CloudEvents 1.0 JSON format, round
// trips, metadata as extension attributes, and every refusal.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  type DomainEvent,
  InvalidEventError,
  type JsonObject,
} from "../mod.ts";
import { fromCloudEvent, toCloudEvent } from "../cloudevents.ts";
import { assertInvalid } from "./_helpers.ts";

const ID = "5b7c2f5e-8a8e-4e39-9f43-8e4a8f0c1d2b";
const TIME = "2024-01-14T10:30:00.000Z";
const SOURCE = "https://example.com/invites";
const NAME_MESSAGE = "expected an attribute name of a-z and 0-9 only, got ";
const CLASH_MESSAGE = "expected a name no other attribute has, got ";
const VALUE_MESSAGE = "expected a string, boolean or int32 value, got ";

/** Asserts that `fn` throws an InvalidEventError with one issue at `path`. */
function assertInvalidAt(fn: () => unknown, path: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidEventError, String(error));
    assert.deepEqual(error.issues.map((issue) => issue.path), [path]);
    return true;
  });
}

/** A valid CloudEvent as this library writes it, with fields replaced. */
function cloudEvent(
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: ID,
    source: SOURCE,
    type: "invite.created",
    time: TIME,
    datacontenttype: "application/json",
    data: { email: "ada@example.com" },
    ...fields,
  };
}

function withMetadata(metadata: JsonObject): DomainEvent {
  return createEvent("invite.created", {}, { metadata });
}

describe("toCloudEvent", () => {
  it("writes the required and optional attributes of the JSON format, ids left out when null", () => {
    const event = createEvent("invite.created", { email: "ada@example.com" }, {
      eventId: ID,
      occurredAt: TIME,
    });
    const written = toCloudEvent(event, { source: SOURCE });
    assert.deepEqual(written, cloudEvent());
    assert.deepEqual(Object.keys(written), [
      "specversion",
      "id",
      "source",
      "type",
      "time",
      "datacontenttype",
      "data",
    ]);
    assert.equal(
      written.data,
      event.payload,
      "the frozen payload is shared, not copied",
    );
    assert.ok(!Object.isFrozen(written), "a new object the caller may extend");
  });

  it("writes correlationId and causationId as the correlation extension's attributes", () => {
    const root = createEvent("invite.created", {}, { correlationId: "req-42" });
    const child = createEvent("invite.email_sent", {}, { causedBy: root });
    const written = toCloudEvent(child, { source: "/invites" });
    assert.equal(written.correlationid, "req-42");
    assert.equal(written.causationid, root.eventId);
    const correlated = toCloudEvent(root, { source: "/invites" });
    assert.equal(correlated.correlationid, "req-42");
    assert.ok(!("causationid" in correlated));
  });

  it("writes each metadata key as an extension attribute with the same value", () => {
    const metadata = {
      tenant: "acme",
      retry: 3,
      min: -(2 ** 31),
      max: 2 ** 31 - 1,
      replayed: false,
      subject: "invite/inv_1",
      averyveryverylongattributename: "",
      unicode: "√ ☃ 😀",
    };
    const written = toCloudEvent(withMetadata(metadata), { source: "urn:x" });
    for (const [key, value] of Object.entries(metadata)) {
      assert.equal(written[key], value, key);
    }
  });

  it("types its result from the event", () => {
    const InviteCreated = defineEvent<"invite.created", { email: string }>(
      "invite.created",
    );
    const written = toCloudEvent(
      InviteCreated.create({ email: "ada@example.com" }),
      {
        source: "/invites",
      },
    );
    const type: "invite.created" = written.type;
    const email: string = written.data.email;
    assert.equal(type, "invite.created");
    assert.equal(email, "ada@example.com");
  });

  it("refuses a value that is not an event", () => {
    assert.throws(
      () =>
        toCloudEvent({ eventType: "x" } as unknown as DomainEvent, {
          source: "/x",
        }),
      InvalidEventError,
    );
  });

  for (const source of [undefined, "", " ", "/a b", "/a\n", 42, null]) {
    it(`refuses the source ${JSON.stringify(source)}`, () => {
      assertInvalidAt(
        () => toCloudEvent(createEvent("x"), { source } as { source: string }),
        "source",
      );
    });
  }

  it("refuses a missing options object", () => {
    assertInvalidAt(
      () =>
        toCloudEvent(
          createEvent("x"),
          undefined as unknown as { source: string },
        ),
      "source",
    );
  });

  const badKeys = [
    "tenantId",
    "tenant_id",
    "tenant-id",
    "Tenant",
    "ténant",
    "",
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "data",
    "correlationid",
    "causationid",
  ];
  for (const key of badKeys) {
    it(`refuses the metadata key ${JSON.stringify(key)}: no silent loss, no clash`, () => {
      assertInvalid(
        () => toCloudEvent(withMetadata({ [key]: "v" }), { source: "/x" }),
        [{
          path: /^[a-z_]\w*$/i.test(key)
            ? `metadata.${key}`
            : `metadata[${JSON.stringify(key)}]`,
          message: (/^[a-z\d]+$/.test(key) ? CLASH_MESSAGE : NAME_MESSAGE) +
            JSON.stringify(key),
        }],
      );
    });
  }

  const badValues: [string, JsonObject[string], string][] = [
    ["null (it would read back as absent)", null, "null"],
    ["a fraction", 1.5, "1.5"],
    ["2 ** 31", 2 ** 31, "2147483648"],
    ["-(2 ** 31) - 1", -(2 ** 31) - 1, "-2147483649"],
    ["an object", { a: 1 }, "an object"],
    ["an array", ["a"], "Array"],
    ["a newline", "a\nb", '"a\\nb"'],
    ["a C1 control character", "a\x85b", '"a\x85b"'],
  ];
  for (const [name, value, described] of badValues) {
    it(`refuses a metadata value that is ${name}`, () => {
      assertInvalid(
        () => toCloudEvent(withMetadata({ tenant: value }), { source: "/x" }),
        [{
          path: "metadata.tenant",
          message: VALUE_MESSAGE + described,
        }],
      );
    });
  }
});

describe("fromCloudEvent", () => {
  it("reads a CloudEvent object into a frozen event", () => {
    const event = fromCloudEvent(cloudEvent({ id: ID.toUpperCase() }));
    assert.deepEqual(event, {
      eventId: ID,
      eventType: "invite.created",
      occurredAt: TIME,
      correlationId: null,
      causationId: null,
      payload: { email: "ada@example.com" },
      metadata: {},
    });
    assert.ok(Object.isFrozen(event) && Object.isFrozen(event.payload));
  });

  it("reads the same CloudEvent from JSON text", () => {
    assert.deepEqual(
      fromCloudEvent(JSON.stringify(cloudEvent())),
      fromCloudEvent(cloudEvent()),
    );
  });

  it("round-trips a root event, a chain and metadata exactly, as objects and as JSON", () => {
    const root = createEvent("invite.created", {
      email: "ada@example.com",
      seats: [1, 2],
    });
    const correlated = createEvent("invite.created", {}, {
      correlationId: "req-42",
      metadata: { tenant: "acme", retry: 2, replayed: true },
    });
    const child = createEvent("invite.email_sent", { to: "ada@example.com" }, {
      causedBy: correlated,
    });
    const explicit = createEvent("x", {}, { causationId: "cmd-1" });
    for (const event of [root, correlated, child, explicit]) {
      const written = toCloudEvent(event, { source: "/invites" });
      assert.deepEqual(fromCloudEvent(written), event);
      assert.deepEqual(fromCloudEvent(JSON.stringify(written)), event);
      assert.deepEqual(
        fromCloudEvent(JSON.parse(JSON.stringify(written))),
        event,
      );
    }
  });

  it("reads null correlation ids and null extension attributes as absent, as the JSON format says", () => {
    const event = fromCloudEvent(cloudEvent({
      correlationid: null,
      causationid: null,
      subject: null,
      tenant: "acme",
    }));
    assert.equal(event.correlationId, null);
    assert.equal(event.causationId, null);
    assert.deepEqual(event.metadata, { tenant: "acme" });
  });

  it("reads a CloudEvent without data as an empty payload", () => {
    const { data: _, ...withoutData } = cloudEvent();
    assert.deepEqual(fromCloudEvent(withoutData).payload, {});
  });

  for (
    const datacontenttype of [
      undefined,
      null,
      "application/json; charset=utf-8",
      "application/cloudevents+json",
      "text/json",
      "APPLICATION/JSON",
      "application/vnd.api+json;v=2",
    ]
  ) {
    it(`accepts the datacontenttype ${JSON.stringify(datacontenttype)}`, () => {
      assert.equal(
        fromCloudEvent(cloudEvent({ datacontenttype })).eventType,
        "invite.created",
      );
    });
  }

  it("checks the payload against a definition", () => {
    const InviteCreated = defineEvent("invite.created", {
      schema: (value): value is { email: string } =>
        typeof (value as { email?: unknown }).email === "string",
    });
    const event = fromCloudEvent(cloudEvent(), { definition: InviteCreated });
    const email: string = event.payload.email;
    assert.equal(email, "ada@example.com");
    assert.throws(
      () =>
        fromCloudEvent(cloudEvent({ data: { email: 1 } }), {
          definition: InviteCreated,
        }),
      InvalidEventError,
    );
    assertInvalidAt(
      () =>
        fromCloudEvent(cloudEvent({ type: "other" }), {
          definition: InviteCreated,
        }),
      "eventType",
    );
  });

  it("refuses text that is not JSON, and JSON longer than maxLength", () => {
    assertInvalidAt(() => fromCloudEvent("{nope"), "");
    const json = JSON.stringify(cloudEvent());
    assertInvalidAt(
      () => fromCloudEvent(json, { maxLength: json.length - 1 }),
      "",
    );
    assert.equal(fromCloudEvent(json, { maxLength: json.length }).eventId, ID);
  });

  for (const input of [null, 42, "42", '"text"', [], "[]", undefined]) {
    it(`refuses ${JSON.stringify(input)}, which is no object`, () => {
      assertInvalidAt(() => fromCloudEvent(input), "");
    });
  }

  const refusals: [string, Record<string, unknown>, string][] = [
    ["a missing specversion", { specversion: undefined }, "specversion"],
    ["specversion 0.3", { specversion: "0.3" }, "specversion"],
    ["specversion 1.0 as a number", { specversion: 1.0 }, "specversion"],
    ["a missing source", { source: undefined }, "source"],
    ["an empty source", { source: "" }, "source"],
    ["a source with spaces", { source: "my source" }, "source"],
    ["a source that is a number", { source: 7 }, "source"],
    [
      "XML data",
      { datacontenttype: "application/xml", data: "<a/>" },
      "datacontenttype",
    ],
    [
      "a look-alike JSON type",
      { datacontenttype: "application/jsonx" },
      "datacontenttype",
    ],
    ["binary data", { data: undefined, data_base64: "AAEC" }, "data_base64"],
    ["a camelCase extension", { tenantId: "acme" }, "tenantId"],
    ["a kebab-case extension", { "tenant-id": "acme" }, '["tenant-id"]'],
    ["an object extension", { tenant: { id: 1 } }, "tenant"],
    ["a fractional extension", { retry: 0.5 }, "retry"],
    ["an extension with a newline", { note: "a\nb" }, "note"],
    ["a missing id", { id: undefined }, "eventId"],
    ["an id that is not a UUID", { id: "A234-1234-1234" }, "eventId"],
    ["a missing type", { type: undefined }, "eventType"],
    ["a type with spaces", { type: "invite created" }, "eventType"],
    ["a missing time", { time: undefined }, "occurredAt"],
    [
      "a time not in toISOString form",
      { time: "2018-04-05T17:31:00Z" },
      "occurredAt",
    ],
    ["a correlationid with spaces", { correlationid: "a b" }, "correlationId"],
    ["a numeric causationid", { causationid: 7 }, "causationId"],
    ["null data", { data: null }, "payload"],
    ["string data", { data: "I'm just a string" }, "payload"],
    ["array data", { data: [1] }, "payload"],
    // Regressions: an array was coerced to its string, and an object whose
    // toString is not a function threw a TypeError of its own.
    [
      "a datacontenttype in an array",
      { datacontenttype: ["application/json"] },
      "datacontenttype",
    ],
    [
      "a datacontenttype in nested arrays",
      { datacontenttype: [["application/json"]] },
      "datacontenttype",
    ],
    [
      "a datacontenttype object that cannot become a string",
      { datacontenttype: { toString: 0 } },
      "datacontenttype",
    ],
    [
      "an extension that cannot become a string",
      { ext: { toString: 0 } },
      "ext",
    ],
    [
      "an extension that cannot become a primitive",
      { ext: { valueOf: 0, toString: 0 } },
      "ext",
    ],
    ["an extension array of such objects", { ext: [{ toString: 0 }] }, "ext"],
  ];
  for (const [name, fields, path] of refusals) {
    it(`refuses ${name}`, () => {
      const input = cloudEvent(fields);
      for (const key of Object.keys(fields)) {
        if (fields[key] === undefined) delete input[key];
      }
      assertInvalidAt(() => fromCloudEvent(input), path);
      assertInvalidAt(() => fromCloudEvent(JSON.stringify(input)), path);
    });
  }

  it("refuses metadata that cannot become an attribute value, without a TypeError of its own", () => {
    const metadata = JSON.parse('{"ext":{"toString":0}}');
    const event = createEvent("x", {}, { metadata });
    assertInvalidAt(
      () => toCloudEvent(event, { source: SOURCE }),
      "metadata.ext",
    );
  });

  it("refuses __proto__ without polluting any prototype", () => {
    const json = JSON.stringify(cloudEvent()).replace(
      "{",
      '{"__proto__":{"polluted":"yes"},',
    );
    assertInvalidAt(() => fromCloudEvent(json), "__proto__");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("refuses nesting deeper than maxDepth, and objects that cannot be read", () => {
    let data: JsonObject = {};
    for (let i = 0; i < 100; i++) data = { data };
    assert.throws(
      () => fromCloudEvent(cloudEvent({ data })),
      InvalidEventError,
    );
    // maxDepth counts payload levels, as parseEvent does: the CloudEvent
    // around the payload is not one of them.
    assert.deepEqual(
      fromCloudEvent(cloudEvent({ data: { a: { b: 1 } } }), { maxDepth: 2 })
        .payload,
      { a: { b: 1 } },
    );
    assert.throws(
      () =>
        fromCloudEvent(cloudEvent({ data: { a: { b: { c: 1 } } } }), {
          maxDepth: 2,
        }),
      InvalidEventError,
    );
    const hostile = cloudEvent();
    Object.defineProperty(hostile, "tenant", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    assert.throws(() => fromCloudEvent(hostile), InvalidEventError);
  });
});

describe("the CloudEvents specification's samples", () => {
  // The JSON event format's example with JSON object data, verbatim.
  const SAMPLE = `{
    "specversion" : "1.0",
    "type" : "com.example.someevent",
    "source" : "/mycontext",
    "subject": null,
    "id" : "C234-1234-1234",
    "time" : "2018-04-05T17:31:00Z",
    "comexampleextension1" : "value",
    "comexampleothervalue" : 5,
    "datacontenttype" : "application/json",
    "data" : {
        "appinfoA" : "abc",
        "appinfoB" : 123,
        "appinfoC" : true
    }
  }`;

  it("refuses the sample as it is: its id is no UUID and its time is not in toISOString form", () => {
    assertInvalid(() => fromCloudEvent(SAMPLE), [
      { path: "eventId", message: 'expected a UUID, got "C234-1234-1234"' },
      {
        path: "occurredAt",
        message:
          'expected a timestamp in Date#toISOString() form, got "2018-04-05T17:31:00Z"',
      },
    ]);
  });

  it("reads the sample with a UUID id and a canonical time, extensions into metadata", () => {
    const json = SAMPLE.replace("C234-1234-1234", ID).replace(
      ":00Z",
      ":00.000Z",
    );
    const event = fromCloudEvent(json);
    assert.deepEqual(event, {
      eventId: ID,
      eventType: "com.example.someevent",
      occurredAt: "2018-04-05T17:31:00.000Z",
      correlationId: null,
      causationId: null,
      payload: { appinfoA: "abc", appinfoB: 123, appinfoC: true },
      metadata: { comexampleextension1: "value", comexampleothervalue: 5 },
    });
    // And back: the sample's shape, without the null subject.
    const { subject: _, ...expected } = JSON.parse(json);
    assert.deepEqual(toCloudEvent(event, { source: "/mycontext" }), expected);
  });

  it("reads the correlation extension's example (with a UUID id and a time added)", () => {
    const event = fromCloudEvent({
      specversion: "1.0",
      type: "com.example.payment.processed",
      source: "https://example.com/payments",
      id: ID,
      time: TIME,
      correlationid: "txn-abc-123",
      causationid: "order-123",
      data: { amount: 150.0, currency: "USD" },
    });
    assert.equal(event.correlationId, "txn-abc-123");
    assert.equal(event.causationId, "order-123");
    assert.deepEqual(event.metadata, {});
  });
});

describe("fromCloudEvent: nesting", () => {
  /** `levels` objects nested under the key `a`. */
  function nested(levels: number): JsonObject {
    let value: JsonObject = { leaf: 1 };
    for (let level = 1; level < levels; level++) value = { a: value };
    return value;
  }

  it("reads back a payload nesting 64 levels (the limit), and past it under a raised maxDepth", () => {
    const deep = createEvent("deep", nested(64));
    const text = JSON.stringify(toCloudEvent(deep, { source: SOURCE }));
    assert.deepEqual(fromCloudEvent(text), deep);
    assert.deepEqual(fromCloudEvent(JSON.parse(text)), deep);
    const deeper = JSON.parse(JSON.stringify(toCloudEvent(
      createEvent("deep", nested(60)),
      { source: SOURCE },
    )));
    deeper.data = nested(100);
    assert.throws(() => fromCloudEvent(deeper), InvalidEventError);
    assert.deepEqual(
      fromCloudEvent(deeper, { maxDepth: 100 }).payload,
      nested(100),
    );
  });
});
