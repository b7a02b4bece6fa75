// Every export of the published entry points has JSDoc with at least one
// @example (which `deno test --doc` then runs), and so does each entry
// point's module doc. `deno doc --lint` checks that docs exist, not examples.
// Usage: deno doc --json mod.ts testing.ts | node scripts/doc_examples.mjs
import { Buffer } from "node:buffer";
import process from "node:process";

let doc;
try {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
} catch (error) {
  console.error(
    `examples: FAIL, expected deno doc --json on stdin (${error.message})`,
  );
  process.exit(1);
}
if (doc.version !== 2 || typeof doc.nodes !== "object") {
  console.error(
    `examples: FAIL, unknown deno doc JSON format (version ${doc.version})`,
  );
  process.exit(1);
}

const root = new URL("..", import.meta.url).href;
const relative = (url) => url.startsWith(root) ? url.slice(root.length) : url;
const hasExample = (jsDoc) =>
  (jsDoc?.tags ?? []).some((tag) => tag.kind === "example");
const missing = [];
let symbols = 0;
for (const [url, node] of Object.entries(doc.nodes)) {
  const entry = relative(url);
  if (!hasExample(node.module_doc)) missing.push(`${entry}: the module doc`);
  for (const symbol of node.symbols ?? []) {
    symbols++;
    if (
      !symbol.declarations.some((declaration) => hasExample(declaration.jsDoc))
    ) {
      const at = symbol.declarations[0]?.location;
      const where = at ? `${relative(at.filename)}:${at.line}` : entry;
      missing.push(`${where}: ${symbol.name}`);
    }
  }
}
if (missing.length > 0) {
  console.error(
    `examples: FAIL, ${missing.length} export(s) without an @example:`,
  );
  for (const item of missing) console.error(`  ${item}`);
  process.exit(1);
}
console.log(
  `examples: all ${symbols} exports of ${
    Object.keys(doc.nodes).length
  } entry points have an @example`,
);
