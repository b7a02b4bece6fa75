// Starts a real nats-server with JetStream on a free loopback port, for the
// integration suite. Debian's `nats-server` package (.ci/run installs it).

import { freePort } from "./postgres.ts";

/** A running server: where to connect, and how to stop it. */
export interface NatsServer {
  readonly url: string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Starts `nats-server -js` with its store in a temporary folder. */
export async function startNats(): Promise<NatsServer> {
  const port = freePort();
  const storeDir = await Deno.makeTempDir({ prefix: "nats-" });
  const child = new Deno.Command("nats-server", {
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port, 10_000);
  return {
    url: `127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(storeDir, { recursive: true });
    },
  };
}
