// examples/opentelemetry.ts against the real SDK: spans, attributes, status,
// and parent links, with and without a context manager. Deno only (npm
// packages from deno.json).
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  createEvent,
  defineEvent,
  type DispatcherOptions,
  HandlerError,
  InProcessEventDispatcher,
} from "../../mod.ts";
import { openTelemetryMiddleware } from "../../examples/opentelemetry.ts";

const InviteCreated = defineEvent<"invite.created", { email: string }>(
  "invite.created",
);
const InviteEmailSent = defineEvent<"invite.email_sent", { to: string }>(
  "invite.email_sent",
);
const AuditLogged = defineEvent<"audit.logged", { what: string }>(
  "audit.logged",
);

/**
 * The smallest AsyncLocalStorage context manager, as
 * `@opentelemetry/context-async-hooks` provides it, to test the path where
 * one is registered.
 */
class AsyncLocalStorageContextManager implements ContextManager {
  #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

function setup(options: DispatcherOptions = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("test");
  const dispatcher = new InProcessEventDispatcher(options);
  dispatcher.use(openTelemetryMiddleware(tracer));
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan => {
    const found = spans().filter((span) => span.name === name);
    assert.equal(
      found.length,
      1,
      `one span named ${name}, got ${found.length}`,
    );
    return found[0] as ReadableSpan;
  };
  return { dispatcher, tracer, spans, named };
}

const parentOf = (span: ReadableSpan): string | undefined =>
  span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

/** invite.created → sendEmail publishes invite.email_sent → auditEmail publishes audit.logged. */
function registerFlow(dispatcher: InProcessEventDispatcher): void {
  dispatcher.register(InviteCreated, function refreshCache() {});
  dispatcher.register(InviteCreated, async function sendEmail(event, ctx) {
    await ctx.publish(InviteEmailSent, { to: event.payload.email });
  });
  dispatcher.register(InviteEmailSent, async function auditEmail(_event, ctx) {
    await ctx.publish(AuditLogged, { what: "email" });
  });
  dispatcher.register(AuditLogged, function store() {});
}

describe("openTelemetryMiddleware", () => {
  afterEach(() => {
    context.disable();
  });

  it("opens one ended span per handler call, named and with the event's attributes", async () => {
    const { dispatcher, spans, named } = setup();
    dispatcher.register("invite.created", function first() {});
    dispatcher.register("invite.created", async function second() {});
    const event = createEvent("invite.created", {}, {
      correlationId: "req-42",
    });
    await dispatcher.dispatch(event);

    assert.deepEqual(spans().map((span) => span.name), [
      "invite.created first",
      "invite.created second",
    ]);
    const span = named("invite.created first");
    assert.equal(span.kind, SpanKind.INTERNAL);
    assert.ok(span.ended);
    assert.deepEqual(span.attributes, {
      "domain_event.id": event.eventId,
      "domain_event.type": "invite.created",
      "domain_event.handler": "first",
      "domain_event.depth": 0,
      "domain_event.correlation_id": "req-42",
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(parentOf(span), undefined);
    assert.equal(parentOf(named("invite.created second")), undefined);
  });

  it("puts the spans of published events under the publishing handler's span, without a context manager", async () => {
    const { dispatcher, spans, named } = setup();
    registerFlow(dispatcher);
    const created = InviteCreated.create({ email: "ada@example.com" });
    await dispatcher.dispatch(created);

    assert.equal(spans().length, 4);
    const refresh = named("invite.created refreshCache");
    const send = named("invite.created sendEmail");
    const audit = named("invite.email_sent auditEmail");
    const store = named("audit.logged store");
    assert.equal(parentOf(refresh), undefined);
    assert.equal(parentOf(send), undefined);
    assert.equal(parentOf(audit), idOf(send));
    assert.equal(parentOf(store), idOf(audit));
    const traceId = send.spanContext().traceId;
    assert.equal(audit.spanContext().traceId, traceId);
    assert.equal(store.spanContext().traceId, traceId);
    assert.notEqual(
      refresh.spanContext().traceId,
      traceId,
      "a sibling root is its own trace",
    );

    assert.equal(audit.attributes["domain_event.depth"], 1);
    assert.equal(
      audit.attributes["domain_event.causation_id"],
      created.eventId,
    );
    assert.equal(
      audit.attributes["domain_event.correlation_id"],
      created.eventId,
    );
    assert.equal(store.attributes["domain_event.depth"], 2);
    assert.equal(
      store.attributes["domain_event.causation_id"],
      audit.attributes["domain_event.id"],
    );
    assert.ok(!("domain_event.causation_id" in send.attributes));
    assert.ok(!("domain_event.correlation_id" in send.attributes));
  });

  it("records a failing handler's exception and sets its status to ERROR, rejected or thrown", async () => {
    const { dispatcher, named } = setup({ errorMode: "collect" });
    dispatcher.register("invite.created", function rejects() {
      return Promise.reject(new Error("SMTP down"));
    });
    dispatcher.register("invite.created", function throws() {
      throw "a string";
    });
    dispatcher.register("invite.created", function works() {});
    await assert.rejects(dispatcher.dispatch(createEvent("invite.created")));

    const rejected = named("invite.created rejects");
    assert.deepEqual(rejected.status, {
      code: SpanStatusCode.ERROR,
      message: "SMTP down",
    });
    assert.ok(rejected.ended);
    const [exception] = rejected.events;
    assert.equal(exception?.name, "exception");
    assert.equal(exception?.attributes?.["exception.message"], "SMTP down");
    assert.equal(exception?.attributes?.["exception.type"], "Error");

    const thrown = named("invite.created throws");
    assert.deepEqual(thrown.status, {
      code: SpanStatusCode.ERROR,
      message: "a string",
    });
    assert.equal(
      thrown.events[0]?.attributes?.["exception.message"],
      "a string",
    );
    assert.equal(
      named("invite.created works").status.code,
      SpanStatusCode.UNSET,
    );
  });

  it("passes the handler's error on unchanged, and fails the publisher's span too when it rethrows", async () => {
    const { dispatcher, named } = setup();
    const failure = new Error("Slack timed out");
    dispatcher.register(InviteCreated, async function sendEmail(event, ctx) {
      await ctx.publish(InviteEmailSent, { to: event.payload.email });
    });
    dispatcher.register(InviteEmailSent, function notifySlack() {
      throw failure;
    });
    await assert.rejects(
      dispatcher.dispatch(InviteCreated.create({ email: "ada@example.com" })),
      (error: unknown) => {
        assert.ok(error instanceof HandlerError);
        assert.equal(error.handlerName, "sendEmail");
        assert.ok(error.cause instanceof HandlerError);
        assert.equal(error.cause.cause, failure);
        return true;
      },
    );
    const slack = named("invite.email_sent notifySlack");
    const send = named("invite.created sendEmail");
    assert.equal(slack.status.code, SpanStatusCode.ERROR);
    assert.equal(slack.status.message, "Slack timed out");
    assert.equal(send.status.code, SpanStatusCode.ERROR);
    assert.equal(parentOf(slack), idOf(send));
  });

  it("keeps synchronous handlers synchronous", async () => {
    const { dispatcher, spans } = setup();
    const order: string[] = [];
    dispatcher.register("a", function sync() {
      order.push("handled");
    });
    const done = dispatcher.dispatch(createEvent("a"));
    order.push("after dispatch returned");
    await done;
    assert.deepEqual(order, ["handled", "after dispatch returned"]);
    assert.equal(spans().length, 1);
  });

  it("with a context manager: exact parents in parallel mode, and a top-level dispatch under the caller's span", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    const { dispatcher, tracer, named } = setup({ concurrency: "parallel" });
    dispatcher.register("order.placed", async function charge(_event, ctx) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await ctx.publish("payment.charged");
    });
    dispatcher.register("order.placed", async function reserve(_event, ctx) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await ctx.publish("stock.reserved");
      // Still running when charge publishes: only the context tells them apart.
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    dispatcher.register("payment.charged", function receipt() {});
    dispatcher.register("stock.reserved", function pick() {});

    const request = tracer.startSpan("POST /orders");
    await context.with(
      trace.setSpan(context.active(), request),
      () => dispatcher.dispatch(createEvent("order.placed")),
    );
    request.end();

    const requestId = request.spanContext().spanId;
    const charge = named("order.placed charge");
    const reserve = named("order.placed reserve");
    assert.equal(parentOf(charge), requestId);
    assert.equal(parentOf(reserve), requestId);
    assert.equal(parentOf(named("payment.charged receipt")), idOf(charge));
    assert.equal(parentOf(named("stock.reserved pick")), idOf(reserve));
  });

  it("with a context manager: what a handler starts itself is a child of its span", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    const { dispatcher, tracer, spans, named } = setup();
    dispatcher.register("a", async function handler() {
      await tracer.startActiveSpan("SELECT invites", async (span) => {
        await Promise.resolve();
        span.end();
      });
    });
    await dispatcher.dispatch(createEvent("a"));
    assert.equal(spans().length, 2);
    assert.equal(parentOf(named("SELECT invites")), idOf(named("a handler")));
  });
});
