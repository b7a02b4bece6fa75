/**
 * A throwaway PostgreSQL server on a free loopback port, for the real-server
 * suites (`deno task test:postgres`, `deno task bench:outbox`): Debian's
 * `postgresql` package (binaries under /usr/lib/postgresql/<version>/bin, or
 * the directory in $PG_BIN), a fresh data directory under /tmp, trust
 * authentication on 127.0.0.1 only. As root, initdb and the server run as the
 * `postgres` user (PostgreSQL refuses to run as root).
 *
 * As a module: `const server = await startPostgres(); ... await server.stop();`
 * As a command (for scripts and CI):
 *   deno run -A tests/_servers/postgres.ts start   → prints `url=...` and `dir=...`
 *   deno run -A tests/_servers/postgres.ts stop <dir>
 *
 * @module
 */

/** A running server. */
export interface PostgresServer {
  /** A connection string for the `postgres` database as the `postgres` user. */
  readonly url: string;
  /** The port, on 127.0.0.1. */
  readonly port: number;
  /** The data directory (its `server.log` holds the server's log). */
  readonly dir: string;
  /**
   * Restarts the server on the same port and data directory with
   * `pg_ctl restart -m immediate`: every connection is cut at once, as in a
   * crash, and the server comes back after recovery.
   */
  restart(): Promise<void>;
  /** Stops the server (fast shutdown) and deletes the data directory. */
  stop(): Promise<void>;
}

/** Finds the directory holding initdb, pg_ctl and postgres. */
export function findBinaries(): string {
  const fromEnv = Deno.env.get("PG_BIN");
  if (fromEnv) return fromEnv;
  const versions: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    // not installed: reported below
  }
  const newest = versions.sort((a, b) => b - a)[0];
  if (newest === undefined) {
    throw new Error(
      "PostgreSQL is not installed: run `apt-get update && apt-get install -y postgresql` (Debian/Ubuntu), or set PG_BIN to the directory holding initdb and pg_ctl",
    );
  }
  return `/usr/lib/postgresql/${newest}/bin`;
}

async function run(
  command: string,
  args: string[],
  asPostgres: boolean,
): Promise<string> {
  const [program, programArgs] = asPostgres
    ? ["runuser", ["-u", "postgres", "--", command, ...args]]
    : [command, args];
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args: programArgs,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${code}:\n${text}`,
    );
  }
  return text;
}

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Creates a data directory and starts a server on a free 127.0.0.1 port.
 * `fsync` is off unless asked for: the suites kill clients, never the server,
 * and measure the outbox rather than the disk.
 */
export async function startPostgres(
  { fsync = false }: { readonly fsync?: boolean } = {},
): Promise<PostgresServer> {
  const bin = findBinaries();
  const asPostgres = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "seedwork-pg-" });
  if (asPostgres) await run("chown", ["postgres:postgres", dir], false);
  await run(
    `${bin}/initdb`,
    ["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
    asPostgres,
  );
  for (let tries = 0;; tries++) {
    const port = freePort();
    try {
      await run(`${bin}/pg_ctl`, [
        "-D",
        dir,
        "-l",
        `${dir}/server.log`,
        "-w",
        "-t",
        "60",
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${
          fsync ? "on" : "off"
        } -c max_connections=200`,
        "start",
      ], asPostgres);
      return {
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        port,
        dir,
        restart: () => restartPostgres(dir),
        stop: () => stopPostgres(dir),
      };
    } catch (error) {
      if (tries >= 2) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw error;
      }
    }
  }
}

/** Restarts the server of `dir` at once (`-m immediate`), same options. */
export async function restartPostgres(dir: string): Promise<void> {
  await run(
    `${findBinaries()}/pg_ctl`,
    [
      "-D",
      dir,
      "-l",
      `${dir}/server.log`,
      "-m",
      "immediate",
      "-w",
      "-t",
      "60",
      "restart",
    ],
    Deno.uid() === 0,
  );
}

/** Stops the server of `dir` (if running) and deletes `dir`. */
export async function stopPostgres(dir: string): Promise<void> {
  try {
    await run(
      `${findBinaries()}/pg_ctl`,
      ["-D", dir, "-m", "fast", "-w", "stop"],
      Deno.uid() === 0,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const [command, dir] = Deno.args;
  if (command === "start") {
    const server = await startPostgres();
    console.log(`url=${server.url}\ndir=${server.dir}`);
  } else if (command === "stop" && dir) {
    await stopPostgres(dir);
  } else {
    console.error(
      "usage: postgres.ts start | postgres.ts stop <dir>",
    );
    Deno.exit(2);
  }
}
