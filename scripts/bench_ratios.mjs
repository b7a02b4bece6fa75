// `deno bench --json` on stdin -> the README's Performance tables: each
// contender's time per operation and ratio to its group's baseline, then the
// goals, ratios of two benches of this one run. A group "... (N per
// iteration)" runs N operations per iteration. Goals are reported, never
// enforced (timings on shared machines are not tests); exits 1 if a bench failed.
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
const one = (name) => ns("dispatch to 1 ", name);
const ours = (handlers) =>
  ns(`dispatch to ${handlers} `, "InProcessEventDispatcher, await");
const made = (name) => ns("create, 3", name);
const GOALS = {
  "createEvent ÷ naive, 3 fields": ["≤ 1", made("createEvent") / made("naive")],
  "emittery ÷ our dispatch, 1 handler": ["≥ 10", one("emittery") / ours(1)],
  "our dispatch ÷ async function, 1 handler": ["≤ 3", ours(1) / one("await")],
  "our dispatch ÷ mitt emit, 1 handler": ["≤ 3", ours(1) / one("mitt")],
  "our dispatch, 10 handlers ÷ 1 handler": ["≤ 3", ours(10) / ours(1)],
};
console.log("\n**Goals**\n");
head("ratio", "goal", "measured", "met");
for (const [label, [goal, value]] of Object.entries(GOALS)) {
  const bound = Number(goal.slice(2));
  const met = goal.startsWith("≤") ? value <= bound : value >= bound;
  console.log(
    `| ${label} | ${goal} | ${times(value)} | ${met ? "yes" : "no"} |`,
  );
}
