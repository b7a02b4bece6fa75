// Size budget: the gzipped size of a bundle must stay at or under a budget.
// Usage: node scripts/size.mjs <bundle.js> <maxGzipBytes>
import { readFileSync } from "node:fs";
import process from "node:process";
import { gzipSync } from "node:zlib";

const [file, budgetArg] = process.argv.slice(2);
const budget = Number(budgetArg);
if (!file || !Number.isInteger(budget) || budget <= 0) {
  console.error("usage: node scripts/size.mjs <bundle.js> <maxGzipBytes>");
  process.exit(2);
}
const raw = readFileSync(file);
const gzipped = gzipSync(raw, { level: 9 }).length;
const percent = ((100 * gzipped) / budget).toFixed(1);
console.log(
  `size: ${file} is ${raw.length} B minified, ${gzipped} B gzipped ` +
    `(budget ${budget} B, ${percent}% used)`,
);
if (gzipped > budget) {
  console.error(
    `size: FAIL, ${gzipped - budget} B over the ${budget} B budget`,
  );
  process.exit(1);
}
