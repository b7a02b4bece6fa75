// Prints, one per line, the tasks that `deno task ci` runs, in order, with
// every `deno task a && deno task b` chain expanded to its leaves, so that
// .ci/run can run each check on its own, keep going after a failure, and
// sum them up, while deno.json stays the one list of what CI runs.
// Usage: node scripts/ci_plan.mjs [task=ci]
import { readFileSync } from "node:fs";
import process from "node:process";

const { tasks } = JSON.parse(
  readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
);

function command(name) {
  const task = tasks[name];
  if (task === undefined) throw new Error(`deno.json has no task "${name}"`);
  return typeof task === "string" ? task : task.command ?? "";
}

function leaves(name, seen = []) {
  if (seen.includes(name)) {
    throw new Error(`task loop: ${[...seen, name].join(" -> ")}`);
  }
  const parts = command(name).split("&&").map((part) => part.trim());
  const names = parts.map((part) => /^deno task ([\w:.-]+)$/.exec(part)?.[1]);
  if (parts.length === 0 || names.some((sub) => sub === undefined)) {
    return [name];
  }
  return names.flatMap((sub) => leaves(sub, [...seen, name]));
}

console.log(leaves(process.argv[2] ?? "ci").join("\n"));
