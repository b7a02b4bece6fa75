// The real-server suites' one way of running work between BEGIN and COMMIT.
import type pg from "pg";

/** Runs `work` on a client of `pool` between BEGIN and COMMIT. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } finally {
    client.release();
  }
}
