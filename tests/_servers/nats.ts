// Starts a real nats-server with JetStream on a free loopback port, or a
// JetStream cluster of several (startNatsCluster), for the integration
// suite. Debian's `nats-server` package (.ci/run installs it).

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

/** A JetStream cluster of nats-server processes on loopback. */
export interface NatsCluster {
  /** Every node's client address, for `connect({ servers })`. */
  readonly urls: string[];
  /** Whether node `index` runs. */
  running(index: number): boolean;
  /** SIGKILLs node `index`: no shutdown, its store stays as it was. */
  kill(index: number): Promise<void>;
  /** Starts node `index` again on its port and store directory. */
  start(index: number): Promise<void>;
  /** SIGKILLs every node that runs. */
  killAll(): Promise<void>;
  /** Starts every node that does not run. */
  startAll(): Promise<void>;
  /** Stops every node (SIGTERM) and deletes the store directories. */
  stop(): Promise<void>;
}

/**
 * Starts `size` nats-server processes with JetStream, each with a config
 * file (JetStream clustering needs `server_name` and a cluster `name`),
 * routes to every other node, and its own store directory under one
 * temporary folder, on free loopback ports. Resolves once every node
 * listens; JetStream's meta leader is elected a moment later (create
 * streams with a retry).
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const root = await Deno.makeTempDir({ prefix: "nats-cluster-" });
  const nodes = Array.from({ length: size }, (_, index) => ({
    name: `n${index + 1}`,
    port: freePort(),
    routePort: freePort(),
    child: undefined as Deno.ChildProcess | undefined,
  }));
  for (const node of nodes) {
    const routes = nodes.filter((other) => other !== node).map((other) =>
      `"nats-route://127.0.0.1:${other.routePort}"`
    );
    await Deno.writeTextFile(
      `${root}/${node.name}.conf`,
      `server_name: ${node.name}
listen: 127.0.0.1:${node.port}
jetstream {
  store_dir: "${root}/${node.name}"
  max_memory_store: 64MB
  max_file_store: 1GB
}
cluster {
  name: seedwork
  listen: 127.0.0.1:${node.routePort}
  routes: [${routes.join(", ")}]
}
`,
    );
  }
  async function start(index: number): Promise<void> {
    const node = nodes[index]!;
    if (node.child) return;
    node.child = new Deno.Command("nats-server", {
      args: ["-c", `${root}/${node.name}.conf`],
      stdout: "null",
      stderr: Deno.env.get("NATS_LOG") ? "inherit" : "null",
    }).spawn();
    await waitForPort(node.port, 20_000);
  }
  async function signal(index: number, name: Deno.Signal): Promise<void> {
    const child = nodes[index]!.child;
    if (!child) return;
    nodes[index]!.child = undefined;
    try {
      child.kill(name);
    } catch {
      // ended already
    }
    await child.status;
  }
  try {
    await Promise.all(nodes.map((_, index) => start(index)));
  } catch (error) {
    await Promise.all(nodes.map((_, index) => signal(index, "SIGKILL")));
    await Deno.remove(root, { recursive: true });
    throw error;
  }
  return {
    urls: nodes.map((node) => `127.0.0.1:${node.port}`),
    running: (index) => nodes[index]!.child !== undefined,
    kill: (index) => signal(index, "SIGKILL"),
    start,
    killAll: async () => {
      await Promise.all(nodes.map((_, index) => signal(index, "SIGKILL")));
    },
    startAll: async () => {
      await Promise.all(nodes.map((_, index) => start(index)));
    },
    async stop() {
      await Promise.all(nodes.map((_, index) => signal(index, "SIGTERM")));
      await Deno.remove(root, { recursive: true });
    },
  };
}
