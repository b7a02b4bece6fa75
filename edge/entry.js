// Edge proof: the bundled library (dist/mod.js) running inside Cloudflare's
// workerd with only the web platform (no nodejs_compat). Each exported
// object's `test` handler is one test of `workerd test edge/config.capnp`;
// a failed assertion throws, and workerd then exits non-zero.
import {
  assertDomainEvent,
  createEvent,
  defineEvent,
  DispatchError,
  DomainEventError,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  MaxDepthExceededError,
  parseEvent,
} from "./mod.js";

// --- a few assertions: node:assert is not there on the edge ------------------

function ok(value, message) {
  if (!value) throw new Error(`assertion failed: ${message}`);
}

function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) {
    throw new Error(
      `assertion failed: ${message}: expected ${JSON.stringify(expected)}, ` +
        `got ${JSON.stringify(actual)}`,
    );
  }
}

function deepEqual(actual, expected, message) {
  equal(JSON.stringify(actual), JSON.stringify(expected), message);
}

function throws(fn, ErrorClass, message) {
  try {
    fn();
  } catch (error) {
    ok(
      error instanceof ErrorClass,
      `${message}: expected ${ErrorClass.name}, got ${error}`,
    );
    return error;
  }
  throw new Error(`assertion failed: ${message}: expected a throw`);
}

async function rejects(promise, ErrorClass, message) {
  try {
    await promise;
  } catch (error) {
    ok(
      error instanceof ErrorClass,
      `${message}: expected ${ErrorClass.name}, got ${error}`,
    );
    return error;
  }
  throw new Error(`assertion failed: ${message}: expected a rejection`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const InviteCreated = defineEvent("invite.created", {
  schema: (value) =>
    typeof value === "object" && value !== null &&
    typeof value.email === "string",
});

/** A minimal Standard Schema v1, as zod or valibot expose it. */
const seatsSchema = {
  "~standard": {
    version: 1,
    vendor: "edge-test",
    validate: (value) =>
      Number.isInteger(value?.seats) && value.seats > 0
        ? { value: { seats: value.seats } }
        : {
          issues: [{ message: "expected a positive integer", path: ["seats"] }],
        },
  },
};
const SeatsChanged = defineEvent("seats.changed", { schema: seatsSchema });

// --- the tests ---------------------------------------------------------------

export const platform = {
  test() {
    equal(typeof globalThis.process, "undefined", "no process global");
    equal(typeof globalThis.Buffer, "undefined", "no Buffer global");
    equal(typeof globalThis.Deno, "undefined", "no Deno global");
    equal(typeof globalThis.Bun, "undefined", "no Bun global");
    equal(typeof crypto.randomUUID, "function", "crypto.randomUUID");
  },
};

export const create = {
  test() {
    const payload = { email: "ada@example.com", seats: 2, tags: ["a", "b"] };
    const event = createEvent("invite.created", payload, {
      metadata: { actor: { id: "u1" } },
    });
    ok(UUID.test(event.eventId), `eventId is a UUID: ${event.eventId}`);
    equal(event.eventType, "invite.created", "eventType");
    equal(
      new Date(event.occurredAt).toISOString(),
      event.occurredAt,
      "occurredAt is canonical ISO-8601",
    );
    equal(event.correlationId, null, "root correlationId");
    equal(event.causationId, null, "root causationId");
    deepEqual(event.payload, payload, "payload copied");
    ok(event.payload !== payload, "payload not aliased");
    ok(!Object.isFrozen(payload), "the caller's payload is not frozen");
    ok(isDomainEvent(event), "isDomainEvent");
    assertDomainEvent(event);
    deepEqual(JSON.parse(JSON.stringify(event)), event, "JSON round trip");

    const child = createEvent("invite.email_sent", {}, { causedBy: event });
    const grandchild = createEvent("audit.logged", {}, { causedBy: child });
    equal(child.correlationId, event.eventId, "child correlationId");
    equal(child.causationId, event.eventId, "child causationId");
    equal(grandchild.correlationId, event.eventId, "grandchild correlationId");
    equal(grandchild.causationId, child.eventId, "grandchild causationId");

    const fixed = createEvent("a.b", {}, {
      eventId: "0D8B5C4E-0F3A-4B7C-9D2E-1A2B3C4D5E6F",
      occurredAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      correlationId: "req-1",
    });
    equal(fixed.eventId, "0d8b5c4e-0f3a-4b7c-9d2e-1a2b3c4d5e6f", "lower-cased");
    equal(fixed.occurredAt, "2026-01-02T03:04:05.000Z", "occurredAt");
    equal(fixed.correlationId, "req-1", "correlationId");

    const error = throws(
      () => createEvent("order.placed", { items: [{ price: NaN }] }),
      InvalidEventError,
      "NaN refused",
    );
    deepEqual(error.issues, [{
      path: "payload.items[0].price",
      message: "expected a finite number, got NaN",
    }], "issue names the path");
    throws(() => createEvent("has space"), InvalidEventError, "bad eventType");
    throws(
      () => createEvent("a.b", { at: new Date() }),
      InvalidEventError,
      "Date refused",
    );
    throws(
      () => createEvent("a.b", {}, { causedBy: event, correlationId: "x" }),
      InvalidEventError,
      "causedBy with an explicit correlationId",
    );
  },
};

export const frozen = {
  test() {
    const event = createEvent(
      "invite.created",
      { invite: { to: ["ada@example.com"], meta: { n: 1 } } },
      { metadata: { trace: { spans: [{ id: "s1" }] } } },
    );
    for (
      const [name, value] of [
        ["event", event],
        ["payload", event.payload],
        ["payload.invite", event.payload.invite],
        ["payload.invite.to", event.payload.invite.to],
        ["payload.invite.meta", event.payload.invite.meta],
        ["metadata", event.metadata],
        ["metadata.trace", event.metadata.trace],
        ["metadata.trace.spans", event.metadata.trace.spans],
        ["metadata.trace.spans[0]", event.metadata.trace.spans[0]],
      ]
    ) {
      ok(Object.isFrozen(value), `${name} is frozen`);
    }
    // Modules are strict: writing to a frozen object throws.
    throws(
      () => {
        event.eventType = "x";
      },
      TypeError,
      "write to the event",
    );
    throws(
      () => {
        event.payload.invite.to.push("eve@example.com");
      },
      TypeError,
      "push into a nested array",
    );
    throws(
      () => {
        event.metadata.trace.spans[0].id = "s2";
      },
      TypeError,
      "write deep into metadata",
    );
  },
};

export const define = {
  test() {
    equal(InviteCreated.type, "invite.created", "definition type");
    ok(Object.isFrozen(InviteCreated), "definition frozen");
    const event = InviteCreated.create({ email: "ada@example.com" });
    equal(event.eventType, "invite.created", "created type");
    ok(InviteCreated.is(event), "is() accepts its event");
    ok(
      !InviteCreated.is(createEvent("other.type")),
      "is() refuses another type",
    );
    ok(
      !InviteCreated.is(createEvent("invite.created", { email: 42 })),
      "is() refuses a payload the schema refuses",
    );
    const error = throws(
      () => InviteCreated.create({ email: 42 }),
      InvalidEventError,
      "guard refusal",
    );
    equal(error.issues[0].path, "payload", "guard issue path");

    equal(
      SeatsChanged.create({ seats: 3 }).payload.seats,
      3,
      "standard schema",
    );
    const issues = throws(
      () => SeatsChanged.create({ seats: -1 }),
      InvalidEventError,
      "standard schema refusal",
    ).issues;
    deepEqual(issues, [{
      path: "payload.seats",
      message: "expected a positive integer",
    }], "standard schema issues");
    const asyncSchema = {
      "~standard": {
        version: 1,
        vendor: "edge-test",
        validate: (value) => Promise.resolve({ value }),
      },
    };
    throws(
      () => defineEvent("a.b", { schema: asyncSchema }).create({}),
      InvalidEventError,
      "async schema refused",
    );
  },
};

export const parse = {
  test() {
    const event = InviteCreated.create({ email: "ada@example.com" }, {
      correlationId: "req-7",
      metadata: { tenant: "t1" },
    });
    const json = JSON.stringify(event);
    const copy = parseEvent(json);
    deepEqual(copy, event, "round trip");
    ok(Object.isFrozen(copy) && Object.isFrozen(copy.payload), "parsed frozen");
    const typed = parseEvent(json, { definition: InviteCreated });
    equal(typed.payload.email, "ada@example.com", "with a definition");
    deepEqual(parseEvent(JSON.parse(json)), event, "from a parsed value");

    const bad = throws(
      () => parseEvent("{not json"),
      InvalidEventError,
      "JSON",
    );
    equal(bad.code, "INVALID_EVENT", "bad JSON code");
    throws(() => parseEvent("[]"), InvalidEventError, "an array");
    throws(() => parseEvent(null), InvalidEventError, "null");
    throws(
      () =>
        parseEvent(json.replace('"ada@example.com"', "42"), {
          definition: InviteCreated,
        }),
      InvalidEventError,
      "schema refusal at parse",
    );
    throws(
      () => parseEvent(json, { definition: SeatsChanged }),
      InvalidEventError,
      "wrong type for the definition",
    );
    const { eventId: _, ...missing } = event;
    throws(
      () => parseEvent(JSON.stringify(missing)),
      InvalidEventError,
      "missing eventId",
    );
    const hostile = json.replace(
      '"payload":{',
      '"payload":{"__proto__":{"polluted":true},',
    );
    throws(() => parseEvent(hostile), InvalidEventError, "__proto__ key");
    equal({}.polluted, undefined, "no prototype pollution");
    const deep = json.replace(
      '"payload":{',
      `"payload":{"d":${"[".repeat(100)}${"]".repeat(100)},`,
    );
    throws(() => parseEvent(deep), InvalidEventError, "nesting beyond 64");
    throws(
      () => parseEvent(json, { maxLength: 10 }),
      InvalidEventError,
      "maxLength",
    );
  },
};

export const errors = {
  async test() {
    const invalid = throws(() => createEvent(""), InvalidEventError, "empty");
    equal(invalid.name, "InvalidEventError", "InvalidEventError name");
    equal(invalid.code, "INVALID_EVENT", "InvalidEventError code");
    ok(
      invalid instanceof DomainEventError,
      "InvalidEventError is a DomainEventError",
    );
    ok(invalid instanceof Error, "InvalidEventError is an Error");
    ok(Array.isArray(invalid.issues) && invalid.issues.length > 0, "issues");

    const event = createEvent("invite.created");
    const handlerError = new HandlerError(event, "h", new Error("boom"));
    equal(handlerError.name, "HandlerError", "HandlerError name");
    equal(handlerError.code, "HANDLER_FAILED", "HandlerError code");
    ok(handlerError instanceof DomainEventError, "HandlerError base");

    const depth = new MaxDepthExceededError("ping", 2);
    equal(depth.name, "MaxDepthExceededError", "MaxDepthExceededError name");
    equal(depth.code, "MAX_DEPTH_EXCEEDED", "MaxDepthExceededError code");
    ok(depth instanceof DomainEventError, "MaxDepthExceededError base");

    const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
    dispatcher.register("invite.created", function a() {
      throw new Error("a");
    });
    dispatcher.register("invite.created", function b() {
      return Promise.reject(new Error("b"));
    });
    const collected = await rejects(
      dispatcher.dispatch(event),
      DispatchError,
      "collect mode",
    );
    equal(collected.name, "DispatchError", "DispatchError name");
    equal(collected.code, "DISPATCH_FAILED", "DispatchError code");
    ok(
      collected instanceof AggregateError,
      "DispatchError is an AggregateError",
    );
    deepEqual(
      collected.errors.map((error) =>
        error instanceof HandlerError && error.handlerName
      ),
      ["a", "b"],
      "DispatchError errors",
    );
  },
};

export const dispatch = {
  async test() {
    const InviteEmailSent = defineEvent("invite.email_sent");
    const dispatcher = new InProcessEventDispatcher();
    const seen = [];
    const published = {};
    dispatcher.register(InviteCreated, async (event, context) => {
      seen.push([event, context.depth]);
      published.email = await context.publish(InviteEmailSent, {
        to: event.payload.email,
      });
    });
    dispatcher.register(
      "invite.email_sent",
      async (event, { depth, publish }) => {
        seen.push([event, depth]);
        published.audit = await publish("audit.logged", { what: "email" });
      },
    );
    dispatcher.register("audit.logged", (event, context) => {
      seen.push([event, context.depth]);
    });
    const all = [];
    const off = dispatcher.registerAny((event) => {
      all.push(event.eventType);
    });
    ok(typeof off === "function", "register returns a function");
    ok(typeof off[Symbol.dispose] === "function", "Unsubscribe is Disposable");

    // A root with no correlation id: the chain correlates on its eventId.
    const root = InviteCreated.create({ email: "ada@example.com" });
    await dispatcher.dispatch(root);
    deepEqual(
      seen.map(([event, depth]) => `${event.eventType}@${depth}`),
      ["invite.created@0", "invite.email_sent@1", "audit.logged@2"],
      "depth-first, with depths",
    );
    const [[level0], [level1], [level2]] = seen;
    equal(level0, root, "the handler gets the dispatched event");
    equal(level1, published.email, "publish returns the event it dispatched");
    equal(level2, published.audit, "nested publish returns its event");
    equal(level1.correlationId, root.eventId, "level 1 correlationId");
    equal(level1.causationId, root.eventId, "level 1 causationId");
    equal(level1.payload.to, "ada@example.com", "level 1 payload");
    equal(level2.correlationId, root.eventId, "level 2 correlationId");
    equal(level2.causationId, level1.eventId, "level 2 causationId");
    ok(isDomainEvent(level1) && isDomainEvent(level2), "published are events");
    // registerAny handlers run after the type's own handlers, and publish is
    // depth-first: the deepest event reaches them first.
    deepEqual(
      all,
      ["audit.logged", "invite.email_sent", "invite.created"],
      "registerAny sees every level",
    );

    // A root with a correlation id (a request id): every level keeps it.
    seen.length = 0;
    const request = InviteCreated.create({ email: "bob@example.com" }, {
      correlationId: "req-42",
    });
    await dispatcher.dispatch(request);
    deepEqual(
      seen.map(([event]) => event.correlationId),
      ["req-42", "req-42", "req-42"],
      "correlationId carried down the chain",
    );
    deepEqual(
      seen.map(([event]) => event.causationId),
      [null, request.eventId, seen[1][0].eventId],
      "causationId is the parent at each level",
    );

    off();
    off();
    await dispatcher.dispatch(createEvent("audit.logged"));
    equal(all.length, 6, "unsubscribed registerAny handler no longer runs");

    await rejects(
      dispatcher.dispatch({ eventType: "invite.created" }),
      InvalidEventError,
      "dispatch refuses a non-event",
    );
  },
};

export const failingHandler = {
  async test() {
    const dispatcher = new InProcessEventDispatcher();
    const ran = [];
    dispatcher.register("invite.created", function sendEmail() {
      ran.push("sendEmail");
      throw new Error("SMTP down");
    });
    dispatcher.register("invite.created", function audit() {
      ran.push("audit");
    });
    const event = createEvent("invite.created");
    const error = await rejects(
      dispatcher.dispatch(event),
      HandlerError,
      "fail-fast rejects with HandlerError",
    );
    equal(error.handlerName, "sendEmail", "handlerName");
    equal(error.event, event, "error.event");
    equal(error.cause.message, "SMTP down", "error.cause");
    deepEqual(ran, ["sendEmail"], "fail-fast stops the remaining handlers");

    // A failure deep in a publish chain reaches the top-level dispatch.
    const chain = new InProcessEventDispatcher();
    chain.register("a", (_event, { publish }) => publish("b"));
    chain.register("b", function failsInB() {
      return Promise.reject(new Error("b failed"));
    });
    const top = await rejects(
      chain.dispatch(createEvent("a")),
      HandlerError,
      "chain",
    );
    let cause = top;
    const names = [];
    while (cause instanceof HandlerError) {
      names.push(cause.handlerName);
      cause = cause.cause;
    }
    ok(
      names.includes("failsInB"),
      `the nested failure is in the chain: ${names}`,
    );
    equal(cause.message, "b failed", "the original cause at the end");

    // isolate: every handler runs, errors go to onHandlerError.
    const isolated = [];
    const isolating = new InProcessEventDispatcher({
      errorMode: "isolate",
      onHandlerError: (handlerError) => {
        isolated.push(handlerError);
      },
    });
    isolating.register("x", () => {
      throw new Error("x");
    });
    isolating.register("x", () => {
      isolated.push("second ran");
    });
    await isolating.dispatch(createEvent("x"));
    equal(isolated.length, 2, "isolate: both handlers, one error");
    ok(isolated.some((item) => item instanceof HandlerError), "isolate error");

    // A -> B -> A loop: stopped by maxDepth.
    const loop = new InProcessEventDispatcher({ maxDepth: 3 });
    loop.register("ping", (_event, { publish }) => publish("pong"));
    loop.register("pong", (_event, { publish }) => publish("ping"));
    let found = await rejects(
      loop.dispatch(createEvent("ping")),
      DomainEventError,
      "loop",
    );
    while (found instanceof HandlerError) found = found.cause;
    ok(
      found instanceof MaxDepthExceededError,
      `loop ends in MaxDepthExceededError: ${found}`,
    );
    equal(found.maxDepth, 3, "maxDepth reported");
  },
};
