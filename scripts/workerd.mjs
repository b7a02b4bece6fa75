// Runs Cloudflare's workerd at a pinned version, installing it from npm into
// .tools/ first when it is missing (a fresh clone, a CI machine).
// Usage: node scripts/workerd.mjs <workerd arguments...>
//   e.g. node scripts/workerd.mjs test edge/config.capnp
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const VERSION = "1.20261117.1";
const root = fileURLToPath(new URL("..", import.meta.url));
const prefix = join(root, ".tools");
const manifest = join(prefix, "node_modules", "workerd", "package.json");
const bin = join(prefix, "node_modules", ".bin", "workerd");

function installed() {
  if (!existsSync(manifest) || !existsSync(bin)) return undefined;
  return JSON.parse(readFileSync(manifest, "utf8")).version;
}

if (installed() !== VERSION) {
  console.error(`workerd: installing workerd@${VERSION} into .tools/ from npm`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, [
    "install",
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--loglevel=error",
    "--prefix",
    prefix,
    `workerd@${VERSION}`,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  if (install.status !== 0 || installed() !== VERSION) {
    console.error(`workerd: FAIL, could not install workerd@${VERSION}`);
    process.exit(1);
  }
}

const run = spawnSync(bin, process.argv.slice(2), {
  stdio: ["ignore", "inherit", "inherit"],
});
if (run.error) throw run.error;
process.exit(run.status ?? 1);
