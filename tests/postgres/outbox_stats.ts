// outbox.stats() on a big table, on a real PostgreSQL server (imported by
// outbox_suite.ts, run by `deno task test:postgres`): with 1,000,000
// completed publications it reads a few pages, not the table, with a plan
// cheap enough to escape JIT compilation. The time it
// takes is a figure of `deno task bench:outbox`, not a test (timing fails on
// a slow day; the pages read do not).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { statsStatement } from "../../src/postgres/_inspect.ts";
import { suiteServer } from "./_suite_server.ts";
import { inTransaction } from "./_transaction.ts";
import { fillCompleted } from "./_fill_completed.ts";

let pool: pg.Pool;
suiteServer(4, (started) => ({ pool } = started));

describe("PostgresOutbox.stats on a real PostgreSQL server", () => {
  it("with 1,000,000 completed publications, reads under 1% of the table's pages", async () => {
    const outbox = new PostgresOutbox(pool, { tablePrefix: "big_" });
    await outbox.migrate();
    for (const id of ["audit", "email", "search"]) {
      outbox.registerAny(id, () => {});
    }
    await fillCompleted((text) => pool.query(text), outbox, 1_000_000);
    await inTransaction(pool, (client) =>
      outbox.store(
        client,
        Array.from({ length: 100 }, () => createEvent("fresh")),
      ));
    const stats = await outbox.stats();
    assert.deepEqual(stats.map((entry) => entry.listenerId), [
      "audit",
      "email",
      "search",
    ]);
    const total = stats.reduce((sum, entry) => sum + entry.completed, 0);
    assert.ok(Math.abs(total - 1_000_000) < 20_000, String(total));
    for (const entry of stats) {
      assert.equal(entry.pending, 100);
      assert.ok(
        Math.abs(entry.completed - 333_333) < 20_000,
        JSON.stringify(entry),
      );
    }
    const { rows: [{ pages }] } = await pool.query(
      `SELECT relpages AS pages FROM pg_class WHERE oid = 'big_publications'::regclass`,
    );
    const { rows: [{ "QUERY PLAN": plan }] } = await pool.query(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${
        statsStatement(outbox.tables).replace("$1::text::json", "'[]'::json")
      }`,
    );
    const top = plan[0].Plan;
    const read = top["Shared Hit Blocks"] + top["Shared Read Blocks"];
    assert.ok(pages > 5_000, `the table has ${pages} pages`);
    assert.ok(read < pages / 100, `read ${read} of ${pages} pages`);
    // A plan costed past jit_above_cost (100,000) would be compiled by JIT
    // first: over a second on this machine, for nothing.
    assert.ok(top["Total Cost"] < 100_000, `cost ${top["Total Cost"]}`);
    assert.equal(plan[0].JIT, undefined);
  });
});
