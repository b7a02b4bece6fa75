// One PostgreSQL server and one pool on it per real-server suite file, and
// the wait for what such a server does.
import { after, before } from "node:test";
import pg from "pg";
import { type PostgresServer, startPostgres } from "../_servers/postgres.ts";
import { until } from "../_until.ts";

/** What a suite file works with. */
export interface SuiteServer {
  readonly server: PostgresServer;
  readonly pool: pg.Pool;
}

/**
 * Registers hooks that start a server and open a pool of `max` connections on
 * it before the file's tests, hand both to `use`, and end them after. As pg
 * asks of every application, an idle client the server ends (the server
 * stopping) goes to the pool's "error" listener rather than ending the
 * process.
 */
export function suiteServer(
  max: number,
  use: (started: SuiteServer) => void,
): void {
  let started: SuiteServer | undefined;
  before(async () => {
    const server = await startPostgres();
    const pool = new pg.Pool({ connectionString: server.url, max });
    pool.on("error", () => {});
    started = { server, pool };
    use(started);
  });
  after(async () => {
    await started?.pool.end();
    await started?.server.stop();
  });
}

/** As `until`, with the 30 s a real server under load may need. */
export function waitFor(
  done: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  return until(done, what, 30_000);
}
