/**
 * `deno task test:npm` (after `build:npm`): packs dist/npm/ with `npm pack`,
 * installs the tarball into a fresh project in a temporary folder (with
 * TypeScript 5.9.3, @types/node 22 and PGlite, pinned), then on Node 22 and on
 * Node 24 type-checks tests/npm/consumer.ts with `module nodenext`,
 * `verbatimModuleSyntax` and `strict` (tsconfig.json: 0 errors, the package's
 * `.d.ts` files checked too) and runs it; runs it on Bun 1.4.5; and
 * type-checks a file that imports this checkout's `.ts` entries by path with
 * the same options (what the root package.json's `"type": "module"` is for).
 * Ends with `npm: N passed, N failed`.
 *
 * @module
 */

const PINNED = [
  "typescript@5.9.3",
  "@types/node@22.20.7",
  "@electric-sql/pglite@0.5.17",
  "@types/emscripten@1.41.6", // PGlite's .d.ts files need it, and do not say so
];
const RUNTIMES = [
  { name: "Node 22", exec: ["npx", "--yes", "node@22"], typeCheck: true },
  { name: "Node 24", exec: ["npx", "--yes", "node@24"], typeCheck: true },
  { name: "Bun 1.4.5", exec: ["npx", "--yes", "bun@1.4.5"], typeCheck: false },
];

const repo = Deno.cwd();
const here = new URL(".", import.meta.url).pathname;

async function run(
  args: string[],
  cwd: string,
): Promise<{ ok: boolean; out: string }> {
  const [command, ...rest] = args as [string, ...string[]];
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args: rest,
    cwd,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: code === 0,
    out: decoder.decode(stdout) + decoder.decode(stderr),
  };
}

async function must(args: string[], cwd: string): Promise<string> {
  const { ok, out } = await run(args, cwd);
  if (!ok) throw new Error(`${args.join(" ")} failed:\n${out}`);
  return out;
}

const project = await Deno.makeTempDir({ prefix: "domain-events-npm-" });
let passed = 0;
let failed = 0;
function report(name: string, ok: boolean, out: string): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
  if (!ok) console.log(out.trimEnd().replace(/^/gm, "     "));
}

try {
  const packed = await must([
    "npm",
    "pack",
    "--silent",
    "--pack-destination",
    project,
  ], `${repo}/dist/npm`);
  const tarball = packed.trim().split("\n").pop()!;
  console.log(`npm pack: ${tarball}`);
  await Deno.writeTextFile(
    `${project}/package.json`,
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  await must([
    "npm",
    "install",
    "--silent",
    "--no-audit",
    "--no-fund",
    `./${tarball}`,
    ...PINNED,
  ], project);
  for (const file of ["consumer.ts", "tsconfig.json"]) {
    await Deno.copyFile(`${here}${file}`, `${project}/${file}`);
  }
  const tsc = "node_modules/typescript/bin/tsc";

  for (const runtime of RUNTIMES) {
    if (runtime.typeCheck) {
      const checked = await run([...runtime.exec, tsc, "-p", "."], project);
      report(`${runtime.name}: tsc, 0 errors`, checked.ok, checked.out);
    }
    const ran = await run([...runtime.exec, "consumer.ts"], project);
    const ok = ran.ok && ran.out.trimEnd().endsWith("consumer: ok");
    report(`${runtime.name}: the consumer runs`, ok, ran.out);
  }

  // A checkout consumed as TypeScript sources, by path, with the same options.
  const entries = ["mod", "cloudevents", "testing", "context", "postgres"];
  await Deno.writeTextFile(
    `${project}/checkout.ts`,
    entries.map((entry, i) =>
      `import * as entry${i} from "${repo}/${entry}.ts";\nconsole.log(entry${i});\n`
    ).join(""),
  );
  await Deno.writeTextFile(
    `${project}/tsconfig.checkout.json`,
    JSON.stringify({
      extends: "./tsconfig.json",
      compilerOptions: { allowImportingTsExtensions: true },
      files: ["checkout.ts"],
    }),
  );
  const checkout = await run(
    ["npx", "--yes", "node@24", tsc, "-p", "tsconfig.checkout.json"],
    project,
  );
  report(
    "the checkout's .ts entries: tsc, 0 errors",
    checkout.ok,
    checkout.out,
  );
} catch (error) {
  report("pack and install", false, String(error));
} finally {
  await Deno.remove(project, { recursive: true });
}
console.log(`npm: ${passed} passed, ${failed} failed`);
if (failed > 0) Deno.exit(1);
