/**
 * `deno task build:npm`: the npm package in dist/npm/. TypeScript 5.9.3 and
 * @types/node 22 (for `/context`'s `node:async_hooks`), pinned, are installed
 * into dist/npm-tools/ and compile every entry of deno.json's `exports` to ES
 * modules in JavaScript with `.d.ts` files, declaration maps and source maps
 * (sources inlined), `.ts` import extensions rewritten to `.js`
 * (`rewriteRelativeImportExtensions`). Then it writes the package.json (name,
 * version and license from deno.json, `"type": "module"`, an `exports` map
 * with types for every entry, `"sideEffects": false`, engines, repository) and
 * copies README.md and LICENSE. Publish with `npm publish dist/npm`; check with
 * `npm pack` there (`deno task test:npm` does, and installs the tarball).
 *
 * @module
 */

const TYPESCRIPT = "typescript@5.9.3";
const NODE_TYPES = "@types/node@22.20.7";
const OUT = "dist/npm";
const TOOLS = "dist/npm-tools";
/** Where the source lives; the package's `repository` and `homepage`. */
const REPOSITORY = "https://github.com/seedwork/domain-events";

type DenoJson = {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  compilerOptions: Record<string, unknown>;
};

async function run(command: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(command, {
    args,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (code !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${code}`);
}

const deno = JSON.parse(await Deno.readTextFile("deno.json")) as DenoJson;
const entries = Object.entries(deno.exports);

await Deno.remove(OUT, { recursive: true }).catch(() => {});
await run("npm", [
  "install",
  "--silent",
  "--no-save",
  "--no-package-lock",
  "--prefix",
  TOOLS,
  TYPESCRIPT,
  NODE_TYPES,
]);

// The strict options of deno.json, and what an npm build needs on top.
const tsconfig = {
  compilerOptions: {
    ...deno.compilerOptions,
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    lib: ["es2022", "dom"],
    types: ["node"],
    typeRoots: ["./npm-tools/node_modules/@types"],
    rewriteRelativeImportExtensions: true,
    declaration: true,
    declarationMap: true,
    sourceMap: true,
    inlineSources: true,
    rootDir: "..",
    outDir: "./npm",
    newLine: "lf",
    skipLibCheck: false,
  },
  files: entries.map(([, file]) => `../${file}`),
};
await Deno.writeTextFile("dist/tsconfig.npm.json", JSON.stringify(tsconfig));
await run("node", [
  `${TOOLS}/node_modules/typescript/bin/tsc`,
  "-p",
  "dist/tsconfig.npm.json",
]);

// tsc rewrites the `.ts` of relative imports in JavaScript, not in `.d.ts`
// files: there `.ts` becomes `.js` here (same length: the maps stay right).
const RELATIVE_TS = /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']*)\.ts\2/g;
async function rewriteDeclarations(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) count += await rewriteDeclarations(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, text.replace(RELATIVE_TS, "$1$2$3.js$2"));
      count++;
    }
  }
  return count;
}
await rewriteDeclarations(OUT);

const exportsMap = Object.fromEntries(
  entries.map(([name, file]) => {
    const base = `./${file.replace(/^\.\//, "").replace(/\.ts$/, "")}`;
    return [name, { types: `${base}.d.ts`, default: `${base}.js` }];
  }),
);
const packageJson = {
  name: deno.name,
  version: deno.version,
  description:
    "In-process domain events for TypeScript, with causation tracing built in",
  license: deno.license,
  type: "module",
  sideEffects: false,
  exports: exportsMap,
  engines: { node: ">=22" },
  repository: { type: "git", url: `git+${REPOSITORY}.git` },
  homepage: "https://jsr.io/@seedwork/domain-events",
  keywords: [
    "domain-events",
    "ddd",
    "events",
    "outbox",
    "causation",
    "tracing",
  ],
};
await Deno.writeTextFile(
  `${OUT}/package.json`,
  JSON.stringify(packageJson, null, 2) + "\n",
);
await Deno.copyFile("README.md", `${OUT}/README.md`);
await Deno.copyFile("LICENSE", `${OUT}/LICENSE`);
console.log(
  `build:npm: ${deno.name}@${deno.version} in ${OUT}/ (${entries.length} entries)`,
);
