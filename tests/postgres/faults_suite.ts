// The outbox's faults on a real PostgreSQL server (issue #20): poison thrown
// values among healthy events, and a listener's dependency down for 60 s.
// Run with `deno task test:postgres`. The ledgers are kept outside the
// outbox: a table written through context.tx, a map of runs, and the HTTP
// server that stands for the dependency.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { createEvent, type DomainEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { suiteServer } from "./_suite_server.ts";
import { HOSTILE } from "../_hostile.ts";
import { inTransaction } from "./_transaction.ts";

let pool: pg.Pool;
suiteServer(4, (started) => ({ pool } = started));

async function store(outbox: PostgresOutbox, events: DomainEvent[]) {
  await inTransaction(pool, (client) => outbox.store(client, events));
}

async function statuses(prefix: string): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    `SELECT status, count(*)::int AS n FROM ${prefix}publications GROUP BY status`,
  );
  return Object.fromEntries(
    (rows as { status: string; n: number }[]).map((r) => [r.status, r.n]),
  );
}

describe("PostgresOutbox faults on a real PostgreSQL server", () => {
  it("poison: each hostile thrown value among 1,000 healthy events in the same batches is a dead letter after maxAttempts; every healthy event completes once", async () => {
    const prefix = "poison_values_";
    // Once the healthy events are done, the 10 poison rows retry back to
    // back with nothing succeeding between them: to a breaker of threshold
    // 10 or less that is an outage (docs/outbox.md), so this one is 11.
    const outbox = new PostgresOutbox(pool, {
      tablePrefix: prefix,
      maxAttempts: 3,
      retryDelayMs: 0,
      circuitBreaker: { threshold: 11 },
    });
    await outbox.migrate();
    await pool.query(`CREATE TABLE ${prefix}effects (n int NOT NULL)`);
    const runs = new Map<number, number>();
    outbox.register("job.run", "worker", async (event, { tx }) => {
      const n = event.payload.n as number;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      const poison = event.payload.poison as number | null;
      if (poison !== null) throw HOSTILE[poison]![1]();
      await tx.query(`INSERT INTO ${prefix}effects (n) VALUES ($1)`, [n]);
    });
    // One poison event every 100 healthy ones, so each batch of 50 holds
    // healthy and poison rows together.
    const events: DomainEvent[] = [];
    let poison = 0;
    for (let n = 0; events.length < 1000 + HOSTILE.length; n++) {
      const isPoison = n % 100 === 50 && poison < HOSTILE.length;
      events.push(
        createEvent("job.run", { n, poison: isPoison ? poison++ : null }),
      );
    }
    await store(outbox, events);
    for (;;) {
      const { completed, retried, failed } = await outbox.processPending({
        limit: 50,
      });
      if (completed + retried + failed === 0) break;
    }
    assert.deepEqual(await statuses(prefix), {
      completed: 1000,
      failed: HOSTILE.length,
    });
    const dead = await outbox.failed();
    assert.equal(dead.length, HOSTILE.length);
    for (const publication of dead) {
      assert.equal(publication.attempts, 3);
      assert(publication.lastError.length <= 8192);
    }
    const { rows } = await pool.query(
      `SELECT count(*)::int AS effects, count(DISTINCT n)::int AS distinct_n FROM ${prefix}effects`,
    );
    // A healthy event run twice or not at all shows here.
    assert.deepEqual(rows[0], { effects: 1000, distinct_n: 1000 });
    for (const event of events) {
      const expected = event.payload.poison === null ? 1 : 3;
      assert.equal(runs.get(event.payload.n as number), expected);
    }
    console.log(
      `poison: ${HOSTILE.length} hostile values dead after 3 attempts, 1000 healthy completed once`,
    );
  });

  it("outage: a listener whose dependency is down for 60 s is paused, and ends with every event delivered and 0 dead letters", async () => {
    const prefix = "outage_";
    const received = new Set<string>(); // the dependency's own ledger
    const port = (() => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const { port } = listener.addr as Deno.NetAddr;
      listener.close();
      return port;
    })();
    const serve = () =>
      Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (request) => {
        received.add(new URL(request.url).searchParams.get("id") as string);
        return new Response("ok");
      });
    let dependency = serve();
    const outbox = new PostgresOutbox(pool, {
      tablePrefix: prefix,
      // maxAttempts and retryDelayMs are the defaults (5; 1 s doubling).
      circuitBreaker: {
        threshold: 5,
        pauseMs: (opens) => Math.min(1000 * 2 ** (opens - 1), 8000),
      },
    });
    await outbox.migrate();
    outbox.register("mail.send", "mailer", async (event) => {
      const response = await fetch(
        `http://127.0.0.1:${port}/send?id=${event.eventId}`,
      );
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    });
    const controller = new AbortController();
    const errors: unknown[] = [];
    const relay = outbox.start({
      signal: controller.signal,
      intervalMs: 100,
      onError: (error) => errors.push(error),
    });
    const stored: string[] = [];
    let storing = true;
    const producer = (async () => {
      while (storing) {
        const batch = [0, 1, 2].map(() => createEvent("mail.send", {}));
        await store(outbox, batch);
        stored.push(...batch.map((event) => event.eventId));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await dependency.shutdown(); // the dependency goes down
    let pausedSeen = 0;
    const downUntil = Date.now() + 60_000;
    while (Date.now() < downUntil) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (outbox.pausedListeners().length) pausedSeen++;
    }
    dependency = serve(); // back
    await new Promise((resolve) => setTimeout(resolve, 5000));
    storing = false;
    await producer;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const { pending = 0 } = await statuses(prefix);
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    controller.abort();
    await relay;
    await dependency.shutdown();
    const { rows } = await pool.query(
      `SELECT max(attempts)::int AS most FROM ${prefix}publications`,
    );
    console.log(
      `outage: ${stored.length} events, paused in ${pausedSeen} of 60 one-second samples, at most ${
        (rows[0] as { most: number }).most
      } attempts charged to one publication, ${errors.length} batch errors`,
    );
    assert(pausedSeen >= 50, `paused in only ${pausedSeen} of 60 samples`);
    assert.deepEqual(await statuses(prefix), { completed: stored.length });
    assert.deepEqual(await outbox.failed(), []);
    // Every event reached the dependency (at least once: a run may have
    // been cut after the request).
    for (const id of stored) assert(received.has(id), `lost ${id}`);
  });
});
