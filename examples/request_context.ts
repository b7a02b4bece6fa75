// A fetch handler whose every event carries the request's correlation id,
// taken from `x-request-id` or from the trace id of a W3C `traceparent`,
// without passing it through the domain code. Runs on Deno, Bun, Node and
// Cloudflare Workers (nodejs_compat):
//   deno run examples/request_context.ts
import {
  defineEvent,
  type DomainEvent,
  InProcessEventDispatcher,
} from "../mod.ts";
import { withEventContext } from "../src/context/with_event_context.ts";

const InviteCreated = defineEvent<"invite.created", { email: string }>(
  "invite.created",
);

export const dispatcher = new InProcessEventDispatcher();
export const seen: DomainEvent[] = [];
dispatcher.registerAny((event) => {
  seen.push(event);
});

/** The domain: it knows nothing of requests or correlation ids. */
function inviteUser(email: string): DomainEvent {
  return InviteCreated.create({ email });
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The request's correlation id: `x-request-id`, else the traceparent's trace id, else a new UUID. */
export function correlationIdOf(request: Request): string {
  const requestId = request.headers.get("x-request-id");
  if (requestId && /^[!-~]{1,128}$/.test(requestId)) return requestId;
  const traceId = TRACEPARENT.exec(request.headers.get("traceparent") ?? "")
    ?.[1];
  return traceId ?? crypto.randomUUID();
}

/** The fetch handler: one context per request, around everything it runs. */
export function handleRequest(request: Request): Promise<Response> {
  const traceparent = request.headers.get("traceparent");
  return withEventContext(
    {
      correlationId: correlationIdOf(request),
      metadata: traceparent ? { traceparent } : {},
    },
    async () => {
      const { email } = await request.json() as { email: string };
      const event = inviteUser(email);
      await dispatcher.dispatch(event);
      return Response.json({
        eventId: event.eventId,
        correlationId: event.correlationId,
      });
    },
  );
}

if (import.meta.main) {
  const post = (headers: Record<string, string>) =>
    handleRequest(
      new Request("http://localhost/invites", {
        method: "POST",
        headers,
        body: JSON.stringify({ email: "ada@example.com" }),
      }),
    );
  await Promise.all([
    post({ "x-request-id": "req-42" }),
    post({
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }),
  ]);
  for (const event of seen) {
    console.log(
      `${event.eventType} correlation=${event.correlationId} metadata=${
        JSON.stringify(event.metadata)
      }`,
    );
  }
}
