// `deno publish --dry-run`, never with --allow-slow-types. A clean checkout
// (CI) runs it as is; a work tree with changes (development) adds
// --allow-dirty, and says so.
// Usage: node scripts/publish_dry_run.mjs   (from `deno task check:publish`)
import { spawnSync } from "node:child_process";
import process from "node:process";

const status = spawnSync("git", ["status", "--porcelain"], {
  encoding: "utf8",
});
const dirty = status.status !== 0 || status.stdout.trim() !== "";
const args = ["publish", "--dry-run"];
if (dirty) {
  console.log(
    status.status !== 0
      ? "publish: not a git work tree: adding --allow-dirty"
      : "publish: the work tree has uncommitted changes: adding --allow-dirty",
  );
  args.push("--allow-dirty");
}

// `deno task` runs this with the Deno that runs the task first on PATH
// (npx puts it there); fall back to the pinned one from npm.
let run = spawnSync("deno", args, { stdio: ["ignore", "inherit", "inherit"] });
if (run.error?.code === "ENOENT") {
  run = spawnSync("npx", ["--yes", "deno@2.9.6", ...args], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}
if (run.error) throw run.error;
process.exit(run.status ?? 1);
