/**
 * OpenTelemetry tracing as a dispatcher middleware: one span per handler
 * call, and the events a handler publishes traced as child spans of that
 * handler's span. The library has no dependency on OpenTelemetry; this file
 * is the whole integration, to copy into an application.
 *
 * Run it with `deno run examples/opentelemetry.ts`: it prints the spans of a
 * small flow.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { DomainEvent, Middleware, MiddlewareInfo } from "../mod.ts";
import {
  getEventContext,
  withEventContext,
} from "../src/context/with_event_context.ts";

/** The W3C `traceparent` of a span: `00-<trace id>-<span id>-<flags>`. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** The remote span context a `traceparent` names, or `undefined`. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  const match = typeof value === "string" ? TRACEPARENT.exec(value) : null;
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [
    string,
    string,
    string,
    string,
  ];
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

/**
 * Runs `fn` so that every event created inside it carries the `traceparent`
 * of `span` (by default the active span) in its metadata, through
 * `withEventContext`, keeping the context's other metadata: a consumer in
 * another process can then link its span to the span that created the event.
 */
export function withTraceparent<T>(
  fn: () => T,
  span: Span | undefined = trace.getActiveSpan(),
): T {
  if (span === undefined) return fn();
  return withEventContext({
    metadata: {
      ...getEventContext()?.metadata,
      traceparent: traceparentOf(span),
    },
  }, fn);
}

/**
 * Makes a middleware that wraps every handler call in a span named
 * `<eventType> <handlerName>` (kind `INTERNAL`), with these attributes:
 *
 * - `domain_event.id`, `domain_event.type`
 * - `domain_event.correlation_id`, `domain_event.causation_id` (when not null)
 * - `domain_event.handler`, `domain_event.depth`
 *
 * An event whose metadata carries a `traceparent` from elsewhere (another
 * process, through a broker) gets a link to that span, as the OpenTelemetry
 * messaging conventions ask of a consumer; events the handler creates carry
 * the handler span's `traceparent` in turn ({@linkcode withTraceparent}).
 *
 * A handler that throws or rejects gets its exception recorded and the
 * status `ERROR`; the error goes on to the dispatcher unchanged. The span
 * ends when the handler settles.
 *
 * Parents, so that a publish chain is one trace:
 *
 * 1. With a context manager registered (on Node, Deno and Bun:
 *    `AsyncLocalStorageContextManager` from `@opentelemetry/context-async-hooks`),
 *    the handler runs inside its span's context: an event it publishes gets
 *    a span under it, and so does anything else instrumented that it calls
 *    (fetch, a database). A top-level dispatch made inside a request's span
 *    hangs under that span.
 * 2. Without one (edge runtimes, browsers), the middleware keeps the spans
 *    of running handlers by event id and puts an event's span under the span
 *    of the handler running for its `causationId`, which is exact with
 *    `concurrency: "sequential"` (the default). With `"parallel"`, when
 *    several handlers of one event publish at the same time, a child can end
 *    up under the latest started sibling; register a context manager for
 *    exact parents.
 *
 * @param tracer The tracer to start spans with, e.g. `trace.getTracer("app")`.
 * @returns The middleware, for `dispatcher.use(...)`.
 */
export function openTelemetryMiddleware(tracer: Tracer): Middleware {
  const ours = new WeakSet<Span>();
  const running = new Map<string, Span[]>();

  function parentContext(event: DomainEvent): Context {
    const active = context.active();
    const current = trace.getSpan(active);
    if (current !== undefined && ours.has(current)) return active;
    const cause = event.causationId === null
      ? undefined
      : running.get(event.causationId)?.at(-1);
    return cause === undefined ? active : trace.setSpan(active, cause);
  }

  /** Starts the span of one handler call; returns it and its context. */
  function start(event: DomainEvent, info: MiddlewareInfo): [Span, Context] {
    const attributes: Attributes = {
      "domain_event.id": event.eventId,
      "domain_event.type": event.eventType,
      "domain_event.handler": info.handlerName,
      "domain_event.depth": info.depth,
    };
    if (event.correlationId !== null) {
      attributes["domain_event.correlation_id"] = event.correlationId;
    }
    if (event.causationId !== null) {
      attributes["domain_event.causation_id"] = event.causationId;
    }
    const parent = parentContext(event);
    const creator = parseTraceparent(event.metadata["traceparent"]);
    const links: Link[] =
      creator && creator.spanId !== trace.getSpan(parent)?.spanContext().spanId
        ? [{ context: creator }]
        : [];
    const span = tracer.startSpan(
      `${event.eventType} ${info.handlerName}`,
      {
        kind: links.length ? SpanKind.CONSUMER : SpanKind.INTERNAL,
        attributes,
        links,
      },
      parent,
    );
    ours.add(span);
    const spans = running.get(event.eventId);
    if (spans === undefined) running.set(event.eventId, [span]);
    else spans.push(span);
    return [span, trace.setSpan(parent, span)];
  }

  function end(
    event: DomainEvent,
    span: Span,
    error?: { cause: unknown },
  ): void {
    if (error !== undefined) {
      const { cause } = error;
      span.recordException(cause instanceof Error ? cause : String(cause));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: cause instanceof Error ? cause.message : String(cause),
      });
    }
    span.end();
    const spans = running.get(event.eventId) ?? [];
    spans.splice(spans.indexOf(span), 1);
    if (spans.length === 0) running.delete(event.eventId);
  }

  return (event, next, info) => {
    const [span, spanContext] = start(event, info);
    let result: unknown;
    try {
      result = context.with(spanContext, () => withTraceparent(next, span));
    } catch (cause) {
      end(event, span, { cause });
      throw cause;
    }
    // A synchronous handler stays synchronous: no promise is made for it.
    if (!isPromiseLike(result)) {
      end(event, span);
      return;
    }
    return Promise.resolve(result).then(
      () => end(event, span),
      (cause: unknown) => {
        end(event, span, { cause });
        throw cause;
      },
    );
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}

if (import.meta.main) {
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
    await import("@opentelemetry/sdk-trace-base");
  const { defineEvent, InProcessEventDispatcher } = await import("../mod.ts");

  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const dispatcher = new InProcessEventDispatcher({
    errorMode: "isolate",
    onHandlerError: (error) =>
      console.log(`handler failed: ${error.message}\n`),
  });
  dispatcher.use(openTelemetryMiddleware(provider.getTracer("invites")));

  const InviteCreated = defineEvent<"invite.created", { email: string }>(
    "invite.created",
  );
  const InviteEmailSent = defineEvent<"invite.email_sent", { to: string }>(
    "invite.email_sent",
  );
  dispatcher.register(InviteCreated, async function sendEmail(event, ctx) {
    await ctx.publish(InviteEmailSent, { to: event.payload.email });
  });
  dispatcher.register(InviteEmailSent, function notifySlack() {
    throw new Error("Slack webhook timed out");
  });

  await dispatcher.dispatch(InviteCreated.create({ email: "ada@example.com" }));

  // Print the spans as a tree: each under its parent.
  const spans = exporter.getFinishedSpans();
  const print = (parentId: string | undefined, indent: string): void => {
    for (const span of spans) {
      if (span.parentSpanContext?.spanId !== parentId) continue;
      const status = span.status.code === SpanStatusCode.ERROR
        ? ` ERROR: ${span.status.message}`
        : "";
      console.log(
        `${indent}${span.name} [${span.spanContext().spanId}]${status}`,
      );
      print(span.spanContext().spanId, `${indent}  `);
    }
  };
  print(undefined, "");
}
