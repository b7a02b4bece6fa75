// The Node adapter of docs/outbox.md (examples/admin/node_adapter.ts) on a
// real node:http server on 127.0.0.1, run by `deno task test:admin` (the
// default suite has no network permission).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { PGlite } from "@electric-sql/pglite";
import { outboxAdmin } from "../../postgres.ts";
import { seedAdminDemo } from "../../examples/admin/demo_data.ts";
import { toNodeListener } from "../../examples/admin/node_adapter.ts";

const BASE = "/ops/outbox";
let db: PGlite;
let admit: (request: Request) => Promise<Response>;

before(async () => {
  db = new PGlite();
  const outbox = await seedAdminDemo(db);
  admit = outboxAdmin(outbox, {
    basePath: BASE,
    authorize: (request) =>
      request.headers.get("authorization") === "Bearer ok",
  });
});
after(async () => {
  await db.close();
});

describe("outboxAdmin on node:http", () => {
  it("runs on node:http through the adapter of docs/outbox.md, POSTs included", async () => {
    const server = createServer(toNodeListener(admit));
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve)
    );
    const { port } = server.address() as { port: number };
    const origin = `http://127.0.0.1:${port}`;
    try {
      const page = await fetch(`${origin}${BASE}/`, {
        headers: { authorization: "Bearer ok" },
      });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /data-listener="update-search-index"/);
      const token = html.match(/name="token" value="([^"]+)"/)![1]!;
      const refused = await fetch(`${origin}${BASE}/resubmit`, {
        method: "POST",
        headers: { authorization: "Bearer ok", origin: "http://evil.example" },
        body: new URLSearchParams({ token, id: "1" }),
      });
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
      const bad = await fetch(`${origin}${BASE}/resubmit`, {
        method: "POST",
        headers: { authorization: "Bearer ok", origin },
        body: new URLSearchParams({ token, id: "1 OR 1=1" }),
      });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /^Bad request: id:/);
    } finally {
      server.closeAllConnections(); // fetch keeps its connections alive
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
