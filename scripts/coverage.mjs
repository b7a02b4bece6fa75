// Coverage gate over src/ only: lines and branches must each reach a minimum.
// Reads the lcov report that `deno task test` writes (deno test --coverage).
// Usage: node scripts/coverage.mjs [lcov=coverage/lcov.info] [minPercent=95]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [lcovPath = "coverage/lcov.info", minArg = "95"] = process.argv.slice(2);
const min = Number(minArg);
const srcDir = join(root, "src");

if (!existsSync(lcovPath)) {
  console.error(
    `coverage: FAIL, no report at ${lcovPath}: run \`deno task test\` first ` +
      "(it runs the suite with --coverage)",
  );
  process.exit(1);
}

/** @type {Map<string, {LH: number, LF: number, BRH: number, BRF: number}>} */
const files = new Map();
let current;
for (const line of readFileSync(lcovPath, "utf8").split("\n")) {
  const text = line.trim();
  if (text.startsWith("SF:")) {
    const path = text.slice(3);
    current = path.startsWith(srcDir + sep)
      ? { LH: 0, LF: 0, BRH: 0, BRF: 0 }
      : undefined;
    if (current) files.set(relative(root, path), current);
    continue;
  }
  const match = /^(LH|LF|BRH|BRF):(\d+)$/.exec(text);
  if (match && current) current[match[1]] += Number(match[2]);
}

const percent = (hit, found) => (found === 0 ? 100 : (100 * hit) / found);
const total = { LH: 0, LF: 0, BRH: 0, BRF: 0 };
console.log("coverage of src/ (lines, branches):");
for (const [path, t] of [...files].sort()) {
  for (const key of Object.keys(total)) total[key] += t[key];
  console.log(
    `  ${path.padEnd(32)} ${percent(t.LH, t.LF).toFixed(1).padStart(5)}% ` +
      `${percent(t.BRH, t.BRF).toFixed(1).padStart(5)}%`,
  );
}
const lines = percent(total.LH, total.LF);
const branches = percent(total.BRH, total.BRF);
console.log(
  `coverage: lines ${lines.toFixed(2)}% (${total.LH}/${total.LF}), ` +
    `branches ${
      branches.toFixed(2)
    }% (${total.BRH}/${total.BRF}), minimum ${min}%`,
);

// Files with no runtime code (types only) never appear in a report; list the
// absent ones so a module that no test loads does not go unnoticed.
const absent = readdirSync(srcDir, { recursive: true })
  .map(String)
  .filter((name) => name.endsWith(".ts"))
  .map((name) => join("src", name))
  .filter((name) => !files.has(name));
if (absent.length > 0) {
  console.log(
    `coverage: not in the report (types only, or never loaded): ${
      absent.join(", ")
    }`,
  );
}

if (files.size === 0) {
  console.error("coverage: FAIL, the report has no src/ files");
  process.exit(1);
}
if (lines < min || branches < min) {
  console.error(`coverage: FAIL, below ${min}% of lines or of branches`);
  process.exit(1);
}
