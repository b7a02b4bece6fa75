// The faults production brings, in the outbox, on PGlite (issue #20): hostile
// thrown values, options out of range, misuse, unstorable input, outages (the
// circuit breaker), ordering per key and backfill. The ledgers are arrays and
// tables the listeners write, counted apart from the outbox's bookkeeping.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createEvent, type DomainEvent, parseEvent } from "../../mod.ts";
import {
  type PgPoolLike,
  PostgresInbox,
  PostgresOutbox,
  type PostgresOutboxOptions,
} from "../../postgres.ts";
import { HOSTILE } from "../_hostile.ts";
import { outboxFixture, tablePrefixOf } from "./_outbox_fixture.ts";

const { db, fresh, storeIn, rows, drain, count } = outboxFixture();

describe("bookkeeping nothing a listener does can break", () => {
  it("records each hostile thrown value as a bounded, storable attempt, dead at maxAttempts, while the healthy events of the same batches complete once", async () => {
    // Once the healthy events are done, the 10 poison rows retry back to
    // back with nothing succeeding between them: to a breaker of threshold
    // 10 or less that is an outage (docs/outbox.md), so this one is 11.
    const outbox = await fresh({
      maxAttempts: 2,
      circuitBreaker: { threshold: 11 },
    });
    const ran = new Map<number, number>(); // independent ledger: runs by n
    outbox.register("job.run", "worker", (event) => {
      const n = event.payload.n as number;
      ran.set(n, (ran.get(n) ?? 0) + 1);
      const poison = event.payload.poison as number | null;
      if (poison !== null) throw HOSTILE[poison]![1]();
    });
    const events: DomainEvent[] = [];
    for (let n = 0; n < 60; n++) {
      const poison = n % 6 === 3 ? (n - 3) / 6 : null;
      events.push(createEvent("job.run", { n, poison }));
    }
    await storeIn(outbox, events);
    await drain(outbox, 25);
    const dead = await outbox.failed();
    assert.equal(dead.length, HOSTILE.length);
    for (const publication of dead) {
      assert.equal(publication.attempts, 2);
      assert(publication.lastError.length <= 8192);
      assert(!publication.lastError.includes("\u0000"));
      assert.equal(publication.lastError, publication.lastError.normalize());
    }
    const texts = dead.map((d) => d.lastError);
    assert(texts.some((t) => t.startsWith("Error: x\ufffdy")));
    assert(texts.some((t) => t.includes("characters cut)")));
    assert(texts.some((t) => t.includes("cannot be turned into text")));
    for (let n = 0; n < 60; n++) {
      assert.equal(ran.get(n), n % 6 === 3 ? 2 : 1, `event ${n}`);
    }
  });

  it("caps a retryDelayMs result past 2^31 - 1 ms instead of stalling the row", async () => {
    const outbox = await fresh({ retryDelayMs: () => 1e20 });
    outbox.registerAny("flaky", () => {
      throw new Error("down");
    });
    await storeIn(outbox, createEvent("a.b"));
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 1,
      failed: 0,
    });
    const [row] = await rows<{ days: number }>(
      `SELECT extract(epoch FROM available_at - now()) / 86400 AS days FROM ${outbox.tables.publications}`,
    );
    assert(row!.days > 24 && row!.days < 25, String(row!.days));
  });

  it("refuses at construction every option that could put a row out of range", () => {
    const refused: [PostgresOutboxOptions, RegExp][] = [
      [
        { retryDelayMs: 1e20 },
        /^retryDelayMs: expected a number from 0 to 2147483647/,
      ],
      [{ leaseMs: 2 ** 31 }, /^leaseMs: /],
      [{ maxAttempts: 2 ** 31 }, /^maxAttempts: /],
      [{ circuitBreaker: { threshold: 0 } }, /^circuitBreaker\.threshold: /],
      [{ circuitBreaker: { pauseMs: -1 } }, /^circuitBreaker\.pauseMs: /],
      [{ circuitBreaker: { pauseMs: 2 ** 31 } }, /^circuitBreaker\.pauseMs: /],
      [
        { circuitBreaker: { treshold: 3 } as never },
        /^circuitBreaker: unknown option "treshold"/,
      ],
      [
        { circuitBreaker: true as never },
        /^circuitBreaker: expected an options object/,
      ],
      [{ orderingKey: "order" as never }, /^orderingKey: expected a function/],
    ];
    for (const [options, message] of refused) {
      assert.throws(
        () => new PostgresOutbox(db, options),
        (error: unknown) =>
          error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
  });

  it("goes on with the batch when the database refuses to record one outcome, then rejects naming it", async () => {
    const outbox = await fresh({ maxAttempts: 3 });
    const failing: PgPoolLike = {
      query: (text, params) =>
        text.includes("attempts = attempts + 1")
          ? Promise.reject(new Error("connection reset"))
          : db.query(text, params),
      connect: () =>
        Promise.resolve({
          query: (text: string, params?: unknown[]) => db.query(text, params),
          release: () => {},
        }),
    };
    const relay = new PostgresOutbox(failing, {
      tablePrefix: tablePrefixOf(outbox),
    });
    const seen: number[] = [];
    relay.registerAny("worker", (event) => {
      seen.push(event.payload.n as number);
      if (event.payload.n === 0) throw new Error("first one fails");
    });
    await storeIn(relay, [0, 1, 2].map((n) => createEvent("a.b", { n })));
    await assert.rejects(relay.processPending(), (error: unknown) => {
      assert.match(
        String(error),
        /outcome of 1 publication\(s\) could not be recorded/,
      );
      assert.match(String((error as Error).cause), /connection reset/);
      return true;
    });
    assert.deepEqual(seen, [0, 1, 2]);
    assert.deepEqual(
      await rows(
        `SELECT status, attempts FROM ${outbox.tables.publications} ORDER BY id`,
      ),
      [
        { status: "pending", attempts: 0 },
        { status: "completed", attempts: 0 },
        { status: "completed", attempts: 0 },
      ],
    );
  });
});

describe("lost connections", () => {
  it("listens for 'error' on a pg Pool once, and on each client while it is checked out, so a cut connection never ends the process", async () => {
    const pool = new pg.Pool({ connectionString: "postgres://127.0.0.1:1/x" });
    new PostgresOutbox(pool);
    new PostgresOutbox(pool);
    new PostgresInbox(pool);
    assert.equal(pool.listenerCount("error"), 1);
    pool.emit("error", new Error("idle client cut by a restart")); // no throw
    await pool.end();

    const outbox = await fresh();
    const listening: number[] = [];
    const listeners = new Set<() => void>();
    const client = {
      query: (text: string, params?: unknown[]) => db.query(text, params),
      release: () => {},
      on: (_: "error", listener: () => void) => listeners.add(listener),
      removeListener: (_: "error", listener: () => void) =>
        listeners.delete(listener),
    };
    const relay = new PostgresOutbox({
      query: (text: string, params?: unknown[]) => db.query(text, params),
      connect: () => Promise.resolve(client),
    }, { tablePrefix: tablePrefixOf(outbox) });
    relay.registerAny("worker", () => {
      listening.push(listeners.size);
      for (const listener of listeners) listener(); // the connection is cut
    });
    await storeIn(relay, createEvent("a.b"));
    await relay.processPending();
    assert.deepEqual(listening, [1]);
    assert.equal(listeners.size, 0, "the listener outlived the checkout");
  });
});

describe("edges: misuse and input PostgreSQL cannot take as it is", () => {
  it("store on the database itself or a pg Pool is a TypeError naming the fix", async () => {
    const outbox = await fresh();
    await assert.rejects(
      outbox.store(db, createEvent("a.b")),
      (error: unknown) =>
        error instanceof TypeError &&
        /db\.transaction\(async \(tx\) =>/.test(error.message),
    );
    const pool = new pg.Pool({ connectionString: "postgres://127.0.0.1:1/x" });
    await assert.rejects(
      outbox.store(pool, createEvent("a.b")),
      (error: unknown) =>
        error instanceof TypeError &&
        /not a pg Pool.*pool\.connect\(\).*BEGIN/.test(error.message),
    );
    await pool.end();
  });

  it("store on a pg client whose connection is down rejects with pg's error", async () => {
    // With preparedStatements (the default) the statement goes through pg's
    // { name, text, values } query config; without, as (text, params): both
    // reach pg, which rejects, and the outbox passes its error on.
    for (const preparedStatements of [true, false]) {
      const outbox = await fresh({ preparedStatements });
      const client = new pg.Client({
        connectionString: "postgres://127.0.0.1:1/x",
      });
      client.on("error", () => {});
      await assert.rejects(client.connect());
      await assert.rejects(
        outbox.store(client, createEvent("a.b")),
        /Connection terminated/,
      );
    }
  });

  it("every call before migrate() names migrate()", async () => {
    const outbox = new PostgresOutbox(db, { tablePrefix: "never_migrated_" });
    outbox.registerAny("audit", () => {});
    const calls: [string, () => Promise<unknown>][] = [
      ["store", () => storeIn(outbox, createEvent("a.b"))],
      ["processPending", () => outbox.processPending()],
      ["failed", () => outbox.failed()],
      ["resubmit", () => outbox.resubmit()],
      [
        "purgeCompleted",
        () => outbox.purgeCompleted({ olderThan: new Date() }),
      ],
      ["backfill", () => outbox.backfill("audit")],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call(), (error: unknown) => {
        assert.match(
          String(error),
          new RegExp(
            `^Error: ${name}: the outbox tables .* run \`await outbox\\.migrate\\(\\)\``,
          ),
        );
        return true;
      });
    }
  });

  it("the inbox too: a call before migrate() names inbox.migrate(), a consumer name with NUL is refused", async () => {
    const inbox = new PostgresInbox(db, { tablePrefix: "never_migrated_" });
    const event = createEvent("a.b");
    await assert.rejects(
      inbox.handle("ledger", event, () => {}),
      /^Error: claim: the inbox tables \(never_migrated_processed\) .* run `await inbox\.migrate\(\)`/,
    );
    await assert.rejects(
      inbox.purge({ olderThan: new Date() }),
      /^Error: purge: the inbox tables/,
    );
    await assert.rejects(
      inbox.handle("nul\u0000name", event, () => {}),
      /^TypeError: consumer: .*without NUL or lone surrogates/,
    );
  });

  it("stores and reads back equal the events PostgreSQL cannot take as they are: far dates, lone surrogates, NUL", async () => {
    const outbox = await fresh();
    const seen: DomainEvent[] = [];
    outbox.registerAny("copy", (event) => {
      seen.push(event);
    });
    const events = [
      createEvent("year.zero", {}, { occurredAt: "0000-01-01T00:00:00.000Z" }),
      createEvent("far.future", {}, {
        occurredAt: "+275760-09-13T00:00:00.000Z",
      }),
      createEvent("far.past", {}, {
        occurredAt: "-271821-04-20T00:00:00.000Z",
      }),
      createEvent("lone\ud800surrogate", { text: "a\udc00b\u0000c" }),
      createEvent("pair.ok", { text: "\ud83d\ude00" }, {
        metadata: { m: "\u0000" },
      }),
    ];
    assert.deepEqual(await storeIn(outbox, events), {
      events: 5,
      publications: 5,
    });
    await drain(outbox);
    assert.deepEqual(seen, events);
    const bodies = await rows<{ body: string }>(
      `SELECT body::text AS body FROM ${outbox.tables.events} ORDER BY seq`,
    );
    assert.deepEqual(bodies.map((row) => parseEvent(row.body)), events);
    assert.throws(
      () => outbox.registerAny("nul\u0000id", () => {}),
      /^TypeError: id: expected a listener id of 1 to 128 characters, without NUL or lone surrogates/,
    );
    assert.throws(
      () => outbox.registerAny("lone\ud800", () => {}),
      /without NUL or lone surrogates/,
    );
  });

  it("runs the listeners again for an event stored after purgeCompleted removed it: the idempotency window", async () => {
    const outbox = await fresh();
    let runs = 0;
    outbox.registerAny("count", () => {
      runs++;
    });
    const event = createEvent("a.b");
    await storeIn(outbox, event);
    await drain(outbox);
    assert.deepEqual(await storeIn(outbox, event), {
      events: 0,
      publications: 0,
    });
    await outbox.purgeCompleted({ olderThan: new Date(Date.now() + 60_000) });
    assert.deepEqual(await storeIn(outbox, event), {
      events: 1,
      publications: 1,
    });
    await drain(outbox);
    assert.equal(runs, 2);
  });

  it("stores an event given twice in one call once, with one publication per listener", async () => {
    const outbox = await fresh();
    let runs = 0;
    outbox.register("a.b", "count", () => {
      runs++;
    });
    outbox.registerAny("audit", () => {});
    const event = createEvent("a.b");
    // createEvent keeps an eventId lower-case: the same event again.
    const upper = createEvent("a.b", {}, {
      eventId: event.eventId.toUpperCase(),
    });
    assert.deepEqual(
      await storeIn(outbox, [event, createEvent("c.d"), event, upper]),
      {
        events: 2,
        publications: 3,
      },
    );
    await drain(outbox);
    assert.equal(runs, 1);
  });
});

async function mailerAttempts(outbox: PostgresOutbox): Promise<number[]> {
  const list = await rows<{ attempts: number }>(
    `SELECT attempts FROM ${outbox.tables.publications} WHERE listener_id = 'mailer' ORDER BY id`,
  );
  return list.map((row) => row.attempts);
}

describe("circuit breaker: an outage is not poison", () => {
  it("pauses a listener after threshold first-attempt failures of different publications: nothing of it is claimed while paused, nothing charged", async () => {
    const outbox = await fresh({
      maxAttempts: 2,
      circuitBreaker: { threshold: 3, pauseMs: 3_600_000 },
    });
    outbox.register("mail.send", "mailer", () => {
      throw new Error("SMTP down");
    });
    outbox.register("mail.send", "healthy", () => {}, {
      circuitBreaker: false,
    });
    await storeIn(
      outbox,
      [0, 1, 2, 3, 4, 5].map((n) => createEvent("mail.send", { n })),
    );
    const before = Date.now();
    assert.deepEqual(await outbox.processPending(), {
      completed: 6,
      retried: 3,
      failed: 0,
    });
    const paused = outbox.pausedListeners();
    assert.equal(paused.length, 1);
    assert.equal(paused[0]!.listenerId, "mailer");
    assert.equal(paused[0]!.opens, 1);
    assert.match(paused[0]!.lastError, /^Error: SMTP down/);
    assert(Date.parse(paused[0]!.resumesAt) >= before + 3_600_000);
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(await mailerAttempts(outbox), [1, 1, 1, 0, 0, 0]);
    assert.deepEqual(await outbox.failed(), []);
  });

  it("charges nothing on trial runs, which open it again, and closes on the first success", async () => {
    const outbox = await fresh({
      maxAttempts: 2,
      circuitBreaker: { threshold: 3, pauseMs: 0 }, // every run after opening is a trial
    });
    let up = false;
    const delivered: number[] = []; // independent ledger
    outbox.register("mail.send", "mailer", (event) => {
      if (!up) throw new Error("SMTP down");
      delivered.push(event.payload.n as number);
    });
    await storeIn(
      outbox,
      [0, 1, 2, 3, 4, 5].map((n) => createEvent("mail.send", { n })),
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 6,
      failed: 0,
    });
    assert.deepEqual(await mailerAttempts(outbox), [1, 1, 1, 0, 0, 0]);
    assert.equal(outbox.pausedListeners()[0]?.opens, 4);
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 6,
      failed: 0,
    });
    assert.deepEqual(await mailerAttempts(outbox), [1, 1, 1, 0, 0, 0]);
    assert.equal(outbox.pausedListeners()[0]?.opens, 10);
    up = true;
    await drain(outbox);
    assert.deepEqual(outbox.pausedListeners(), []);
    assert.deepEqual(delivered.sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(await outbox.failed(), []);
  });

  it("does not open for one poison event failing again and again: it becomes a dead letter", async () => {
    const outbox = await fresh({
      maxAttempts: 4,
      circuitBreaker: { threshold: 2, pauseMs: (opens) => opens * 60_000 },
    });
    outbox.registerAny("worker", () => {
      throw new Error("poison");
    });
    await storeIn(outbox, createEvent("a.b"));
    await drain(outbox);
    assert.deepEqual(outbox.pausedListeners(), []);
    assert.equal((await outbox.failed())[0]?.attempts, 4);
  });

  it("takes the default pause when pauseMs throws or returns a bad value", async () => {
    for (
      const pauseMs of [() => {
        throw new Error("no");
      }, () => -5]
    ) {
      const outbox = await fresh({ circuitBreaker: { threshold: 1, pauseMs } });
      outbox.registerAny("worker", () => {
        throw new Error("down");
      });
      await storeIn(outbox, createEvent("a.b"));
      const before = Date.now();
      await outbox.processPending();
      const after = Date.now();
      // Opened between before and after, for the default 5 s.
      const resumes = Date.parse(outbox.pausedListeners()[0]!.resumesAt);
      assert(
        resumes >= before + 5000 && resumes <= after + 5000,
        `${resumes - before} ms after the batch started`,
      );
    }
  });

  it("register refuses a bad breaker option; retryLater retries without charge and refuses a bad delay", async () => {
    const outbox = await fresh({ maxAttempts: 3 });
    assert.throws(
      () => outbox.registerAny("x", () => {}, { breaker: 1 } as never),
      /^TypeError: register: unknown option "breaker"/,
    );
    assert.throws(
      () =>
        outbox.registerAny("x", () => {}, {
          circuitBreaker: { threshold: -1 },
        }),
      /^TypeError: circuitBreaker\.threshold: /,
    );
    const seen: number[] = [];
    outbox.registerAny("later", (_event, context) => {
      seen.push(context.attempt);
      if (seen.length <= 3) context.retryLater(0);
    });
    outbox.registerAny("bad-delay", (_event, context) => {
      context.retryLater(-1);
    });
    await storeIn(outbox, createEvent("a.b"));
    await drain(outbox);
    assert.deepEqual(seen, [1, 1, 1, 1]);
    const [dead] = await outbox.failed();
    assert.equal(dead?.listenerId, "bad-delay");
    assert.match(
      dead!.lastError,
      /^TypeError: retryLater: expected an integer from 0/,
    );
    const notes = await rows<{ last_error: string }>(
      `SELECT last_error FROM ${outbox.tables.publications} WHERE listener_id = 'later'`,
    );
    assert.deepEqual(notes, [{ last_error: "retryLater(0) at attempt 1" }]);
  });
  it("a retryLater caught inside the listener does not hide the failure that follows; one given as the cause of the failure still retries without charge", async () => {
    const outbox = await fresh({ maxAttempts: 1, circuitBreaker: false });
    outbox.registerAny("swallows", (_event, context) => {
      try {
        context.retryLater(0);
      } catch {
        // swallowed: the run goes on and fails for another reason
      }
      throw new Error("the real failure");
    });
    outbox.registerAny("unreadable-cause", (_event, context) => {
      try {
        context.retryLater(0);
      } catch {
        // swallowed, then a value whose cause cannot even be read is thrown
      }
      throw {
        get cause(): never {
          throw new Error("no cause for you");
        },
      };
    });
    let runs = 0;
    outbox.registerAny("wraps", (_event, context) => {
      if (++runs > 1) return;
      try {
        context.retryLater(0);
      } catch (later) {
        throw new Error("wrapped", { cause: later });
      }
    });
    await storeIn(outbox, createEvent("a.b"));
    await drain(outbox);
    const dead = await outbox.failed();
    assert.deepEqual(dead.map((d) => d.listenerId).sort(), [
      "swallows",
      "unreadable-cause",
    ]);
    assert.match(
      dead.find((d) => d.listenerId === "swallows")!.lastError,
      /the real failure/,
    );
    assert.equal(runs, 2); // retried, not charged (maxAttempts 1 would have failed it)
  });
});

describe("ordering per key", () => {
  it("runs one key's events in store order per listener: a retry holds back only its key and listener, a dead letter blocks its key until resubmitted", async () => {
    const outbox = await fresh({
      maxAttempts: 2,
      circuitBreaker: false,
      orderingKey: (event) =>
        (event.payload.order as string | undefined) ?? null,
    });
    const seen: string[] = []; // independent ledger, in run order
    const fails = new Map<string, number>([["o1:placed", 1], ["o3:placed", 2]]);
    outbox.registerAny("fulfil", (event) => {
      const name = `${event.payload.order ?? "none"}:${event.payload.step}`;
      const left = fails.get(name) ?? 0;
      if (left > 0) {
        fails.set(name, left - 1);
        throw new Error(`${name} fails`);
      }
      seen.push(name);
    });
    const other: string[] = [];
    outbox.registerAny("audit", (event) => {
      other.push(`${event.payload.order ?? "none"}:${event.payload.step}`);
    });
    const steps = [
      ["o1", "placed"],
      ["o2", "placed"],
      ["o1", "paid"],
      [null, "ping"],
      ["o3", "placed"],
      ["o1", "shipped"],
      ["o2", "paid"],
      ["o3", "paid"],
    ] as const;
    await storeIn(
      outbox,
      steps.map(([order, step]) =>
        createEvent("order.step", order ? { order, step } : { step })
      ),
    );
    await drain(outbox);
    const ofKey = (list: string[], key: string) =>
      list.filter((s) => s.startsWith(key + ":"));
    assert.deepEqual(ofKey(seen, "o1"), ["o1:placed", "o1:paid", "o1:shipped"]);
    assert.deepEqual(ofKey(seen, "o2"), ["o2:placed", "o2:paid"]);
    assert.deepEqual(ofKey(seen, "o3"), [], "o3's dead letter blocks o3");
    assert(seen.includes("none:ping"));
    assert.equal(other.length, 8, "the audit listener is held back by nothing");
    assert(
      seen.indexOf("o2:placed") < seen.indexOf("o1:placed"),
      "o1's retry did not hold o2 back",
    );
    const [dead] = await outbox.failed();
    assert.equal(dead?.event.payload.step, "placed");
    assert.equal(await outbox.resubmit({ id: dead!.id }), 1);
    await drain(outbox);
    assert.deepEqual(ofKey(seen, "o3"), ["o3:placed", "o3:paid"]);
  });

  it("refuses a key that is not a string of 1 to 256 characters or null, and stores NUL in a key", async () => {
    for (const key of ["", "k".repeat(257), 42]) {
      const outbox = await fresh({ orderingKey: () => key as string });
      await assert.rejects(
        storeIn(outbox, createEvent("a.b")),
        /^TypeError: orderingKey: expected to return a string of 1 to 256 characters or null/,
      );
    }
    const outbox = await fresh({ orderingKey: () => "nul\u0000key" });
    outbox.registerAny("x", () => {});
    assert.deepEqual(await storeIn(outbox, createEvent("a.b")), {
      events: 1,
      publications: 1,
    });
    assert.equal(await drain(outbox), 1);
  });
});

describe("backfill", () => {
  it("creates the missing publications of a listener deployed later, at most one per event, in store order, since a time", async () => {
    const old = await fresh({ orderingKey: () => "k" });
    const first = [1, 2, 3].map((n) => createEvent("order.placed", { n }));
    await storeIn(old, [...first, createEvent("other.type")]);
    const later = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(old),
      orderingKey: () => "k",
    });
    const seen: number[] = [];
    later.register("order.placed", "analytics", (event) => {
      seen.push(event.payload.n as number);
    });
    later.registerAny("everything", () => {});
    assert.equal(
      await later.backfill("analytics", {
        since: new Date(Date.now() + 60_000),
      }),
      0,
    );
    assert.equal(await later.backfill("analytics"), 3);
    assert.equal(await later.backfill("analytics"), 0);
    assert.equal(await later.backfill("everything", { since: new Date(0) }), 4);
    await drain(later);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("keeps one key in store order when events stored after the deploy already have their publications", async () => {
    const old = await fresh({ orderingKey: () => "k" });
    await storeIn(old, [1, 2].map((n) => createEvent("order.placed", { n })));
    const later = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(old),
      orderingKey: () => "k",
    });
    const seen: number[] = [];
    later.register("order.placed", "analytics", (event) => {
      seen.push(event.payload.n as number);
    });
    // Stored by the new code before the operator ran the backfill.
    await storeIn(later, createEvent("order.placed", { n: 3 }));
    assert.equal(await later.backfill("analytics"), 2);
    await drain(later);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  // PGlite has one connection, so no backfill can commit inside a purge (the
  // real server's race: tests/postgres/outbox_backfill.ts). A trigger makes
  // the same state inside the purge's own statement: deleting the completed
  // publication inserts a publication of "late" for the oldest event without
  // one, for the first `budget` attempts. The statement's snapshot misses
  // that row, its foreign-key check sees it: 23503, as in the race. A
  // sequence (never rolled back) counts the attempts, apart from the outbox:
  // a 4th attempt, or a rejection without a second, would show there.
  async function purgeMeetingBackfills(budget: number) {
    const outbox = await fresh();
    await storeIn(outbox, [0, 1, 2, 3].map((n) => createEvent("old", { n })));
    const { events, publications } = outbox.tables;
    const prefix = tablePrefixOf(outbox);
    await db.exec(`
      UPDATE ${events} SET stored_at = now() - interval '1 hour';
      INSERT INTO ${publications}
        (event_id, listener_id, ordering_key, status, completed_at)
      SELECT event_id, 'done', ordering_key, 'completed', now() - interval '1 hour'
      FROM ${events} ORDER BY seq LIMIT 1;
      CREATE SEQUENCE ${prefix}attempts;
      CREATE FUNCTION ${prefix}backfill() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('${prefix}attempts') <= ${budget} THEN
          INSERT INTO ${publications} (event_id, listener_id, ordering_key)
          SELECT event_id, 'late', ordering_key FROM ${events} AS e
          WHERE NOT EXISTS (SELECT 1 FROM ${publications} AS p
            WHERE p.event_id = e.event_id)
          ORDER BY seq LIMIT 1;
        END IF;
        RETURN OLD;
      END $$;
      CREATE TRIGGER backfill_inside BEFORE DELETE ON ${publications}
      FOR EACH ROW EXECUTE FUNCTION ${prefix}backfill();`);
    const purge = outbox.purgeCompleted({ olderThan: new Date() });
    const attempts = async () =>
      (await rows<{ n: number }>(
        `SELECT last_value::int AS n FROM ${prefix}attempts`,
      ))[0]?.n;
    return { purge, events, attempts };
  }

  it("purgeCompleted tries again when a publication appears for an event it is deleting (23503)", async () => {
    const { purge, events, attempts } = await purgeMeetingBackfills(1);
    // Without the retry: rejects with the raw 23503 of the first attempt.
    assert.deepEqual(await purge, { publications: 1, events: 4 });
    assert.equal(await count(events), 0);
    assert.equal(await attempts(), 2);
  });

  it("purgeCompleted gives up after 3 such attempts with an error naming it, the 23503 as cause", async () => {
    const { purge, events, attempts } = await purgeMeetingBackfills(10);
    const error = await purge.then(
      () => assert.fail("purgeCompleted resolved"),
      (error: unknown) => error as Error & { cause?: { code?: string } },
    );
    assert.equal(error.message, "purgeCompleted: a backfill raced it 3 times");
    assert.equal(error.cause?.code, "23503");
    assert.equal(await count(events), 4);
    assert.equal(await attempts(), 3);
  });

  it("backfill refuses what it cannot take", async () => {
    const later = await fresh();
    later.register("order.placed", "analytics", () => {});
    await assert.rejects(
      later.backfill("nobody"),
      /^TypeError: listenerId: expected the id of a listener registered/,
    );
    await assert.rejects(
      later.backfill("analytics", { since: new Date(NaN) }),
      /^TypeError: since: /,
    );
    await assert.rejects(
      later.backfill("analytics", { after: 1 } as never),
      /^TypeError: backfill: unknown option/,
    );
  });
});
