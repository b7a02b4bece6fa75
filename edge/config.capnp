# workerd configuration for `deno task test:edge`: the bundled library
# (dist/mod.js, made by `deno bundle --platform browser`) is imported by
# edge/smoke.js, whose exported `test` handlers `workerd test` runs.
# `embed` paths are relative to this file.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeTests),
    (name = "context", worker = .contextTests),
  ],
);

const edgeTests :Workerd.Worker = (
  modules = [
    # The first module is the entry point.
    (name = "smoke.js", esModule = embed "smoke.js"),
    (name = "mod.js", esModule = embed "../dist/mod.js"),
  ],
  # Must not be later than the pinned workerd's own date (2026-11-24).
  compatibilityDate = "2026-11-01",
  # From 2026-08-04 on, nodejs_compat is on by default: turn both flavours off
  # so that only the web platform exists (no process, Buffer or node:*), as on
  # any edge runtime.
  compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"],
);

# The ./context entry needs node:async_hooks: the one worker with nodejs_compat.
const contextTests :Workerd.Worker = (
  modules = [
    (name = "context_smoke.js", esModule = embed "context_smoke.js"),
    (name = "with_context.js", esModule = embed "../dist/with_context.js"),
  ],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["nodejs_compat"],
);
