/**
 * `outboxAdmin` (or any fetch-style handler) on Node's `node:http`: the few
 * lines of adapter docs/outbox.md shows, tested in
 * tests/admin/node_adapter.ts (`deno task test:admin`). `request.url` is built from the Host
 * header; behind a proxy that terminates TLS, build it from the public origin
 * instead (the same-origin check compares it with the Origin header).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Turns a `(request: Request) => Promise<Response>` into a node:http listener. */
export function toNodeListener(
  handler: (request: Request) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Uint8Array<ArrayBuffer>);
    }
    const body = chunks.length ? new Blob(chunks) : undefined;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, String(value));
    }
    const response = await handler(
      new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method ?? "GET",
        headers,
        body: body ?? null,
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(new Uint8Array(await response.arrayBuffer()));
  };
}
