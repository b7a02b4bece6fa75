// `deno bench --json` on stdin -> the README's Performance tables: each
// contender's time per operation and ratio to its group's baseline, then the
// goals of bench/goals.json, ratios of two benches of this one run. A group
// "... (N per iteration)" runs N operations per iteration. Goals are reported,
// never enforced (timings on shared machines are not tests); exits 1 if a
// bench failed.
import { readFileSync } from "node:fs";

const text = readFileSync(0, "utf8");
const report = JSON.parse(text.slice(text.indexOf("{")));
const groups = new Map();
for (const { name, group = "", baseline, results } of report.benches) {
  const ok = results[0]?.ok;
  if (!ok) console.error(`failed: ${name}: ${JSON.stringify(results[0])}`);
  if (!ok) process.exitCode = 1;
  const perIteration = Number(/\((\d+) per iteration\)/.exec(group)?.[1] ?? 1);
  if (!groups.has(group)) groups.set(group, []);
  if (ok) groups.get(group).push({ name, baseline, ns: ok.avg / perIteration });
}
const time = (ns) =>
  ns < 1e3 ? `${ns.toFixed(1)} ns` : `${(ns / 1e3).toFixed(2)} µs`;
const times = (x) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)}×`;
const head = (...cols) =>
  console.log(`| ${cols.join(" | ")} |\n|${" --- |".repeat(cols.length)}`);
console.log(`${report.runtime}, ${report.cpu}`);
for (const [group, benches] of groups) {
  const base = benches.find((bench) => bench.baseline) ?? benches[0];
  console.log(`\n**${group}**\n`);
  head("contender", "time per operation", "× baseline");
  for (const { name, ns } of benches) {
    const label = name === base.name ? `${name} (baseline)` : name;
    console.log(`| ${label} | ${time(ns)} | ${times(ns / base.ns)} |`);
  }
}

/** Time of the first bench whose group and name start with these prefixes. */
const ns = (group, name) =>
  [...groups].find(([key]) => key.startsWith(group))?.[1]
    .find((bench) => bench.name.startsWith(name))?.ns ?? NaN;
const goals = JSON.parse(readFileSync("bench/goals.json", "utf8"));
console.log("\n**Goals**\n");
head("ratio", "goal", "measured", "met");
for (const { ratio, goal, of, to } of goals) {
  const value = ns(...of) / ns(...to);
  const bound = Number(goal.slice(2));
  const met = goal.startsWith("≤") ? value <= bound : value >= bound;
  console.log(
    `| ${ratio} | ${goal} | ${times(value)} | ${met ? "yes" : "no"} |`,
  );
}
