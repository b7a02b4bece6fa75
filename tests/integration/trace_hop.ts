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
import { natsRelay } from "../../examples/nats/relay.ts";
import { consumeEvents } from "../../examples/nats/consumer.ts";
import { type NatsServer, startNats } from "../_servers/nats.ts";
import { CONSUMER, createStream, STREAM_NAME } from "./_setup.ts";

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
    await createStream(await jetstreamManager(nats));
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
    await natsRelay(jetstream(nats), "/invites")(event);

    // The consumer: its own dispatcher, traced by its own provider.
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.use(openTelemetryMiddleware(consumer.tracer));
    const stop = new AbortController();
    const received: string[] = [];
    dispatcher.register(InviteCreated, function sendEmail(delivered) {
      received.push(delivered.eventId);
      stop.abort();
    });
    await consumeEvents({
      consumer: await jetstream(nats).consumers.get(STREAM_NAME, CONSUMER),
      dispatcher,
      signal: stop.signal,
    });

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
