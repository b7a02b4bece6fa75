// `deno task check:size`: bundles (deno bundle, browser, minified) and gzips
// (level 9) every entry point of deno.json and each name of PICKS imported
// alone, so that the bundler tree-shakes what the name does not use; prints
// each size and fails past its ceiling (issue #22). A pick with `without`
// also fails when its bundle holds any module of those folders: the
// unminified bundle names each module it holds in a `// src/...` line.
import { gzipSync } from "node:zlib";

interface Measure {
  /** What is printed: an entry point (".") or the names imported alone. */
  readonly name: string;
  /** The entry point the names come from (picks only). */
  readonly from?: string;
  /** Fails past it, in bytes min+gz. */
  readonly ceiling?: number;
  /**
   * DESIGN.md's size when it is not met today: printed as met or not, never
   * fails; the ceiling then guards against growth until it is decided.
   */
  readonly goal?: number;
  /** Folders of src/ none of whose modules may be in the bundle. */
  readonly without?: readonly string[];
}

const MEASURES: readonly Measure[] = [
  { name: ".", ceiling: 10240 },
  { name: "./cloudevents" },
  { name: "./testing" },
  { name: "./context" },
  { name: "./postgres" },
  { name: "createEvent", from: ".", ceiling: 3800 },
  { name: "defineEvent", from: ".", ceiling: 4800 },
  { name: "parseEvent", from: ".", ceiling: 4100 },
  { name: "formatCausationTree", from: ".", ceiling: 2300 },
  {
    name: "createEvent + InProcessEventDispatcher",
    from: ".",
    ceiling: 7500,
  },
  {
    // NOTIFY wake-up, stats() and events() (#23) took it past DESIGN.md's
    // 12,000 B: 12,976 B when they landed; 12,691 B after the trim of #22
    // item 4 and the relay's batches (#23 item 2); the ceiling was that + 1%
    // (12,820 B). The batch lock and the `concurrency` option (#23 drain
    // throughput) added 216 B (12,907 B): the ceiling rose by exactly that.
    // The `preparedStatements` option (#23, store of one event) added 126 B
    // (12,928 B to 13,054 B): the ceiling rose by exactly that.
    // failed({ newestFirst }) for the operator's page (#23) added 53 B, then
    // three defect fixes 109 B (LISTEN reconnects backing off, stopping on an
    // exhausted pool, purgeCompleted retrying a backfill's race): 13,209 B,
    // and the ceiling rose by the 47 B past it. The claim's own transaction
    // with the planner told to walk the index of pending rows (#23, drain
    // throughput on tables never analyzed) added 72 B: the ceiling rose by
    // exactly that.
    name: "PostgresOutbox",
    from: "./postgres",
    goal: 12000,
    ceiling: 13281,
    without: ["src/dispatch/"],
  },
];

const config = JSON.parse(await Deno.readTextFile("deno.json"));
const exports: Record<string, string> = config.exports;
await Deno.mkdir("dist/size", { recursive: true });

function bundle(file: string, out: string, minify: boolean): void {
  const args = ["bundle", "--quiet", "--platform=browser", "-o", out];
  if (minify) args.push("--minify");
  const result = new Deno.Command(Deno.execPath(), {
    args: [...args, "--external=node:*", file],
  }).outputSync();
  if (!result.success) {
    throw new Error(new TextDecoder().decode(result.stderr));
  }
}

/** The src/ modules an unminified bundle holds, from its `// src/...` lines. */
async function modulesOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  return [...text.matchAll(/^\/\/ (src\/\S+\.ts)$/gm)].map((match) =>
    match[1] as string
  );
}

let failed = 0;
for (const [index, measure] of MEASURES.entries()) {
  const { name, from, ceiling, goal, without } = measure;
  let file = exports[from ?? name];
  if (file === undefined) throw new Error(`no export ${from ?? name}`);
  if (from !== undefined) {
    const names = name.split(" + ");
    file = `dist/size/${names.join("_")}.ts`;
    const source = exports[from] as string;
    await Deno.writeTextFile(
      file,
      `export { ${names.join(", ")} } from "../../${source}";\n`,
    );
  }
  const out = `dist/size/${index}.min.js`;
  bundle(file, out, true);
  const size = gzipSync(await Deno.readFile(out), { level: 9 }).length;
  const notes: string[] = [];
  if (goal !== undefined) {
    notes.push(`goal ${goal} B ${size > goal ? "not met" : "met"}`);
  }
  if (ceiling !== undefined) {
    notes.push(`ceiling ${ceiling} B${size > ceiling ? ": OVER" : ""}`);
    if (size > ceiling) failed++;
  }
  if (without) {
    const plain = `dist/size/${index}.js`;
    bundle(file, plain, false);
    const modules = await modulesOf(plain);
    // No module named at all: the bundler's output changed, and the check
    // below would pass without looking.
    if (!modules.length) {
      throw new Error(`${plain}: no "// src/..." module lines to check`);
    }
    const found = modules.filter((module) =>
      without.some((folder) => module.startsWith(folder))
    );
    notes.push(
      found.length
        ? `holds ${found.join(", ")}: OVER`
        : `none of ${without.join(", ")} in it`,
    );
    if (found.length) failed++;
  }
  const label = from !== undefined && from != "." ? `${name} (${from})` : name;
  console.log(
    `${label.padEnd(40)} ${String(size).padStart(6)} B min+gz${
      notes.length ? ` (${notes.join("; ")})` : ""
    }`,
  );
}
if (failed) {
  console.log(`size: ${failed} check(s) failed`);
  Deno.exit(1);
}
