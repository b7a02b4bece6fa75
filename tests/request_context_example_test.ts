// The request-context example: the correlation id comes from the request.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  correlationIdOf,
  handleRequest,
  seen,
} from "../examples/request_context.ts";

function post(headers: Record<string, string>): Promise<Response> {
  return handleRequest(
    new Request("http://localhost/invites", {
      method: "POST",
      headers,
      body: JSON.stringify({ email: "ada@example.com" }),
    }),
  );
}

describe("examples/request_context.ts", () => {
  it("takes x-request-id, else the traceparent's trace id", async () => {
    seen.length = 0;
    const traceparent =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const responses = await Promise.all([
      post({ "x-request-id": "req-42" }),
      post({ traceparent }),
    ]);
    const bodies = await Promise.all(responses.map((r) => r.json()));
    assert.deepEqual(bodies.map((body) => body.correlationId), [
      "req-42",
      "4bf92f3577b34da6a3ce929d0e0e4736",
    ]);
    const byCorrelation = new Map(seen.map((e) => [e.correlationId, e]));
    assert.deepEqual(byCorrelation.get("req-42")?.metadata, {});
    assert.deepEqual(
      byCorrelation.get("4bf92f3577b34da6a3ce929d0e0e4736")?.metadata,
      { traceparent },
    );
  });

  it("makes a new id for a request without one, and ignores a malformed one", () => {
    const id = correlationIdOf(
      new Request("http://x", { headers: { "x-request-id": "has space" } }),
    );
    assert.match(id, /^[\da-f]{8}-[\da-f]{4}-4/);
  });
});
