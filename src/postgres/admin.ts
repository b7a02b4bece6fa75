import { formatCausationTree } from "../trace/causation_tree.ts";
import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
import type { PostgresOutbox } from "./outbox.ts";
import { type AdminView, renderPage } from "./_admin_html.ts";

/**
 * Options for {@linkcode outboxAdmin}.
 *
 * @example Usage
 * ```ts
 * import type { OutboxAdminOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: OutboxAdminOptions = {
 *   basePath: "/admin/outbox",
 *   authorize: (request) => request.headers.get("x-operator") === "yes",
 * };
 * ```
 */
export interface OutboxAdminOptions {
  /**
   * Decides whether a request may see or change anything. Required: the page
   * has no open default. A refusal (false, or a throw) answers 403 and
   * nothing else.
   */
  authorize: (request: Request) => boolean | Promise<boolean>;
  /**
   * Where the page is mounted, e.g. `/admin/outbox`: the page answers at
   * this path (with or without a final `/`), posts to `${basePath}/resubmit`,
   * and answers 404 elsewhere.
   *
   * @default {""}
   */
  basePath?: string;
}

/** How long a rendered page's token stays usable, and how many are kept. */
const TOKEN_MS = 3_600_000;
const TOKENS_KEPT = 1000;
/** The most dead letters one render reads and shows, newest first. */
const DEAD_SHOWN = 200;
/** The most bytes of a POST's body read: the page's forms send a few hundred. */
const FORM_BYTES = 16_384;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
  "x-frame-options": "DENY",
};

/**
 * The operator's page of a {@linkcode PostgresOutbox}, as a web-standard
 * handler: mount it on `Deno.serve`, `Bun.serve`, Hono, or Node through a
 * few lines of adapter (docs/outbox.md, "The operator's page"). One HTML
 * page, no script, no external asset, a strict Content-Security-Policy:
 * each listener's {@linkcode PostgresOutbox.stats} (paused ones marked),
 * the newest 200 dead letters (newest first, all of them counted) with
 * their error and event, a resubmit button for one or all of a listener,
 * and the causation tree of a correlation id typed into a form.
 *
 * `authorize(request)` runs first on every request; a refusal answers 403.
 * Changes are POSTs only, refused (403) unless the Origin header is the
 * request's own origin and the form carries the token of a page this
 * handler rendered (single use, an hour at most). Everything shown is
 * escaped: a payload or error holding `<script>` shows as text.
 *
 * @param outbox The outbox to show.
 * @param options `authorize`, and `basePath` when not mounted at the root.
 * @returns A `(request: Request) => Promise<Response>` handler.
 * @throws {TypeError} When `authorize` is missing or `basePath` is not a path.
 *
 * @example Serve it (Deno.serve shown; any fetch-style server works)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { outboxAdmin, PostgresOutbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const outbox = new PostgresOutbox(db);
 * await outbox.migrate();
 * const admin = outboxAdmin(outbox, {
 *   basePath: "/admin/outbox",
 *   authorize: (request) => request.headers.get("authorization") === "Bearer s3cret",
 * });
 * // Deno.serve({ hostname: "127.0.0.1", port: 8080 }, admin);
 * const page = await admin(new Request("http://localhost/admin/outbox", {
 *   headers: { authorization: "Bearer s3cret" },
 * }));
 * assert.equal(page.status, 200);
 * assert.match(await page.text(), /<h1>Outbox<\/h1>/);
 * const refused = await admin(new Request("http://localhost/admin/outbox"));
 * assert.equal(refused.status, 403);
 * await db.close();
 * ```
 */
export function outboxAdmin(
  outbox: PostgresOutbox,
  options: OutboxAdminOptions,
): (request: Request) => Promise<Response> {
  checkOptions(options, ["authorize", "basePath"], "outboxAdmin");
  const { authorize, basePath = "" } = options;
  checkArgument(
    typeof authorize == "function",
    "authorize",
    "a function (request) => boolean",
    authorize,
  );
  checkArgument(
    typeof basePath == "string" && /^(\/[\w.~-]+)*$/.test(basePath),
    "basePath",
    'a path like "/admin/outbox" (or "" for the root)',
    basePath,
  );
  const tokens = new Map<string, number>();

  function issueToken(): string {
    const token = crypto.randomUUID();
    tokens.set(token, Date.now() + TOKEN_MS);
    if (tokens.size > TOKENS_KEPT) {
      tokens.delete(tokens.keys().next().value as string);
    }
    return token;
  }

  function spendToken(token: unknown): boolean {
    const expires = typeof token == "string" ? tokens.get(token) : undefined;
    if (expires === undefined) return false;
    tokens.delete(token as string);
    return expires > Date.now();
  }

  async function page(url: URL): Promise<Response> {
    const [stats, dead] = await Promise.all([
      outbox.stats(),
      outbox.failed({ limit: DEAD_SHOWN, newestFirst: true }),
    ]);
    // stats() counts them all; a failure between the two reads is in one.
    const deadTotal = Math.max(
      stats.reduce((total, listener) => total + listener.failed, 0),
      dead.length,
    );
    const resubmitted = url.searchParams.get("resubmitted");
    const id = url.searchParams.get("correlation");
    let correlation: AdminView["correlation"];
    if (id !== null) {
      try {
        const events = await outbox.events({ correlationId: id });
        correlation = {
          id,
          tree: events.length ? formatCausationTree(events) : undefined,
        };
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        correlation = { id, error: error.message };
      }
    }
    const nonce = crypto.randomUUID().replaceAll("-", "");
    const html = renderPage({
      base: basePath,
      token: issueToken(),
      nonce,
      stats,
      dead,
      deadTotal,
      notice: resubmitted !== null && /^\d{1,9}$/.test(resubmitted)
        ? `Resubmitted ${resubmitted} publication${
          resubmitted === "1" ? "" : "s"
        }.`
        : undefined,
      correlation,
    });
    return new Response(html, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy":
          `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      },
    });
  }

  async function resubmit(request: Request, url: URL): Promise<Response> {
    if (request.headers.get("origin") !== url.origin) {
      return plain(403, "Forbidden: cross-origin request");
    }
    const form = await readForm(request);
    if (form instanceof Response) return form;
    if (!spendToken(form.get("token"))) {
      return plain(403, "Forbidden: the page is stale, reload it");
    }
    const id = form.get("id");
    const listenerId = form.get("listenerId");
    let count: number;
    try {
      count = await outbox.resubmit(
        typeof id == "string"
          ? { id }
          : { listenerId: typeof listenerId == "string" ? listenerId : "" },
      );
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return plain(400, `Bad request: ${error.message}`);
    }
    return new Response(null, {
      status: 303,
      headers: {
        ...SECURITY_HEADERS,
        location: `${basePath}/?resubmitted=${count}`,
      },
    });
  }

  return async (request) => {
    let allowed = false;
    try {
      allowed = (await authorize(request)) === true;
    } catch {
      // A throwing authorize refuses: the page fails closed.
    }
    if (!allowed) return plain(403, "Forbidden");
    const url = new URL(request.url);
    const path = url.pathname.slice(basePath.length);
    if (!url.pathname.startsWith(basePath)) return plain(404, "Not found");
    if (path === "" || path === "/") {
      if (request.method === "GET" || request.method === "HEAD") {
        return await page(url);
      }
      return plain(405, "Method not allowed", { allow: "GET, HEAD" });
    }
    if (path === "/resubmit") {
      if (request.method === "POST") return await resubmit(request, url);
      return plain(405, "Method not allowed", { allow: "POST" });
    }
    return plain(404, "Not found");
  };
}

/**
 * The form of a POST, reading at most FORM_BYTES of its body (formData()
 * would read any size, in memory), or the response refusing it.
 */
async function readForm(request: Request): Promise<FormData | Response> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    const reader = request.body?.getReader();
    for (let read = await reader?.read(); read && !read.done;) {
      size += read.value.byteLength;
      if (size > FORM_BYTES) {
        await reader!.cancel();
        return plain(413, "Payload too large");
      }
      chunks.push(read.value as Uint8Array<ArrayBuffer>);
      read = await reader!.read();
    }
    return await new Response(new Blob(chunks), {
      headers: request.headers,
    }).formData();
  } catch {
    return plain(400, "Bad request: expected a form");
  }
}

function plain(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(text, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      ...headers,
      "content-type": "text/plain; charset=utf-8",
    },
  });
}
