// The relay's own statements on a backlog, on a real PostgreSQL server
// (imported by outbox_suite.ts, run by `deno task test:postgres`): they find
// the rows they work on by primary key, whatever the planner knows of the
// table. Checked on the plans PostgreSQL chooses, not on time (timing fails
// on a slow day). Before, with 20,000 pending publications, the lock of a
// transaction's 50 rows walked the whole partial index of pending rows (9 ms,
// half of the server's CPU per publication in `deno task bench:outbox`), and
// the claim's update, once statistics existed, scanned the table whole.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { outboxStatements } from "../../src/postgres/_statements.ts";
import { type PostgresServer, startPostgres } from "../_servers/postgres.ts";
import { inTransaction } from "./_transaction.ts";

const BACKLOG = 20_000;

let server: PostgresServer;
let pool: pg.Pool;

before(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => {});
});
after(async () => {
  await pool?.end();
  await server?.stop();
});

async function planOf(statement: string, params: unknown[]): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN ${statement}`, params);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

describe("the relay's statements on a backlog of 20,000 publications", () => {
  it("lock and release use the primary key, before and after ANALYZE; the claim's update too", async () => {
    const outbox = new PostgresOutbox(pool, { tablePrefix: "plans_" });
    await outbox.migrate();
    outbox.registerAny("audit", () => {});
    for (let stored = 0; stored < BACKLOG; stored += 1_000) {
      await inTransaction(pool, (client) =>
        outbox.store(
          client,
          Array.from({ length: 1_000 }, () => createEvent("backlog")),
        ));
    }
    const sql = outboxStatements("plans_");
    const { rows } = await pool.query(
      "SELECT id::text AS id FROM plans_publications ORDER BY id LIMIT 50",
    );
    const ids = JSON.stringify(rows.map((row) => row.id));
    const token = crypto.randomUUID();
    const claim = [100, 30_000, token, JSON.stringify(["audit"])];
    for (const analyzed of [false, true]) {
      if (analyzed) {
        await pool.query("ANALYZE plans_publications, plans_events");
      }
      for (
        const [name, statement] of [["lock", sql.lock], [
          "release",
          sql.release,
        ]]
      ) {
        const plan = await planOf(statement!, [token, ids]);
        assert.match(plan, /plans_publications_pkey/, `${name}:\n${plan}`);
        assert.doesNotMatch(
          plan,
          /plans_publications_due/,
          `${name}:\n${plan}`,
        );
      }
      const plan = await planOf(sql.claim, claim);
      const update = plan.slice(plan.indexOf("CTE claimed"));
      assert.match(update, /Index Cond: \(id = ANY/, plan);
      assert.doesNotMatch(
        plan,
        /Seq Scan on plans_(publications|events)/,
        plan,
      );
    }
  });
});
