// Trace context across the NATS hop: an event created inside a span carries
// its traceparent; the consumer's handler span, in another "service" (its
// own tracer provider), links to that span. Real nats-server, in-memory
// exporters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { SpanKind } from "@opentelemetry/api";
import { defineEvent, InProcessEventDispatcher } from "../../mod.ts";
import {
  openTelemetryMiddleware,
  withTraceparent,
} from "../../examples/opentelemetry.ts";
import { PGlite } from "@electric-sql/pglite";
import {
  consumeEvents,
  ensureConsumer,
  ensureStream,
  natsRelay,
} from "../../nats.ts";
import { PostgresInbox } from "../../postgres.ts";
import { type NatsServer, startNats } from "../_servers/nats.ts";
import { CONSUMER, STREAM_NAME } from "./_setup.ts";

function service(name: string) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { exporter, tracer: provider.getTracer(name) };
}

const InviteCreated = defineEvent<"invite.created", { email: string }>(
  "invite.created",
);

describe("trace context across NATS", () => {
  let server: NatsServer;
  let nats: NatsConnection;
  before(async () => {
    server = await startNats();
    nats = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nats);
    await ensureStream(jsm, { stream: STREAM_NAME });
    await ensureConsumer(jsm, { name: CONSUMER, stream: STREAM_NAME });
  });
  after(async () => {
    await nats.close();
    await server.stop();
  });

  it("links the consumer's span to the span that created the event", async () => {
    const producer = service("invites");
    const consumer = service("mailer");

    // The producer: a request span, the event created inside it, relayed.
    const requestSpan = producer.tracer.startSpan("POST /invites");
    const event = withTraceparent(
      () => InviteCreated.create({ email: "ada@example.com" }),
      requestSpan,
    );
    requestSpan.end();
    await natsRelay(jetstream(nats), {
      source: "/invites",
      stream: STREAM_NAME,
    })(event);

    // The consumer: its own dispatcher, traced by its own provider.
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.use(openTelemetryMiddleware(consumer.tracer));
    const stop = new AbortController();
    const received: string[] = [];
    dispatcher.register(InviteCreated, function sendEmail(delivered) {
      received.push(delivered.eventId);
      stop.abort();
    });
    const db = new PGlite();
    const inbox = new PostgresInbox(db);
    await inbox.migrate();
    await consumeEvents({
      consumer: await jetstream(nats).consumers.get(STREAM_NAME, CONSUMER),
      inbox,
      name: "mailer",
      definitions: [InviteCreated],
      dispatcher: () => dispatcher,
      signal: stop.signal,
    });
    await db.close();

    assert.deepEqual(received, [event.eventId]);
    const [handlerSpan] = consumer.exporter.getFinishedSpans();
    assert.equal(handlerSpan?.name, "invite.created sendEmail");
    assert.equal(handlerSpan?.kind, SpanKind.CONSUMER);
    const { traceId, spanId } = requestSpan.spanContext();
    assert.deepEqual(
      handlerSpan?.links.map((
        link,
      ) => [link.context.traceId, link.context.spanId]),
      [[traceId, spanId]],
    );
    assert.equal(
      event.metadata["traceparent"],
      `00-${traceId}-${spanId}-01`,
    );
  });
});
