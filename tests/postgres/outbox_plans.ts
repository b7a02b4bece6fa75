// The relay's own statements on a backlog, on a real PostgreSQL server
// (imported by outbox_suite.ts, run by `deno task test:postgres`): they find
// the rows they work on by primary key, whatever the planner knows of the
// table. Checked on the plans PostgreSQL chooses, not on time (timing fails
// on a slow day). Before, with 20,000 pending publications, the lock of a
// transaction's 50 rows walked the whole partial index of pending rows (9 ms,
// half of the server's CPU per publication in `deno task bench:outbox`), the
// claim's update, once statistics existed, scanned the table whole, and the
// claim without statistics read and sorted every pending row.
// failed({ newestFirst }) reads the index of failed rows backward.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { outboxStatements } from "../../src/postgres/_statements.ts";
import { suiteServer } from "./_suite_server.ts";
import { inTransaction } from "./_transaction.ts";

const BACKLOG = 20_000;

let pool: pg.Pool;
suiteServer(4, (started) => ({ pool } = started));

async function planOf(statement: string, params: unknown[]): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN ${statement}`, params);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

describe("the relay's statements and failed() on a backlog of 20,000 publications", () => {
  it("lock and release use the primary key, before and after ANALYZE; the claim walks the index of pending rows in order and updates by primary key", async () => {
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
      // As the relay runs it: after planByIndex, in the same transaction.
      const plan = await inTransaction(pool, async (client) => {
        await client.query(sql.planByIndex);
        const { rows } = await client.query(`EXPLAIN ${sql.claim}`, claim);
        return rows.map((row) => row["QUERY PLAN"]).join("\n");
      });
      const due = plan.slice(
        plan.indexOf("CTE due"),
        plan.indexOf("CTE claimed"),
      );
      assert.match(due, /Index Scan using plans_publications_due/, plan);
      assert.doesNotMatch(due, /Bitmap|Sort Key: p\.available_at/, plan);
      const update = plan.slice(plan.indexOf("CTE claimed"));
      assert.match(update, /Index Cond: \(id = ANY/, plan);
      assert.doesNotMatch(
        plan,
        /Seq Scan on plans_(publications|events)/,
        plan,
      );
    }
  });
  it("failed() reads the partial index of failed rows, backward for newestFirst, once analyzed", async () => {
    // A quarter of the backlog dead, failed in id order. Without statistics
    // the planner sorts the few rows it expects (either order alike); with
    // them, the newest 200 come from the index read backward and stop at
    // the LIMIT, rather than sorting every dead letter.
    await pool.query(
      `UPDATE plans_publications SET status = 'failed', locked_until = NULL,
         failed_at = now() + id * interval '1 ms' WHERE id % 4 = 0`,
    );
    await pool.query("ANALYZE plans_publications, plans_events");
    const [oldestFirst, newestFirst] = outboxStatements("plans_").failed;
    const oldest = await planOf(oldestFirst, [200]);
    assert.match(
      oldest,
      /Index Scan using plans_publications_failed on plans_publications/,
      oldest,
    );
    const newest = await planOf(newestFirst, [200]);
    assert.match(
      newest,
      /Index Scan Backward using plans_publications_failed on plans_publications/,
      newest,
    );
    assert.doesNotMatch(newest, /Seq Scan/, newest);
  });
});
