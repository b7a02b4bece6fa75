// The operator's page in a real browser (`deno task test:admin`): headless
// Chromium loads it from a server this test starts on 127.0.0.1 over the
// PGlite demo data, checks the counts, resubmits a dead letter by clicking,
// sees the count change, checks that a `<script>` payload did not run, and
// saves a screenshot (dist/outbox-admin.png, or $ADMIN_SCREENSHOT: the one
// docs/outbox.md shows is made with ADMIN_SCREENSHOT=docs/outbox-admin.png).
// A cross-origin form POST and a refused authorize are tested in the same
// browser. Not named *_test.ts: `deno task test` needs no browser.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { outboxAdmin, type PostgresOutbox } from "../../postgres.ts";
import { DEMO, SCRIPT, seedAdminDemo } from "../../examples/admin/demo_data.ts";
import { type BrowserPage, launchChromium } from "./_cdp.ts";

const SECRET = crypto.randomUUID();
let db: PGlite;
let outbox: PostgresOutbox;
let server: Deno.HttpServer<Deno.NetAddr>;
let attacker: Deno.HttpServer<Deno.NetAddr>;
let browser: BrowserPage;
let base: string;

before(async () => {
  db = new PGlite();
  outbox = await seedAdminDemo(db);
  const admin = outboxAdmin(outbox, {
    basePath: "/admin/outbox",
    // A header the browser sends on every request (set over the DevTools
    // protocol), as a session cookie would be.
    authorize: (request) => request.headers.get("x-operator") === SECRET,
  });
  server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, admin);
  base = `http://127.0.0.1:${server.addr.port}/admin/outbox`;
  browser = await launchChromium();
  await browser.send("Network.enable");
  await browser.send("Network.setExtraHTTPHeaders", {
    headers: { "x-operator": SECRET },
  });
  await browser.send("Emulation.setDeviceMetricsOverride", {
    width: 1000,
    height: 900,
    deviceScaleFactor: 1,
    mobile: false,
  });
});
after(async () => {
  await browser?.close();
  await attacker?.shutdown();
  await server?.shutdown();
  await db?.close();
});

function count(listener: string, column: string): Promise<string> {
  return browser.evaluate(
    `document.querySelector('[data-listener="${listener}"] [data-count="${column}"]').textContent`,
  );
}

describe("the operator's page in headless Chromium", () => {
  it("shows the counts and the dead letters, and the <script> payload as text that never ran", async () => {
    await browser.load(`${base}/`);
    assert.equal(await browser.evaluate("document.title"), "Outbox");
    assert.equal(await count("update-search-index", "failed"), "3");
    assert.equal(await count("update-search-index", "completed"), "2");
    assert.equal(await count("send-confirmation", "completed"), "5");
    assert.equal(await count("ship-order", "pending"), "5");
    assert.deepEqual(
      await browser.evaluate(
        "[...document.querySelectorAll('tr.paused')].map((row) => row.dataset.listener)",
      ),
      [DEMO.paused],
    );
    assert.equal(
      await browser.evaluate("document.querySelectorAll('.dead').length"),
      DEMO.deadLetters,
    );
    assert.equal(
      await browser.evaluate("document.querySelectorAll('script').length"),
      0,
    );
    const text = await browser.evaluate<string>("document.body.innerText");
    assert.ok(text.includes(SCRIPT), "the payload shows as text");
  });

  it("resubmits a dead letter by clicking its button, and the count goes down", async () => {
    const [oldest] = await outbox.failed();
    await browser.load(() =>
      browser.click(`[data-publication="${oldest!.id}"] button`)
    );
    assert.equal(
      await browser.evaluate("location.search"),
      "?resubmitted=1",
    );
    assert.match(
      await browser.evaluate<string>(
        "document.querySelector('.notice').textContent",
      ),
      /Resubmitted 1 publication\./,
    );
    assert.equal(await count("update-search-index", "failed"), "2");
    assert.equal(await count("update-search-index", "pending"), "1");
    assert.equal(
      await browser.evaluate(
        `document.querySelector('[data-publication="${oldest!.id}"]')`,
      ),
      null,
    );
    assert.equal((await outbox.failed()).length, DEMO.deadLetters - 1);
  });

  it("draws the causation tree of a correlation id typed into the form", async () => {
    await browser.evaluate(
      `document.querySelector('input[name="correlation"]').value = "${DEMO.correlationId}"`,
    );
    await browser.load(() => browser.click("form[method=get] button"));
    assert.match(
      await browser.evaluate<string>(
        "document.getElementById('tree').textContent",
      ),
      /^correlation req-demo-1\n└─ order\.placed \(\w{8}\)\n {3}└─ email\.sent \(\w{8}\)$/,
    );
    const screenshot = Deno.env.get("ADMIN_SCREENSHOT") ??
      "dist/outbox-admin.png";
    await browser.send("Emulation.setDeviceMetricsOverride", {
      width: 1000,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const { data } = await browser.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: false,
    }) as { data: string };
    await Deno.mkdir(screenshot.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeFile(
      screenshot,
      Uint8Array.from(atob(data), (c) => c.charCodeAt(0)),
    );
    assert.equal(await browser.evaluate("document.title"), "Outbox");
  });

  it("refuses a form posted from another origin, even with a valid token", async () => {
    await browser.load(`${base}/`);
    const token = await browser.evaluate<string>(
      "document.querySelector('input[name=token]').value",
    );
    // Another origin (another port) serves a page whose form posts to the
    // operator's page, with the token (as if it had leaked).
    attacker = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response(
          `<!doctype html><form method="post" action="${base}/resubmit">
          <input type="hidden" name="token" value="${token}">
          <input type="hidden" name="listenerId" value="update-search-index">
          <button id="go">Win a prize</button></form>`,
          { headers: { "content-type": "text/html" } },
        ),
    );
    await browser.load(`http://127.0.0.1:${attacker.addr.port}/`);
    await browser.load(() => browser.click("#go"));
    assert.equal(
      await browser.evaluate("document.body.innerText"),
      "Forbidden: cross-origin request",
    );
    assert.equal((await outbox.failed()).length, DEMO.deadLetters - 1);
  });

  it("shows nothing but 403 when authorize refuses", async () => {
    await browser.send("Network.setExtraHTTPHeaders", {
      headers: { "x-operator": "wrong" },
    });
    // The page's own response (not a late favicon request of the last page).
    const response = browser.next(
      "Network.responseReceived",
      (params) =>
        (params as { response: { url: string } }).response.url === `${base}/`,
    );
    await browser.load(`${base}/`);
    const { response: { status } } = await response as {
      response: { status: number };
    };
    assert.equal(status, 403);
    assert.equal(
      await browser.evaluate("document.body.innerText"),
      "Forbidden",
    );
  });
});
