/**
 * The operator's page over demo data: `deno task demo:admin` serves it on
 * 127.0.0.1 (a free port) and prints the URL, the user and the password
 * (HTTP Basic, checked in `authorize`). With `--check` it fetches the page
 * once, checks what it shows, and exits: `deno task demo:admin:check`, which
 * CI runs.
 *
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { outboxAdmin } from "../../postgres.ts";
import { DEMO, seedAdminDemo } from "./demo_data.ts";

const db = new PGlite();
const outbox = await seedAdminDemo(db);
const password = crypto.randomUUID();
const credentials = `Basic ${btoa(`operator:${password}`)}`;
const admin = outboxAdmin(outbox, {
  basePath: "/admin/outbox",
  authorize: (request) => request.headers.get("authorization") === credentials,
});

const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  (request) =>
    // Without credentials, ask the browser for them; everything else is
    // the page's to decide (a wrong password gets its 403).
    request.headers.has("authorization")
      ? admin(request)
      : new Response("Log in", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="outbox"' },
      }),
);
const url = `http://127.0.0.1:${server.addr.port}/admin/outbox/`;

if (Deno.args.includes("--check")) {
  const response = await fetch(url, {
    headers: { authorization: credentials },
  });
  const html = await response.text();
  const problems = [
    response.status === 200 || `status ${response.status}`,
    html.includes(`data-listener="update-search-index"`) ||
    "no update-search-index row",
    html.includes(`data-listener="${DEMO.paused}" class="paused"`) ||
    "the paused listener is not marked",
    html.match(/class="dead"/g)?.length === DEMO.deadLetters ||
    "dead letters missing",
    !html.includes("<script>") || "an unescaped <script>",
    response.headers.get("content-security-policy")?.includes(
      "default-src 'none'",
    ) || "no strict Content-Security-Policy",
    (await fetch(url)).status === 401 || "served without credentials",
  ].filter((result) => result !== true);
  await server.shutdown();
  await db.close();
  if (problems.length) {
    console.error(`demo:admin check failed: ${problems.join("; ")}`);
    Deno.exit(1);
  }
  console.log(`demo:admin: ${url} served the page over the demo data: ok`);
} else {
  console.log(`The outbox's operator page: ${url}`);
  console.log(`user: operator  password: ${password}`);
  console.log("Ctrl-C to stop.");
}
