// Every exported function and class of the entry points, and each entry's
// module doc, has an @example (which `deno test --doc` runs); types and
// interfaces need none. `deno doc --lint` checks that docs exist, not examples.
// Usage: deno doc --json mod.ts testing.ts | node scripts/doc_examples.mjs
import { readFileSync } from "node:fs";

const { nodes } = JSON.parse(readFileSync(0, "utf8"));
const hasExample = (doc) => doc?.tags?.some((tag) => tag.kind === "example");
const missing = [];
for (const [url, { module_doc, symbols }] of Object.entries(nodes)) {
  if (!hasExample(module_doc)) missing.push(`${url}: the module doc`);
  for (const { name, declarations } of symbols) {
    const kinds = declarations.map((declaration) => declaration.kind);
    if (!kinds.includes("function") && !kinds.includes("class")) continue;
    if (!declarations.some((declaration) => hasExample(declaration.jsDoc))) {
      missing.push(`${url}: ${name}`);
    }
  }
}
for (const item of missing) console.error(`no @example: ${item}`);
if (missing.length > 0) process.exitCode = 1;
else console.log("examples: every exported function and class has one");
