// Turns `deno bench --json` output into the README's Performance tables:
// per group, every contender's time per operation and its ratio to the
// group's baseline, then the goals as ratios. Ratios only compare
// benches of one run (same process, same machine, same minute).
//
//   deno bench --allow-env=DEBUG --json bench/ | node scripts/bench_ratios.mjs
//   node scripts/bench_ratios.mjs run1.json run2.json   # median (min–max) over runs
//
// A group named "... (100 per iteration)" runs 100 operations per bench
// iteration; its times are divided by 100. Exits with 1 when a bench failed
// or the input holds no results; never because of a figure (the goals are
// reported, not enforced: timings on shared machines are not tests).
import { readFileSync } from "node:fs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("reading `deno bench --json` from stdin (about a minute)...");
}
const inputs = files.length
  ? files.map((file) => readFileSync(file, "utf8"))
  : [readFileSync(0, "utf8")];

/** One run: Map group -> Map name -> { avg (ns per operation), baseline }. */
function readRun(text) {
  const report = JSON.parse(text.slice(text.indexOf("{")));
  const groups = new Map();
  let failed = false;
  for (const bench of report.benches) {
    const result = bench.results[0];
    if (!result?.ok) {
      console.error(`failed: ${bench.name}: ${JSON.stringify(result)}`);
      failed = true;
      continue;
    }
    const group = bench.group ?? "(no group)";
    const batch = Number(/\((\d+) per iteration\)/.exec(group)?.[1] ?? 1);
    if (!groups.has(group)) groups.set(group, new Map());
    groups.get(group).set(bench.name, {
      avg: result.ok.avg / batch,
      baseline: bench.baseline,
    });
  }
  return { runtime: report.runtime, cpu: report.cpu, groups, failed };
}

const runs = inputs.map(readRun);
if (runs.some((run) => run.failed) || runs[0].groups.size === 0) {
  process.exit(1);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ratio = (values) => {
  const shown = (value) => value < 10 ? value.toFixed(2) : value.toFixed(0);
  if (values.length === 1) return `${shown(values[0])}×`;
  return `${shown(median(values))}× (${shown(Math.min(...values))}–${
    shown(Math.max(...values))
  })`;
};
const time = (ns) =>
  ns < 1_000
    ? `${ns.toFixed(1)} ns`
    : ns < 1_000_000
    ? `${(ns / 1_000).toFixed(2)} µs`
    : `${(ns / 1_000_000).toFixed(2)} ms`;

/** The value of `pick(run)` in every run where it exists. */
function across(pick) {
  return runs.map(pick).filter((value) => Number.isFinite(value));
}

console.log(`${runs[0].runtime}, ${runs[0].cpu}, ${runs.length} run(s)`);
for (const [group, benches] of runs[0].groups) {
  const baseline = [...benches].find(([, bench]) => bench.baseline)?.[0];
  console.log(`\n**${group}**\n`);
  console.log("| contender | time per operation | × baseline |");
  console.log("| --- | ---: | ---: |");
  for (const name of benches.keys()) {
    const avgs = across((run) => run.groups.get(group)?.get(name)?.avg);
    const ratios = across((run) =>
      run.groups.get(group)?.get(name)?.avg /
      run.groups.get(group)?.get(baseline)?.avg
    );
    console.log(
      `| ${name}${name === baseline ? " (baseline)" : ""} | ${
        time(median(avgs))
      } | ${ratio(ratios)} |`,
    );
  }
}

/** avg of the bench whose group and name start with the given prefixes. */
function avg(run, groupPrefix, namePrefix) {
  for (const [group, benches] of run.groups) {
    if (!group.startsWith(groupPrefix)) continue;
    for (const [name, bench] of benches) {
      if (name.startsWith(namePrefix)) return bench.avg;
    }
  }
  return NaN;
}

const OURS_1 = ["dispatch to 1 ", "InProcessEventDispatcher, await dispatch"];
const OURS_10 = ["dispatch to 10 ", "InProcessEventDispatcher, await dispatch"];
const goals = [
  [
    "createEvent (3 fields) ÷ naive baseline",
    "≤ 1.0",
    (value) => value <= 1,
    (run) =>
      avg(run, "create, 3", "createEvent, 3 fields") /
      avg(run, "create, 3", "naive"),
  ],
  [
    "emittery await emit ÷ our await dispatch (1 handler)",
    "≥ 10",
    (value) => value >= 10,
    (run) => avg(run, "dispatch to 1 ", "emittery") / avg(run, ...OURS_1),
  ],
  [
    "our await dispatch ÷ await async function (1 handler)",
    "≤ 3",
    (value) => value <= 3,
    (run) => avg(run, ...OURS_1) / avg(run, "dispatch to 1 ", "await async"),
  ],
  [
    "our await dispatch ÷ mitt emit (1 handler)",
    "≤ 3",
    (value) => value <= 3,
    (run) => avg(run, ...OURS_1) / avg(run, "dispatch to 1 ", "mitt"),
  ],
  [
    "our await dispatch: 10 handlers ÷ 1 handler",
    "≤ 3",
    (value) => value <= 3,
    (run) => avg(run, ...OURS_10) / avg(run, ...OURS_1),
  ],
];
console.log("\n**Goals**\n");
console.log("| ratio | goal | measured | met |");
console.log("| --- | --- | ---: | --- |");
for (const [label, goal, met, pick] of goals) {
  const values = across(pick);
  if (values.length === 0) continue;
  const all = values.every(met);
  const none = !values.some(met);
  console.log(
    `| ${label} | ${goal} | ${ratio(values)} | ${
      all ? "yes" : none ? "no" : "not in every run"
    } |`,
  );
}
