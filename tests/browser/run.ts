/**
 * `deno task test:browser`: the library in a real browser. Bundles the entries
 * that run in a browser (`mod.ts`, `cloudevents.ts`, `testing.ts`, with
 * `deno bundle --platform browser`) and zod into dist/browser/, serves them
 * with tests/browser/index.html and checks.js on a free loopback port, opens
 * the page in headless Chromium (Debian's `chromium`) and waits for every
 * check of checks.js to report. Fails when a check fails, when one never
 * reports, or when the page reports nothing within DEADLINE_MS (a hung or
 * blank page, not a slow one: the checks take well under a second).
 *
 * @module
 */

const EXPECTED = [
  "platform",
  "create",
  "defineWithSchema",
  "publishChain",
  "timeoutsAndAbort",
  "parse",
  "cloudEvents",
  "causationTree",
  "structuredCloneRefused",
] as const;
const DEADLINE_MS = 180_000;
const OUT = "dist/browser";

type Outcome = { name: string; ok: boolean; message?: string };

async function run(command: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(command, { args }).output();
  if (code !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${code}`);
}

async function bundle(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  const entries: [string, string][] = [
    ["mod.ts", "mod.js"],
    ["cloudevents.ts", "cloudevents.js"],
    ["testing.ts", "testing.js"],
    ["tests/browser/zod.ts", "zod.js"],
  ];
  for (const [entry, file] of entries) {
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "-o",
      `${OUT}/${file}`,
      entry,
    ]);
  }
  await Deno.copyFile(`${OUT}/mod.js`, `${OUT}/domain-events.js`);
  await Deno.writeTextFile(`${OUT}/readme.html`, await readmePage());
  await Deno.copyFile("tests/browser/index.html", `${OUT}/index.html`);
  await Deno.copyFile("tests/browser/checks.js", `${OUT}/checks.js`);
}

/** The ten-line page of the README's "In a browser" section, as written. */
async function readmePage(): Promise<string> {
  const readme = await Deno.readTextFile("README.md");
  const section = readme.slice(readme.indexOf("### In a browser"));
  const page = /```html\n([^]*?)```/.exec(section)?.[1];
  if (!page) throw new Error("README.md: no html block under In a browser");
  return page;
}

/** Loads the README's page in headless Chromium and returns its DOM. */
async function readmeDom(origin: string, profile: string): Promise<string> {
  const { stdout } = await new Deno.Command("chromium", {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}-readme`,
      "--dump-dom",
      "--virtual-time-budget=10000",
      `${origin}/readme.html`,
    ],
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout);
}

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-extensions",
];

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

async function serveFile(pathname: string): Promise<Response> {
  const name = pathname === "/" ? "index.html" : pathname.slice(1);
  if (!/^[\w.-]+$/.test(name)) {
    return new Response("not found", { status: 404 });
  }
  try {
    const body = await Deno.readFile(`${OUT}/${name}`);
    const type = CONTENT_TYPES[name.split(".").pop() ?? ""] ?? "text/plain";
    return new Response(body, { headers: { "content-type": type } });
  } catch {
    return new Response("not found", { status: 404 });
  }
}

async function main(): Promise<boolean> {
  await bundle();
  const outcomes = new Map<string, Outcome>();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stopServer = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stopServer.signal,
    onListen() {},
  }, async (request) => {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/report") {
      const outcome = (await request.json()) as Outcome;
      if (outcome.name === "done") finish();
      else if (!outcomes.has(outcome.name) || !outcome.ok) {
        outcomes.set(outcome.name, outcome);
      }
      if (outcome.name === "page") finish();
      return new Response("ok");
    }
    return serveFile(pathname);
  });
  const profile = await Deno.makeTempDir({ dir: "dist", prefix: "chromium-" });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const url = `${origin}/index.html`;
  const chromium = new Deno.Command("chromium", {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      url,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = chromium.stderr.pipeThrough(new TextDecoderStream());
  let chromiumLog = "";
  const logDone = (async () => {
    for await (const chunk of stderr) chromiumLog += chunk;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), DEADLINE_MS);
  });
  const exited = chromium.status.then(() => "exited" as const);
  try {
    const how = await Promise.race([
      finished.then(() => "done"),
      timedOut,
      exited,
    ]);
    console.log(`chromium: ${url} (${how})`);
    let failed = 0;
    for (const name of EXPECTED) {
      const outcome = outcomes.get(name);
      if (outcome?.ok) console.log(`ok   ${name}`);
      else {
        failed++;
        console.log(`FAIL ${name}: ${outcome?.message ?? "never reported"}`);
      }
    }
    const dom = await readmeDom(origin, profile);
    const said = "click.logged, caused by button.clicked";
    if (dom.includes(said)) {
      console.log(`ok   the README's page says "${said}"`);
    } else {
      failed++;
      console.log(`FAIL the README's page, its DOM:\n${dom}`);
    }
    const page = outcomes.get("page");
    if (page) {
      failed++;
      console.log(`FAIL page error: ${page.message}`);
    }
    if (how !== "done") {
      failed++;
      console.log(`FAIL the page did not finish (${how})`);
      if (how === "exited") console.log(chromiumLog);
    }
    const passed = EXPECTED.filter((name) => outcomes.get(name)?.ok).length;
    console.log(
      `browser: ${passed} of ${EXPECTED.length} page checks passed, ` +
        `${failed} failure(s) in all (the README's page included)`,
    );
    return failed === 0;
  } finally {
    clearTimeout(timer);
    try {
      chromium.kill("SIGTERM");
    } catch { /* already exited */ }
    await chromium.status;
    await logDone.catch(() => {});
    stopServer.abort();
    await server.finished;
    await Deno.remove(profile, { recursive: true });
    await Deno.remove(`${profile}-readme`, { recursive: true }).catch(() => {});
  }
}

if (!(await main())) Deno.exit(1);
