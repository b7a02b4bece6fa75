// `deno task check:cycles`: fails when the modules of src/ import each other
// in a cycle, type-only imports included. The graph is deno's own
// (`deno info --json`, whose dependencies carry `code` and `type` targets);
// every elementary cycle is printed, each once, from its first module in
// sorted order.
const ROOT = new URL("..", import.meta.url).pathname;
const SRC = ROOT + "src/";

/**
 * Cycles known and being fixed elsewhere, which do not fail the check until
 * they are gone (then the check fails, asking to remove them from here).
 */
const ALLOWED = new Set<string>([
  // Issue #22, item 2: the "engine" branch rewrites src/dispatch/ without
  // this cycle; the lead removes this entry when merging it.
  "src/dispatch/_dispatch.ts -> src/dispatch/dispatcher.ts -> src/dispatch/_dispatch.ts",
]);

interface InfoDependency {
  readonly code?: { readonly specifier: string };
  readonly type?: { readonly specifier: string };
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly InfoDependency[];
}

/** Every .ts file under `folder`, as a path relative to the repository. */
async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const path = folder + entry.name;
    if (entry.isDirectory) files.push(...await sourceFiles(path + "/"));
    else if (entry.name.endsWith(".ts")) files.push(path.slice(ROOT.length));
  }
  return files;
}

/** The modules of `deno info --json` for `file` and everything it imports. */
async function info(file: string): Promise<InfoModule[]> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: ROOT,
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout)).modules;
}

/** A file URL under src/ as a repository path; anything else as undefined. */
function srcPath(specifier: string): string | undefined {
  const path = specifier.startsWith("file://")
    ? decodeURIComponent(new URL(specifier).pathname)
    : "";
  return path.startsWith(SRC) ? path.slice(ROOT.length) : undefined;
}

/** From each module of src/, the modules of src/ it imports, types or code. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for (const file of (await sourceFiles(SRC)).sort()) {
    if (graph.has(file)) continue; // met in the graph of an earlier file
    for (const module of await info(file)) {
      const from = srcPath(module.specifier);
      if (from === undefined || graph.has(from)) continue;
      const targets = new Set<string>();
      for (const { code, type } of module.dependencies ?? []) {
        for (const target of [code, type]) {
          const to = target && srcPath(target.specifier);
          if (to !== undefined) targets.add(to);
        }
      }
      graph.set(from, targets);
    }
  }
  return graph;
}

/**
 * Every elementary cycle of `graph`, each as its modules from the first in
 * sorted order, once: the paths from each module through later ones only
 * that come back to it.
 */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const walk = (start: string, path: string[]): void => {
    for (const next of graph.get(path.at(-1)!) ?? []) {
      if (next === start) found.push([...path, start]);
      else if (next > start && !path.includes(next)) {
        walk(start, [...path, next]);
      }
    }
  };
  for (const start of [...graph.keys()].sort()) walk(start, [start]);
  return found;
}

const found = cycles(await importGraph()).map((cycle) => cycle.join(" -> "));
let failed = false;
for (const cycle of found) {
  const allowed = ALLOWED.has(cycle);
  failed ||= !allowed;
  console.log(`${allowed ? "allowed" : "cycle"}: ${cycle}`);
}
for (const cycle of ALLOWED) {
  if (found.includes(cycle)) continue;
  failed = true;
  console.log(
    `gone (remove it from ALLOWED in scripts/check_cycles.ts): ${cycle}`,
  );
}
console.log(
  `check:cycles: ${found.length} import cycle(s) in src/, ${
    found.filter((cycle) => ALLOWED.has(cycle)).length
  } allowed`,
);
if (failed) Deno.exit(1);
