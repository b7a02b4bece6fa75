// A headless Chromium driven over the DevTools protocol, for the operator
// page's browser test: Debian's `chromium` (or $CHROMIUM), started with
// --remote-debugging-port=0 on a throwaway profile, one page attached in
// flat mode, commands over Deno's built-in WebSocket. Nothing from npm.

/** A DevTools protocol message from the browser. */
interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** One page of a running headless Chromium. */
export interface BrowserPage {
  /** Sends a command to the page and resolves with its result. */
  send(
    method: string,
    params?: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the params of the next event `method` of the page that passes `test`. */
  next(
    method: string,
    test?: (params: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  /** Evaluates `expression` in the page and resolves with its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Navigates (or runs `action`) and waits for the page's load event. */
  load(action: string | (() => Promise<unknown>)): Promise<void>;
  /** Clicks the middle of the element `selector` with real mouse events. */
  click(selector: string): Promise<void>;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** Starts a headless Chromium and opens one blank page. */
export async function launchChromium(): Promise<BrowserPage> {
  const profile = await Deno.makeTempDir({ prefix: "seedwork-chromium-" });
  const child = new Deno.Command(Deno.env.get("CHROMIUM") ?? "chromium", {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--hide-scrollbars",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "--window-size=1000,900",
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = await devToolsUrl(child.stderr);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  let ids = 0;
  const pending = new Map<
    number,
    {
      resolve: (result: Record<string, unknown>) => void;
      reject: (error: Error) => void;
    }
  >();
  const waiters: {
    method: string;
    test: (params: Record<string, unknown>) => boolean;
    resolve: (params: Record<string, unknown>) => void;
  }[] = [];
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data as string) as Message;
    if (data.id !== undefined) {
      const call = pending.get(data.id);
      pending.delete(data.id);
      if (data.error) call?.reject(new Error(data.error.message));
      else call?.resolve(data.result ?? {});
      return;
    }
    const params = data.params ?? {};
    const index = waiters.findIndex((waiter) =>
      waiter.method === data.method && waiter.test(params)
    );
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(params);
  };
  function command(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = ++ids;
    socket.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) =>
      pending.set(id, { resolve, reject })
    );
  }
  const { targetId } = await command("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await command("Target.attachToTarget", {
    targetId,
    flatten: true,
  }) as { sessionId: string };
  const page: BrowserPage = {
    send: (method, params) => command(method, params, sessionId),
    next: (method, test = () => true) =>
      new Promise((resolve) => waiters.push({ method, test, resolve })),
    async evaluate<T>(expression: string): Promise<T> {
      const { result, exceptionDetails } = await page.send(
        "Runtime.evaluate",
        { expression, returnByValue: true },
      ) as { result: { value: T }; exceptionDetails?: unknown };
      if (exceptionDetails) {
        throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
      }
      return result.value;
    },
    async load(action) {
      const loaded = page.next("Page.loadEventFired");
      if (typeof action === "string") {
        await page.send("Page.navigate", { url: action });
      } else await action();
      await loaded;
    },
    async click(selector) {
      const box = await page.evaluate<
        { x: number; y: number } | null
      >(`(() => {
        const element = document.querySelector(${JSON.stringify(selector)});
        if (!element) return null;
        element.scrollIntoView({ block: "center" });
        const r = element.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      })()`);
      if (!box) throw new Error(`nothing matches ${selector}`);
      for (const type of ["mousePressed", "mouseReleased"]) {
        await page.send("Input.dispatchMouseEvent", {
          type,
          x: box.x,
          y: box.y,
          button: "left",
          clickCount: 1,
        });
      }
    },
    async close() {
      try {
        await command("Browser.close");
      } catch {
        // the connection may drop before the answer
      }
      socket.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
  await page.send("Page.enable");
  return page;
}

/** Reads Chromium's stderr up to "DevTools listening on ws://...". */
async function devToolsUrl(
  stderr: ReadableStream<Uint8Array>,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stderr.getReader();
  const deadline = setTimeout(() => reader.cancel(), 60_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const found = text.match(/DevTools listening on (ws:\/\/\S+)/);
      if (found) {
        // Keep draining stderr so the browser never blocks on a full pipe.
        (async () => {
          while (!(await reader.read()).done) { /* discard */ }
        })().catch(() => {});
        return found[1]!;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  throw new Error(`chromium did not start:\n${text}`);
}
