// What an operator reads, on PGlite: outbox.stats() per listener (exact on a
// small table, estimated on a big one), outbox.events({ correlationId }) and
// outbox.failed() (the dead letters, oldest or newest first).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent, formatCausationTree } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { outboxFixture, tablePrefixOf } from "./_outbox_fixture.ts";

const { db, freshPrefix, fresh } = outboxFixture({
  maxAttempts: 2,
  retryDelayMs: 60_000,
});

describe("PostgresOutbox.stats", () => {
  it("counts each listener's pending, due, leased, failed and completed publications, and the oldest pending's age", async () => {
    const outbox = await fresh();
    outbox.registerAny("ok", () => {});
    outbox.registerAny("broken", () => {
      throw new Error("always");
    });
    outbox.registerAny("idle", () => {});
    assert.deepEqual(
      (await outbox.stats()).map((stats) => stats.listenerId),
      ["broken", "idle", "ok"],
    );
    await db.transaction((tx) =>
      outbox.store(tx, [createEvent("a"), createEvent("b")])
    );
    // Every listener has 2 pending and due; "ok" completes both, "broken"
    // fails once (retried in a minute), "idle" runs later.
    await outbox.processPending({ limit: 4 });
    const { publications } = outbox.tables;
    // idle's pending one is held by a relay's lease (as a crashed relay
    // leaves it) and has waited 5 seconds.
    await db.query(
      `UPDATE ${publications} SET locked_until = now() + interval '1 minute',
         created_at = now() - interval '5 seconds'
       WHERE listener_id = 'idle' AND status = 'pending'`,
    );
    await db.query(
      `UPDATE ${publications} SET available_at = now()
       WHERE id = (SELECT min(id) FROM ${publications} WHERE listener_id = 'broken')`,
    );
    await outbox.processPending();
    const stats = await outbox.stats();
    const idle = stats.find((entry) => entry.listenerId === "idle")!;
    assert.ok(
      idle.oldestPendingAgeMs! >= 5000,
      String(idle.oldestPendingAgeMs),
    );
    assert.deepEqual(
      stats.map((entry) => ({
        ...entry,
        oldestPendingAgeMs: entry.oldestPendingAgeMs === null ? null : "set",
      })),
      [
        {
          listenerId: "broken",
          pending: 1,
          due: 0,
          leased: 0,
          failed: 1,
          completed: 0,
          oldestPendingAgeMs: "set",
          paused: false,
        },
        {
          listenerId: "idle",
          pending: 1,
          due: 0,
          leased: 1,
          failed: 0,
          completed: 1,
          oldestPendingAgeMs: "set",
          paused: false,
        },
        {
          listenerId: "ok",
          pending: 0,
          due: 0,
          leased: 0,
          failed: 0,
          completed: 2,
          oldestPendingAgeMs: null,
          paused: false,
        },
      ],
    );
  });

  it("marks a listener paused while its circuit breaker is open in this process", async () => {
    const outbox = new PostgresOutbox(db, {
      tablePrefix: freshPrefix(),
      retryDelayMs: 0,
      circuitBreaker: { threshold: 2, pauseMs: 60_000 },
    });
    await outbox.migrate();
    outbox.registerAny("down", () => {
      throw new Error("service down");
    });
    outbox.registerAny("up", () => {});
    await db.transaction((tx) =>
      outbox.store(tx, [createEvent("a"), createEvent("b")])
    );
    await outbox.processPending();
    assert.deepEqual(
      outbox.pausedListeners().map((paused) => paused.listenerId),
      ["down"],
    );
    assert.deepEqual(
      (await outbox.stats()).map(({ listenerId, paused }) => ({
        listenerId,
        paused,
      })),
      [{ listenerId: "down", paused: true }, {
        listenerId: "up",
        paused: false,
      }],
    );
  });

  it("lists listeners with pending or failed publications that this process does not register", async () => {
    const writer = await fresh();
    writer.registerAny("elsewhere", () => {});
    await db.transaction((tx) => writer.store(tx, createEvent("a")));
    const reader = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(writer),
    });
    const [stats, ...others] = await reader.stats();
    assert.deepEqual(others, []);
    assert.ok(stats!.oldestPendingAgeMs! >= 0);
    assert.deepEqual({ ...stats, oldestPendingAgeMs: 0 }, {
      listenerId: "elsewhere",
      pending: 1,
      due: 1,
      leased: 0,
      failed: 0,
      completed: 0,
      oldestPendingAgeMs: 0,
      paused: false,
    });
  });

  it("estimates completed from the planner's statistics once the table holds 10,000 rows or more", async () => {
    const outbox = await fresh();
    outbox.registerAny("x", () => {});
    outbox.registerAny("y", () => {});
    const { events, publications } = outbox.tables;
    await db.query(
      `INSERT INTO ${events} (event_id, event_type, occurred_at, body)
       SELECT gen_random_uuid(), 'bulk', now(), '{}' FROM generate_series(1, 12000)`,
    );
    await db.query(
      `INSERT INTO ${publications} (event_id, listener_id, status, completed_at)
       SELECT event_id, CASE WHEN random() < 0.75 THEN 'x' ELSE 'y' END,
         'completed', now()
       FROM ${events}`,
    );
    await db.query(`ANALYZE ${publications}`);
    await db.transaction((tx) => outbox.store(tx, createEvent("one.more")));
    const { rows } = await db.query<{ listener_id: string; n: number }>(
      `SELECT listener_id, count(*)::int AS n FROM ${publications}
       WHERE status = 'completed' GROUP BY listener_id ORDER BY listener_id`,
    );
    const stats = await outbox.stats();
    for (const [index, { n }] of rows.entries()) {
      const { completed, pending } = stats[index]!;
      assert.equal(pending, 1);
      // ANALYZE samples up to 30,000 rows: this table is read whole.
      assert.ok(Math.abs(completed - n) <= n * 0.01, `${completed} vs ${n}`);
    }
  });
});

describe("PostgresOutbox.events", () => {
  it("reads the stored events of one correlation id, oldest first, follow-ups included", async () => {
    const outbox = await fresh();
    outbox.register("order.placed", "ship", async (_event, { publish }) => {
      await publish("order.shipped", {});
    });
    const placed = createEvent("order.placed", { id: 7 }, {
      correlationId: "req-7",
    });
    await db.transaction((tx) =>
      outbox.store(tx, [
        placed,
        createEvent("order.placed", {}, { correlationId: "req-8" }),
      ])
    );
    await outbox.processPending();
    const events = await outbox.events({ correlationId: "req-7" });
    assert.deepEqual(
      events.map((event) => event.eventType),
      ["order.placed", "order.shipped"],
    );
    assert.deepEqual(events[0], placed);
    assert.match(
      formatCausationTree(events),
      /^correlation req-7\n└─ order\.placed .*\n {3}└─ order\.shipped/,
    );
    assert.equal(
      (await outbox.events({ correlationId: "req-7", limit: 1 })).length,
      1,
    );
    assert.deepEqual(await outbox.events({ correlationId: "nobody" }), []);
  });

  it("refuses bad options with a TypeError naming them", async () => {
    const outbox = await fresh();
    for (
      const [options, message] of [
        [undefined, /^events: expected an options object/],
        [{}, /^correlationId: expected 1-128 ASCII/],
        [{ correlationId: "a b" }, /^correlationId: /],
        [{ correlationId: "x".repeat(129) }, /^correlationId: /],
        [{ correlationId: "a", limit: 0 }, /^limit: expected an integer/],
        [{ correlationId: "a", limit: 1.5 }, /^limit: /],
        [{ correlationId: "a", max: 1 }, /^events: unknown option "max"/],
      ] as const
    ) {
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        () => outbox.events(options as any),
        (error: Error) =>
          error instanceof TypeError && message.test(error.message),
      );
    }
  });
});

describe("PostgresOutbox.failed", () => {
  it("lists dead letters oldest failure first, or newest first with newestFirst, ties by id", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    outbox.registerAny("search", () => {
      throw new Error("search down");
    });
    await db.transaction((tx) =>
      outbox.store(
        tx,
        Array.from({ length: 5 }, (_, n) => createEvent("item.indexed", { n })),
      )
    );
    await outbox.processPending();
    // Failed in an order that is not the order stored (ids 1..5): 4 first,
    // then 2, then 1 and 5 at the same instant, then 3. Were the order by id
    // (or by failed_at alone, ties left to chance), the lists would differ.
    const { publications } = outbox.tables;
    const rank: Record<number, number> = { 4: 0, 2: 1, 1: 2, 5: 2, 3: 3 };
    for (const [n, at] of Object.entries(rank)) {
      await db.query(
        `UPDATE ${publications} AS p
           SET failed_at = '2026-01-01T00:00:00Z'::timestamptz + $2 * interval '1 s'
           FROM ${outbox.tables.events} AS e
          WHERE e.event_id = p.event_id AND (e.body::json->'payload'->>'n')::int + 1 = $1`,
        [Number(n), at],
      );
    }
    const order = async (options?: Parameters<typeof outbox.failed>[0]) =>
      (await outbox.failed(options)).map((dead) =>
        (dead.event.payload as { n: number }).n + 1
      );
    assert.deepEqual(await order(), [4, 2, 1, 5, 3]);
    assert.deepEqual(await order({ newestFirst: false }), [4, 2, 1, 5, 3]);
    assert.deepEqual(await order({ newestFirst: true }), [3, 5, 1, 2, 4]);
    // The newest two, not the oldest two reversed.
    assert.deepEqual(await order({ newestFirst: true, limit: 2 }), [3, 5]);
    assert.deepEqual(await order({ limit: 2 }), [4, 2]);
    const [newest] = await outbox.failed({ newestFirst: true, limit: 1 });
    assert.equal(newest!.failedAt, "2026-01-01T00:00:03.000Z");
    assert.equal(newest!.lastError.split("\n")[0], "Error: search down");
  });

  it("refuses bad options with a TypeError naming them", async () => {
    const outbox = await fresh();
    for (
      const [options, message] of [
        [null, /^failed: expected an options object/],
        [{ limit: 0 }, /^limit: expected an integer from 1 to 10000, got 0/],
        [{ limit: 10_001 }, /^limit: /],
        [
          { newestFirst: "yes" },
          /^newestFirst: expected true or false, got "yes"/,
        ],
        [{ newestFirst: 1 }, /^newestFirst: expected true or false, got 1/],
        [
          { newestFirst: null },
          /^newestFirst: expected true or false, got null/,
        ],
        [{ newest: true }, /^failed: unknown option "newest"/],
      ] as const
    ) {
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        () => outbox.failed(options as any),
        (error: Error) =>
          error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
  });
});
