// The operator's page as a handler, on PGlite demo data: authorization,
// same-origin POSTs with single-use tokens, escaping, routes and options.
// The same page in a real browser: tests/admin/browser.ts (deno task test:admin).
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent } from "../../mod.ts";
import {
  type FailedOptions,
  outboxAdmin,
  PostgresOutbox,
} from "../../postgres.ts";
import { escapeHtml, renderPage } from "../../src/postgres/_admin_html.ts";
import { DEMO, SCRIPT, seedAdminDemo } from "../../examples/admin/demo_data.ts";
import { outboxFixture } from "./_outbox_fixture.ts";

const { db, fresh, storeIn } = outboxFixture({ maxAttempts: 1 });
let outbox: PostgresOutbox;
const ORIGIN = "http://127.0.0.1:8080";
const BASE = "/ops/outbox";

let admit: (request: Request) => Promise<Response>;

before(async () => {
  outbox = await seedAdminDemo(db);
  admit = handler((request) =>
    request.headers.get("authorization") === "Bearer ok"
  );
});

function handler(authorize: (request: Request) => boolean | Promise<boolean>) {
  return outboxAdmin(outbox, { authorize, basePath: BASE });
}

function get(path: string, headers: Record<string, string> = {}) {
  return admit(
    new Request(`${ORIGIN}${path}`, {
      headers: { authorization: "Bearer ok", ...headers },
    }),
  );
}

function post(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { origin: ORIGIN },
) {
  return admit(
    new Request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: { authorization: "Bearer ok", ...headers },
      body: new URLSearchParams(fields),
    }),
  );
}

async function token(): Promise<string> {
  const html = await (await get(`${BASE}/`)).text();
  return html.match(/name="token" value="([^"]+)"/)![1]!;
}

async function failedCount(): Promise<number> {
  return (await outbox.failed()).length;
}

describe("outboxAdmin", () => {
  it("refuses with a bare 403 whatever authorize refuses, throws or answers oddly", async () => {
    let calls = 0;
    for (
      const authorize of [
        () => false,
        () => Promise.resolve(false),
        () => {
          throw new Error("session store down");
        },
        () => "yes" as unknown as boolean,
      ]
    ) {
      const refusing = handler(() => {
        calls++;
        return authorize();
      });
      for (
        const request of [
          new Request(`${ORIGIN}${BASE}/`),
          new Request(`${ORIGIN}${BASE}/resubmit`, {
            method: "POST",
            headers: { origin: ORIGIN },
            body: new URLSearchParams({ listenerId: "update-search-index" }),
          }),
          new Request(`${ORIGIN}/elsewhere`),
        ]
      ) {
        const response = await refusing(request);
        assert.equal(response.status, 403);
        assert.equal(await response.text(), "Forbidden");
      }
    }
    assert.equal(calls, 12);
    assert.equal(await failedCount(), DEMO.deadLetters);
  });

  it("renders the counts, the dead letters newest first, escaped, under a strict CSP", async () => {
    const response = await get(`${BASE}`);
    assert.equal(response.status, 200);
    const csp = response.headers.get("content-security-policy")!;
    assert.match(csp, /^default-src 'none'; style-src 'nonce-[0-9a-f]{32}';/);
    assert.match(csp, /form-action 'self'/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    const html = await response.text();
    assert.ok(!html.includes("<script"), "no script tag at all");
    assert.ok(html.includes(escapeHtml(SCRIPT)), "the payload, as text");
    assert.match(
      html,
      /data-listener="update-search-index"><td>update-search-index<\/td><td data-count="pending">0<\/td><td data-count="due">0<\/td><td data-count="leased">0<\/td><td data-count="failed">3<\/td><td data-count="completed">2<\/td>/,
    );
    assert.match(
      html,
      /data-listener="ship-order"><td>ship-order<\/td><td data-count="pending">5<\/td><td data-count="due">5<\/td>/,
    );
    assert.match(
      html,
      /<tr data-listener="notify-warehouse" class="paused"><td>notify-warehouse <span class="badge">paused<\/span><\/td><td data-count="pending">5<\/td>/,
    );
    assert.equal(html.match(/class="paused"/g)?.length, 1);
    const shown = [...html.matchAll(/data-publication="(\d+)"/g)].map((m) =>
      m[1]
    );
    const failed = await outbox.failed();
    assert.deepEqual(shown, failed.map((dead) => dead.id).reverse());
    const head = await get(`${BASE}/`, {});
    assert.equal(head.status, 200);
  });

  it("resubmits one dead letter by a same-origin POST with the page's token, once", async () => {
    const pageToken = await token();
    const [newest] = (await outbox.failed()).reverse();
    const response = await post(`${BASE}/resubmit`, {
      token: pageToken,
      id: newest!.id,
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), `${BASE}/?resubmitted=1`);
    assert.equal(await failedCount(), DEMO.deadLetters - 1);
    const notice = await (await get(`${BASE}/?resubmitted=1`)).text();
    assert.match(notice, /Resubmitted 1 publication\./);
    const odd = await (await get(`${BASE}/?resubmitted=<b>`)).text();
    assert.ok(!odd.includes("Resubmitted"));
    // The token is spent: the same form again is refused.
    const again = await post(`${BASE}/resubmit`, {
      token: pageToken,
      id: newest!.id,
    });
    assert.equal(again.status, 403);
    assert.match(await again.text(), /stale/);
  });

  it("resubmits all of a listener, and refuses bad fields with a 400", async () => {
    const bad = await post(`${BASE}/resubmit`, {
      token: await token(),
      id: "1 OR 1=1",
    });
    assert.equal(bad.status, 400);
    assert.match(
      await bad.text(),
      /^Bad request: id: expected a publication id/,
    );
    const none = await post(`${BASE}/resubmit`, { token: await token() });
    assert.equal(none.status, 400);
    const notForm = await admit(
      new Request(`${ORIGIN}${BASE}/resubmit`, {
        method: "POST",
        headers: {
          authorization: "Bearer ok",
          origin: ORIGIN,
          "content-type": "multipart/form-data; boundary=x",
        },
        body: "garbage",
      }),
    );
    assert.equal(notForm.status, 400);
    const response = await post(`${BASE}/resubmit`, {
      token: await token(),
      listenerId: "update-search-index",
    });
    assert.equal(response.headers.get("location"), `${BASE}/?resubmitted=2`);
    assert.equal(await failedCount(), 0);
    assert.match(
      await (await get(`${BASE}/?resubmitted=2`)).text(),
      /Resubmitted 2 publications\./,
    );
    // They fail again, for the tests after this one.
    const relay = new PostgresOutbox(db, { maxAttempts: 1 });
    relay.registerAny("update-search-index", () => {
      throw new Error("still down");
    });
    await relay.processPending();
    assert.equal(await failedCount(), DEMO.deadLetters);
  });

  it("refuses a cross-origin POST, or one without Origin, and a forged token", async () => {
    for (
      const headers of [
        { origin: "http://evil.example" },
        { origin: "http://127.0.0.1:8081" },
        { origin: "null" },
        {} as Record<string, string>,
      ]
    ) {
      const response = await post(
        `${BASE}/resubmit`,
        { token: await token(), listenerId: "update-search-index" },
        headers,
      );
      assert.equal(response.status, 403);
      assert.match(await response.text(), /cross-origin/);
    }
    const forged = await post(`${BASE}/resubmit`, {
      token: crypto.randomUUID(),
      listenerId: "update-search-index",
    });
    assert.equal(forged.status, 403);
    const tokenless = await post(`${BASE}/resubmit`, {
      listenerId: "update-search-index",
    });
    assert.equal(tokenless.status, 403);
    assert.equal(await failedCount(), DEMO.deadLetters);
  });

  it("reads at most 16 KiB of a POST's body: a bigger one is refused, not read whole", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(65_536).fill(0x61);
    const huge = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 64 * 2 ** 20) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await admit(
      new Request(`${ORIGIN}${BASE}/resubmit`, {
        method: "POST",
        headers: {
          authorization: "Bearer ok",
          origin: ORIGIN,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: huge,
      }),
    );
    assert.equal(response.status, 413);
    assert.ok(pulled < 1_000_000, `${pulled} bytes read`);
    const empty = await admit(
      new Request(`${ORIGIN}${BASE}/resubmit`, {
        method: "POST",
        headers: { authorization: "Bearer ok", origin: ORIGIN },
      }),
    );
    assert.equal(empty.status, 400);
    assert.equal(await failedCount(), DEMO.deadLetters);
  });

  it("keeps the newest 1,000 tokens: older pages go stale", async () => {
    // An outbox with nothing to show, so that 1,001 renders are quick.
    const empty = outboxAdmin(
      {
        stats: () => Promise.resolve([]),
        failed: () => Promise.resolve([]),
        resubmit: () => Promise.resolve(0),
      } as unknown as PostgresOutbox,
      { authorize: () => true },
    );
    const render = async () => (await empty(new Request(`${ORIGIN}/`))).status;
    const post = (token: string) =>
      empty(
        new Request(`${ORIGIN}/resubmit`, {
          method: "POST",
          headers: { origin: ORIGIN },
          body: new URLSearchParams({ token, listenerId: "a" }),
        }),
      );
    const tokens: string[] = [];
    const uuid = crypto.randomUUID;
    crypto.randomUUID = () => {
      const id = uuid.call(crypto);
      tokens.push(id);
      return id;
    };
    try {
      for (let n = 0; n < 1001; n++) assert.equal(await render(), 200);
    } finally {
      crypto.randomUUID = uuid;
    }
    // Each render draws a nonce, then a token (the page has no form to
    // read it from: nothing to resubmit).
    const issued = tokens.filter((_, index) => index % 2 === 1);
    assert.equal(issued.length, 1001);
    assert.equal((await post(issued[0]!)).status, 403);
    assert.equal((await post(issued[1]!)).status, 303);
  });

  it("draws the causation tree of a correlation id, escaped, or says why not", async () => {
    const tree = await (await get(`${BASE}/?correlation=${DEMO.correlationId}`))
      .text();
    assert.match(
      tree,
      /<pre id="tree">correlation req-demo-1\n└─ order\.placed \(\w{8}\)\n {3}└─ email\.sent \(\w{8}\)<\/pre>/,
    );
    const none = await (await get(`${BASE}/?correlation=nobody`)).text();
    assert.match(none, /No stored event has the correlation id nobody\./);
    const bad = await (await get(
      `${BASE}/?correlation=${encodeURIComponent("<b> x")}`,
    )).text();
    assert.match(bad, /<p class="error">correlationId: expected 1-128 ASCII/);
    assert.ok(bad.includes('value="&#60;b&#62; x"'));
  });

  it("answers 404 outside its path and 405 to other methods", async () => {
    assert.equal((await get("/elsewhere")).status, 404);
    assert.equal((await get(`${BASE}x`)).status, 404);
    assert.equal((await get(`${BASE}/nope`)).status, 404);
    assert.equal((await get(`${BASE}/resubmit`)).status, 405);
    const put = await post(`${BASE}/`, {});
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD");
    const root = outboxAdmin(outbox, { authorize: () => true });
    assert.equal((await root(new Request(`${ORIGIN}/`))).status, 200);
  });

  it("refuses bad options with a TypeError naming them", () => {
    for (
      const [options, message] of [
        [undefined, /^outboxAdmin: expected an options object/],
        [{}, /^authorize: expected a function/],
        [{ authorize: true }, /^authorize: /],
        [{ authorize: () => true, basePath: "admin" }, /^basePath: /],
        [{ authorize: () => true, basePath: "/admin/" }, /^basePath: /],
        [{ authorize: () => true, basePath: "/a b" }, /^basePath: /],
        [{ authorize: () => true, open: true }, /unknown option "open"/],
      ] as const
    ) {
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => outboxAdmin(outbox, options as any),
        (error: Error) =>
          error instanceof TypeError && message.test(error.message),
      );
    }
  });

  it("lets database errors through to the server (500), rather than showing them", async () => {
    const down = () => Promise.reject(new Error("connection lost"));
    const failing = outboxAdmin(
      {
        stats: () => outbox.stats(),
        failed: () => outbox.failed(),
        events: down,
        resubmit: down,
      } as unknown as PostgresOutbox,
      { authorize: () => true },
    );
    await assert.rejects(
      failing(new Request(`${ORIGIN}/?correlation=x`)),
      /connection lost/,
    );
    const html = await (await failing(new Request(`${ORIGIN}/`))).text();
    const pageToken = html.match(/name="token" value="([^"]+)"/)![1]!;
    await assert.rejects(
      failing(
        new Request(`${ORIGIN}/resubmit`, {
          method: "POST",
          headers: { origin: ORIGIN },
          body: new URLSearchParams({ token: pageToken, id: "1" }),
        }),
      ),
      /connection lost/,
    );
  });

  it("counts every dead letter from stats() and shows the newest 200, past 10,000 of them, reading no more", async () => {
    // 10,050 dead letters, failed in the order they were stored. Were the
    // page to read failed() oldest first (at most 10,000) and show the last
    // 200 of those, the 50 that failed last, the newest, would never show;
    // were its total the length of what it read, the heading would lie.
    const many = await fresh();
    many.registerAny("search", () => {});
    await storeIn(
      many,
      Array.from(
        { length: 10_050 },
        (_, n) => createEvent("item.indexed", { n }),
      ),
    );
    const { publications } = many.tables;
    await db.query(
      `UPDATE ${publications} SET status = 'failed', attempts = 1,
         last_error = 'search down', failed_at = now() + id * interval '1 ms'`,
    );
    // The real outbox, recording how many dead letters each render parsed.
    const read: number[] = [];
    const page = async () =>
      await (await outboxAdmin(
        {
          stats: () => many.stats(),
          failed: async (options?: FailedOptions) => {
            const dead = await many.failed(options);
            read.push(dead.length);
            return dead;
          },
        } as PostgresOutbox,
        { authorize: () => true },
      )(new Request(`${ORIGIN}/`))).text();
    const html = await page();
    assert.match(html, /data-count="failed">10050</);
    assert.match(html, /<h2>Dead letters \(the newest 200 of 10050\)<\/h2>/);
    const shown = [...html.matchAll(/data-publication="(\d+)"/g)].map((m) =>
      Number(m[1])
    );
    const { rows } = await db.query<{ id: number }>(
      `SELECT id::int FROM ${publications} ORDER BY failed_at DESC LIMIT 200`,
    );
    assert.deepEqual(shown, rows.map((row) => row.id));
    const ids = (await db.query<{ first: number; last: number }>(
      `SELECT min(id)::int AS first, max(id)::int AS last FROM ${publications}`,
    )).rows[0]!;
    assert.ok(shown.includes(ids.last), "the last one failed is shown");
    assert.ok(!shown.includes(ids.first), "the first one failed is not");
    assert.deepEqual(read, [200]);

    // 300 left: the newest 200 of them, and the heading says so.
    await db.query(
      `UPDATE ${publications} SET status = 'pending', failed_at = NULL
         WHERE id > (SELECT min(id) + 299 FROM ${publications})`,
    );
    const fewer = await page();
    assert.match(fewer, /<h2>Dead letters \(the newest 200 of 300\)<\/h2>/);
    assert.deepEqual(
      [...fewer.matchAll(/data-publication="(\d+)"/g)].map((m) => Number(m[1])),
      Array.from({ length: 200 }, (_, n) => ids.first + 299 - n),
    );
  });

  it("marks paused listeners, shows ages, and says when there is nothing", async () => {
    const listener = {
      listenerId: "<i>",
      pending: 1,
      due: 0,
      leased: 0,
      failed: 0,
      completed: 0,
      paused: true,
    };
    const html = renderPage({
      base: "",
      token: "t",
      nonce: "n",
      stats: [
        { ...listener, oldestPendingAgeMs: 999 },
        { ...listener, oldestPendingAgeMs: 61_000, paused: false },
        { ...listener, oldestPendingAgeMs: 600_000 },
      ],
      dead: [],
      deadTotal: 0,
      notice: undefined,
      correlation: undefined,
    });
    assert.match(
      html,
      /<tr data-listener="&#60;i&#62;" class="paused"><td>&#60;i&#62; <span class="badge">paused<\/span>/,
    );
    assert.match(html, /999 ms/);
    assert.match(html, /61\.0 s/);
    assert.match(html, /10 min/);
    assert.match(html, /<p>None\.<\/p>/);
    const empty = renderPage({
      base: "",
      token: "t",
      nonce: "n",
      stats: [],
      dead: [],
      deadTotal: 0,
      notice: undefined,
      correlation: undefined,
    });
    assert.match(empty, /No listener registered or waiting/);
    const [dead] = await outbox.failed({ limit: 1 });
    const some = renderPage({
      base: "",
      token: "t",
      nonce: "n",
      stats: [],
      dead: [{ ...dead!, attempts: 1 }],
      deadTotal: 250,
      notice: undefined,
      correlation: undefined,
    });
    assert.match(some, /Dead letters \(the newest 1 of 250\)/);
    assert.match(some, /after 1 attempt </);
  });
});
