// Prints the minified, gzipped size of every export of deno.json and of the
// PICKS (names of "." imported alone), and fails when one is over its budget.
// A new entry is printed as it is; give it a budget by adding its name here.
// Usage: deno run --allow-read --allow-write=dist --allow-run scripts/size.ts
import { gzipSync } from "node:zlib";

const BUDGETS: Record<string, number> = {
  ".": 6144,
  "createEvent + InProcessEventDispatcher": 4608,
};
const PICKS = [["createEvent", "InProcessEventDispatcher"]];

const config = JSON.parse(await Deno.readTextFile("deno.json"));
const entries: [string, string][] = Object.entries(config.exports);
await Deno.mkdir("dist/size", { recursive: true });
for (const names of PICKS) {
  const file = `dist/size/${names.join("_")}.ts`;
  await Deno.writeTextFile(file, `export { ${names} } from "../../mod.ts";\n`);
  entries.push([names.join(" + "), file]);
}
let over = 0;
for (const [index, [name, file]] of entries.entries()) {
  const out = `dist/size/${index}.min.js`;
  const args = ["bundle", "--quiet", "--platform=browser", "--minify", "-o"];
  const bundle = new Deno.Command(Deno.execPath(), {
    args: [...args, out, "--external=node:*", file],
  }).outputSync();
  if (!bundle.success) throw new Error(new TextDecoder().decode(bundle.stderr));
  const size = gzipSync(await Deno.readFile(out), { level: 9 }).length;
  const budget = BUDGETS[name];
  if (budget !== undefined && size > budget) over++;
  const limit = budget === undefined ? "no budget" : `budget ${budget} B`;
  const verdict = budget !== undefined && size > budget ? ", OVER" : "";
  console.log(`${name.padEnd(40)} ${size} B min+gz (${limit}${verdict})`);
}
if (over > 0) Deno.exit(1);
