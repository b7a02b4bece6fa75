// Starts a real PostgreSQL server (Debian's `postgresql` package) on a free
// loopback port, as the `postgres` user, with its data in a temporary folder.
import { freePort } from "./_nats_server.ts";

/** A running server: its connection string, and how to stop it. */
export interface PostgresServer {
  readonly url: string;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
    return `/usr/lib/postgresql/${entry.name}/bin`;
  }
  throw new Error("PostgreSQL is not installed: apt-get install -y postgresql");
}

async function run(command: string, args: string[]): Promise<void> {
  const asPostgres = Deno.uid() === 0
    ? ["runuser", "-u", "postgres", "--"]
    : [];
  const [program, ...rest] = [...asPostgres, command, ...args];
  const { code, stderr } = await new Deno.Command(program!, {
    args: rest,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(stderr)}`);
  }
}

/** Starts a server with `trust` authentication for the `postgres` user on 127.0.0.1. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = await binDir();
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "pg-" });
  if (Deno.uid() === 0) {
    const { stdout } = await new Deno.Command("id", {
      args: ["-u", "postgres"],
    })
      .output();
    await Deno.chown(dataDir, Number(new TextDecoder().decode(stdout)), null);
  }
  await run(`${bin}/initdb`, [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
  ]);
  await run(`${bin}/pg_ctl`, [
    "-D",
    dataDir,
    "-w",
    "-l",
    `${dataDir}/log`,
    "-o",
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c max_connections=200 -c fsync=off`,
    "start",
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run(`${bin}/pg_ctl`, ["-D", dataDir, "-m", "fast", "-w", "stop"]);
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}
