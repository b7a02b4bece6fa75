// The PostgreSQL outbox on PGlite (real PostgreSQL compiled to WebAssembly,
// from npm): Deno only. One database for the file, one table prefix per test.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PGlite } from "@electric-sql/pglite";
import {
  createEvent,
  defineEvent,
  type DomainEvent,
  InvalidEventError,
  parseEvent,
  uuidv7,
} from "../../mod.ts";
import {
  type OutboxHandler,
  type PgPoolClientLike,
  type PgPoolLike,
  PostgresInbox,
  PostgresOutbox,
  type PostgresOutboxOptions,
  type SqlQueryable,
} from "../../postgres.ts";
import { withEventContext } from "../../src/context/with_event_context.ts";
import { outboxFixture, tablePrefixOf } from "./_outbox_fixture.ts";

const InviteCreated = defineEvent("invite.created", {
  schema: (value): value is { email: string } =>
    typeof (value as { email?: unknown }).email === "string",
});

const { db, freshPrefix, fresh, statuses, count, storeIn } = outboxFixture();

function invite(email = "ada@example.com"): DomainEvent {
  return InviteCreated.create({ email });
}

/** A `pg` Pool's shape over the PGlite connection: BEGIN/COMMIT on a "client". */
function poolOver(
  target: PGlite,
  released: (Error | boolean | undefined)[],
  failRollback = false,
): PgPoolLike {
  const query = (text: string, params?: unknown[]) =>
    target.query(text, params);
  return {
    query,
    connect(): Promise<PgPoolClientLike> {
      return Promise.resolve({
        query: (text: string, params?: unknown[]) =>
          failRollback && text === "ROLLBACK"
            ? Promise.reject(new Error("connection lost"))
            : query(text, params),
        release: (error?: Error | boolean) => released.push(error),
      });
    },
  };
}

describe("PostgresOutbox.store", () => {
  it("writes the event and one pending publication per listener of its type, and registerAny ones", async () => {
    const outbox = await fresh();
    outbox.register(InviteCreated, "email", () => {});
    outbox.register(InviteCreated, "crm", () => {});
    outbox.register("invite.accepted", "other-type", () => {});
    outbox.registerAny("audit", () => {});
    const result = await db.transaction((tx) =>
      outbox.store(tx, [invite(), createEvent("unlistened.type")])
    );
    assert.deepEqual(result, { events: 2, publications: 4 });
    assert.deepEqual(await statuses(outbox), { pending: 4 });
    assert.equal(await count(outbox.tables.events), 2);
  });

  it("gives PGlite and an adapter with only query the statement as (text, params), whatever preparedStatements says", async () => {
    // Only a node-postgres client (escapeIdentifier and escapeLiteral) gets
    // pg's { name, text, values }: an adapter to another driver handed that
    // object instead of the text would send "[object Object]" as SQL.
    for (const preparedStatements of [undefined, true, false]) {
      const outbox = await fresh(
        preparedStatements === undefined ? {} : { preparedStatements },
      );
      outbox.registerAny("audit", () => {});
      const calls: unknown[][] = [];
      const [viaAdapter, direct] = await db.transaction(async (tx) => {
        const adapter: SqlQueryable = {
          query(...args: [string, unknown[]?]) {
            calls.push(args);
            return tx.query(...args);
          },
        };
        return [
          await outbox.store(adapter, invite()),
          await outbox.store(tx, invite()),
        ];
      });
      const one = { events: 1, publications: 1 };
      assert.deepEqual([viaAdapter, direct], [one, one]);
      assert.equal(calls.length, 1);
      const [text, params] = calls[0] as [unknown, unknown];
      assert.equal(typeof text, "string");
      assert.match(text as string, /^WITH /);
      assert(Array.isArray(params) && params.length === 2);
      assert.deepEqual(await statuses(outbox), { pending: 2 });
    }
  });

  it("stores nothing when the caller's transaction rolls back", async () => {
    const outbox = await fresh();
    outbox.register(InviteCreated, "email", () => {});
    await assert.rejects(
      db.transaction(async (tx) => {
        await outbox.store(tx, invite());
        throw new Error("the command failed after storing");
      }),
      /the command failed/,
    );
    assert.equal(await count(outbox.tables.events), 0);
    assert.equal(await count(outbox.tables.publications), 0);
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
  });

  it("ignores an event stored a second time: no new publication, its listener runs once", async () => {
    const outbox = await fresh();
    let runs = 0;
    outbox.register(InviteCreated, "email", () => {
      runs++;
    });
    const event = invite();
    assert.deepEqual(await storeIn(outbox, event), {
      events: 1,
      publications: 1,
    });
    assert.deepEqual(await storeIn(outbox, [event, event]), {
      events: 0,
      publications: 0,
    });
    await outbox.processPending();
    assert.deepEqual(await storeIn(outbox, event), {
      events: 0,
      publications: 0,
    });
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    assert.equal(runs, 1);
  });

  it("refuses a non-event with InvalidEventError before writing anything", async () => {
    const outbox = await fresh();
    outbox.registerAny("audit", () => {});
    const forged = { ...invite(), eventId: "not-a-uuid" };
    await assert.rejects(
      storeIn(outbox, [invite(), forged as DomainEvent]),
      (error: unknown) => {
        assert(error instanceof InvalidEventError);
        assert.equal(error.issues[0]?.path, "events[1]");
        assert.match(error.message, /expected a domain event, got an object/);
        return true;
      },
    );
    await assert.rejects(
      storeIn(outbox, "invite.created" as unknown as DomainEvent),
      /^InvalidEventError: events: expected a domain event, got "invite.created"/,
    );
    assert.equal(await count(outbox.tables.events), 0);
    await assert.rejects(
      outbox.store({} as SqlQueryable, []),
      /^TypeError: store: expected a transaction with a query method, got an object/,
    );
    assert.deepEqual(await storeIn(outbox, []), {
      events: 0,
      publications: 0,
    });
  });
});

describe("PostgresOutbox.processPending", () => {
  it("reads each event back equal to what was stored, payload edge cases included", async () => {
    const outbox = await fresh();
    const received: DomainEvent[] = [];
    outbox.registerAny("audit", (event) => {
      received.push(event);
    });
    const stored = [
      createEvent("odd.payload", {
        nul: "a\u0000b",
        emoji: "👋 \u2028",
        quote: "'; DROP TABLE x; --",
        numbers: [0, -1.5, 1e21, 5e-324, Number.MAX_SAFE_INTEGER],
        nested: { deep: [{ a: null, b: true }] },
      }, { metadata: { tenant: "acme" }, correlationId: "req-1" }),
      invite(),
    ];
    await storeIn(outbox, stored);
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(received, stored);
    assert.deepEqual(
      received.map((event) => parseEvent(JSON.stringify(event))),
      stored,
    );
    assert(Object.isFrozen(received[0]?.payload));
  });

  it("commits the listener's writes with the completion, and rolls both back on failure", async () => {
    const outbox = await fresh({ maxAttempts: 2 });
    await db.query(`CREATE TABLE ${outbox.tables.events}_effects (email text)`);
    let fail = true;
    outbox.register(InviteCreated, "email", async (event, { tx }) => {
      await tx.query(
        `INSERT INTO ${outbox.tables.events}_effects VALUES ($1)`,
        [
          event.payload.email,
        ],
      );
      if (fail) throw new Error("SMTP down");
    });
    await storeIn(outbox, invite());
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 1,
      failed: 0,
    });
    assert.equal(await count(`${outbox.tables.events}_effects`), 0);
    assert.deepEqual(await statuses(outbox), { pending: 1 });
    fail = false;
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.equal(await count(`${outbox.tables.events}_effects`), 1);
    assert.deepEqual(await statuses(outbox), { completed: 1 });
  });

  it("retries with the attempt number, then fails at maxAttempts with the last error", async () => {
    const outbox = await fresh({ maxAttempts: 3 });
    const attempts: number[] = [];
    outbox.register(
      InviteCreated,
      "email",
      (_event, { attempt, listenerId }) => {
        attempts.push(attempt);
        throw new Error(`${listenerId}: SMTP down on attempt ${attempt}`);
      },
    );
    const event = invite();
    await storeIn(outbox, event);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await outbox.processPending());
    assert.deepEqual(results, [
      { completed: 0, retried: 1, failed: 0 },
      { completed: 0, retried: 1, failed: 0 },
      { completed: 0, retried: 0, failed: 1 },
      { completed: 0, retried: 0, failed: 0 },
    ]);
    assert.deepEqual(attempts, [1, 2, 3]);
    const [dead, ...rest] = await outbox.failed();
    assert.equal(rest.length, 0);
    assert(dead);
    assert.equal(dead.listenerId, "email");
    assert.equal(dead.attempts, 3);
    assert.match(
      dead.lastError,
      /^Error: email: SMTP down on attempt 3\n\s+at /,
    );
    assert.deepEqual(dead.event, event);
    assert.match(dead.id, /^\d+$/);
    assert(Math.abs(Date.parse(dead.failedAt) - Date.now()) < 60_000);
  });

  it("waits retryDelayMs(attempt) before the next run", async () => {
    const delays: number[] = [];
    const outbox = await fresh({
      retryDelayMs: (attempt) => {
        delays.push(attempt);
        return 60_000;
      },
    });
    outbox.register(InviteCreated, "email", () => {
      throw new Error("down");
    });
    await storeIn(outbox, invite());
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 1,
      failed: 0,
    });
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(delays, [1]);
    const { rows } = await db.query<{ wait: number }>(
      `SELECT extract(epoch FROM available_at - now())::float8 AS wait FROM ${outbox.tables.publications}`,
    );
    assert(rows[0] && rows[0].wait > 50 && rows[0].wait <= 60);
  });

  it("by default waits about a second after the first failure", async () => {
    const outbox = new PostgresOutbox(db, { tablePrefix: freshPrefix() });
    await outbox.migrate();
    outbox.register(InviteCreated, "email", () => {
      throw new Error("down");
    });
    await storeIn(outbox, invite());
    await outbox.processPending();
    const { rows } = await db.query<{ wait: number }>(
      `SELECT extract(epoch FROM available_at - now())::float8 AS wait FROM ${outbox.tables.publications}`,
    );
    assert(rows[0] && rows[0].wait >= 0.4 && rows[0].wait <= 1);
  });

  it("fails at once, saying why, when retryDelayMs returns a bad delay or throws", async () => {
    const bad = [-1, NaN, Infinity, "5"];
    let call = 0;
    const outbox = await fresh({
      maxAttempts: 10,
      retryDelayMs: () => {
        const delay = bad[call++];
        if (delay === undefined) throw new Error("no more delays");
        return delay as number;
      },
    });
    outbox.registerAny("audit", () => {
      throw new Error("down");
    });
    await storeIn(outbox, bad.map(() => invite()).concat(invite()));
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 5,
    });
    const errors = (await outbox.failed()).map(({ lastError }) =>
      lastError.slice(lastError.indexOf("\n(failed at once"))
    ).sort();
    assert.deepEqual(errors, [
      '\n(failed at once: retryDelayMs returned "5", expected a finite number >= 0)',
      "\n(failed at once: retryDelayMs returned -1, expected a finite number >= 0)",
      "\n(failed at once: retryDelayMs returned Infinity, expected a finite number >= 0)",
      "\n(failed at once: retryDelayMs returned NaN, expected a finite number >= 0)",
      errors[4] as string,
    ]);
    assert.match(
      errors[4] as string,
      /^\n\(failed at once: retryDelayMs threw Error: no more delays/,
    );
  });

  it("records thrown non-errors and errors without a stack as text", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    const thrown: unknown[] = [
      "a string",
      42,
      { toString: () => "custom" },
      Object.create(null),
      Object.assign(new RangeError("no stack"), { stack: undefined }),
    ];
    outbox.registerAny("audit", (event) => {
      throw thrown[(event.payload as { index: number }).index];
    });
    await storeIn(
      outbox,
      thrown.map((_, index) => createEvent("thing.happened", { index })),
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 5,
    });
    const texts = (await outbox.failed()).map((dead) => dead.lastError).sort();
    assert.deepEqual(texts, [
      "42",
      "RangeError: no stack",
      "a string",
      "a thrown value that cannot be turned into text (an object)",
      "custom",
    ]);
  });

  it("checks the listener's definition when reading back: a refused payload fails the publication", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    let runs = 0;
    outbox.register(InviteCreated, "email", () => {
      runs++;
    });
    await storeIn(outbox, createEvent("invite.created", { email: 42 }));
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 1,
    });
    assert.equal(runs, 0);
    const [dead] = await outbox.failed();
    assert.match(dead?.lastError ?? "", /^InvalidEventError: /);
  });

  it("calls an object listener's handle method on the object", async () => {
    const outbox = await fresh();
    const listener = {
      seen: [] as string[],
      handle(event: DomainEvent): void {
        this.seen.push(event.eventType);
      },
    };
    outbox.registerAny("audit", listener);
    await storeIn(outbox, invite());
    await outbox.processPending();
    assert.deepEqual(listener.seen, ["invite.created"]);
  });

  it("claims at most limit publications, oldest first, and only for listeners registered here", async () => {
    const outbox = await fresh();
    const seen: string[] = [];
    outbox.registerAny("audit", (event) => {
      seen.push((event.payload as { n: string }).n);
    });
    for (const n of ["1", "2", "3"]) {
      await storeIn(outbox, createEvent("thing.happened", { n }));
    }
    assert.deepEqual(await outbox.processPending({ limit: 2 }), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(seen, ["1", "2"]);
    const elsewhere = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(outbox),
    });
    elsewhere.registerAny("another-listener", () => {
      throw new Error("must not run");
    });
    assert.deepEqual(await elsewhere.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    const empty = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(outbox),
    });
    assert.deepEqual(await empty.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    await outbox.processPending();
    assert.deepEqual(seen, ["1", "2", "3"]);
  });

  it("leaves a publication alone while another relay's lease holds, and takes it over once expired", async () => {
    const outbox = await fresh();
    let runs = 0;
    outbox.registerAny("audit", () => {
      runs++;
    });
    await storeIn(outbox, invite());
    await db.query(
      `UPDATE ${outbox.tables.publications} SET locked_until = now() + interval '1 minute', lease_token = gen_random_uuid()`,
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 0,
    });
    await db.query(
      `UPDATE ${outbox.tables.publications} SET locked_until = now() - interval '1 second'`,
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.equal(runs, 1);
  });

  it("skips a publication whose lease was taken over before its share's transaction began, counting nothing", async () => {
    const first = await fresh();
    const prefix = tablePrefixOf(first);
    const second = new PostgresOutbox(db, {
      tablePrefix: prefix,
      retryDelayMs: 0,
    });
    const runs: string[] = [];
    first.register("thing.happened", "things", async (_event, { tx }) => {
      runs.push("first");
      // While the first relay works through its batch, another relay takes
      // over the email listener's share, not locked yet (as after an expired
      // lease): a new token.
      await tx.query(
        `UPDATE ${first.tables.publications} SET lease_token = gen_random_uuid(), locked_until = now() - interval '1 second' WHERE listener_id = 'email'`,
      );
    });
    first.register(InviteCreated, "email", () => {
      runs.push("never");
    });
    second.register("thing.happened", "things", () => {
      runs.push("second");
    });
    second.register(InviteCreated, "email", () => {
      runs.push("second");
    });
    await storeIn(first, [
      createEvent("thing.happened"),
      createEvent("thing.happened"),
      // Refused by InviteCreated's schema: it fails before any transaction.
      createEvent("invite.created", { email: 7 }),
    ]);
    assert.deepEqual(await first.processPending(), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(await second.processPending(), {
      completed: 0,
      retried: 1,
      failed: 0,
    });
    assert.deepEqual(runs, ["first", "first"]);
  });

  it("lets two outbox instances drain one database concurrently, each publication once", async () => {
    const prefix = freshPrefix();
    const effects = `${prefix}effects`;
    const relays = [0, 1].map(() =>
      new PostgresOutbox(db, { tablePrefix: prefix, retryDelayMs: 0 })
    );
    await Promise.all(relays.map((relay) => relay.migrate()));
    await db.query(`CREATE TABLE ${effects} (event_id uuid, listener text)`);
    for (const relay of relays) {
      for (const id of ["a", "b"]) {
        relay.registerAny(id, async (event, { tx, listenerId }) => {
          await tx.query(`INSERT INTO ${effects} VALUES ($1, $2)`, [
            event.eventId,
            listenerId,
          ]);
        });
      }
    }
    const events = Array.from({ length: 100 }, () => invite());
    await storeIn(relays[0]!, events);
    const totals = await Promise.all(relays.map(async (relay) => {
      let completed = 0;
      for (;;) {
        const result = await relay.processPending({ limit: 7 });
        if (!result.completed) return completed;
        completed += result.completed;
      }
    }));
    assert.equal(totals[0]! + totals[1]!, 200);
    const { rows } = await db.query<{ n: number; distinct_n: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (event_id, listener))::int AS distinct_n FROM ${effects}`,
    );
    assert.deepEqual(rows, [{ n: 200, distinct_n: 200 }]);
  });
});

describe("context.publish in a durable listener", () => {
  it("stores the follow-up in the listener's transaction, linked to its cause, for a later run", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    const EmailSent = defineEvent<"invite.email_sent", { to: string }>(
      "invite.email_sent",
    );
    const published: DomainEvent[] = [];
    const received: DomainEvent[] = [];
    outbox.register(InviteCreated, "email", async (event, { publish }) => {
      published.push(await publish(EmailSent, { to: event.payload.email }));
      published.push(
        await publish("invite.logged", undefined, {
          metadata: { by: "email" },
        }),
      );
    });
    outbox.register(EmailSent, "count", (event) => {
      received.push(event);
    });
    outbox.register("invite.logged", "log", (event) => {
      received.push(event);
    });
    const cause = createEvent("invite.created", { email: "ada@example.com" }, {
      correlationId: "req-9",
    });
    await storeIn(outbox, cause);
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.equal(received.length, 0);
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(
      received.toSorted((a, b) => a.eventType < b.eventType ? -1 : 1),
      published.toSorted((a, b) => a.eventType < b.eventType ? -1 : 1),
    );
    for (const event of received) {
      assert.equal(event.causationId, cause.eventId);
      assert.equal(event.correlationId, "req-9");
    }
  });

  it("stores no follow-up when the listener fails after publishing, and refuses two sources of causation", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    outbox.register(InviteCreated, "email", async (_event, { publish }) => {
      await publish("invite.email_sent", { to: "x" });
      throw new Error("after publish");
    });
    outbox.register(
      "invite.accepted",
      "bad-options",
      async (_event, context) => {
        await context.publish(
          "member.joined",
          {},
          {
            correlationId: "other",
          } as Parameters<typeof context.publish>[2],
        );
      },
    );
    await storeIn(outbox, [invite(), createEvent("invite.accepted")]);
    assert.deepEqual(await outbox.processPending(), {
      completed: 0,
      retried: 0,
      failed: 2,
    });
    assert.equal(await count(outbox.tables.events), 2);
    const errors = (await outbox.failed()).map((dead) => dead.lastError);
    assert(errors.some((text) => text.startsWith("InvalidEventError")));
  });
});

describe("context.publish options", () => {
  it("refuses options that are not an object with a TypeError, and stores no follow-up", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    const refused: unknown[] = [];
    outbox.register(InviteCreated, "publisher", async (_event, { publish }) => {
      for (const options of [5, "metadata", null, [], () => {}]) {
        try {
          // @ts-expect-error: options must be an object
          await publish("invite.logged", {}, options);
        } catch (error) {
          refused.push(error instanceof TypeError && error.message);
        }
      }
    });
    outbox.register("invite.logged", "logged", () => {});
    await storeIn(outbox, invite());
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(refused, [
      "options: expected an object, got 5",
      'options: expected an object, got "metadata"',
      "options: expected an object, got null",
      "options: expected an object, got Array",
      "options: expected an object, got a function",
    ]);
    // Only the invite: no invite.logged was stored.
    assert.equal(await count(outbox.tables.events), 1);
  });
});

describe("PostgresOutbox operations", () => {
  it("resubmit makes failed publications pending again, filtered, and they run", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    let healthy = false;
    const listener: OutboxHandler = () => {
      if (!healthy) throw new Error("poison");
    };
    outbox.registerAny("a", listener);
    outbox.registerAny("b", listener);
    const [first, second] = [invite(), invite()];
    await storeIn(outbox, [first!, second!]);
    assert.equal((await outbox.processPending()).failed, 4);
    healthy = true;
    assert.equal(await outbox.resubmit({ listenerId: "nobody" }), 0);
    const failedB = (await outbox.failed()).filter((dead) =>
      dead.listenerId === "b" && dead.event.eventId === first!.eventId
    );
    assert.equal(await outbox.resubmit({ id: failedB[0]!.id }), 1);
    assert.equal(
      await outbox.resubmit({ listenerId: "a", eventId: first!.eventId }),
      1,
    );
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.equal(await outbox.resubmit(), 2);
    assert.deepEqual(await outbox.processPending(), {
      completed: 2,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(await outbox.failed(), []);
    assert.deepEqual(await statuses(outbox), { completed: 4 });
  });

  it("purgeCompleted deletes completed publications and their events, keeping the rest", async () => {
    const outbox = await fresh({ maxAttempts: 1 });
    outbox.register(InviteCreated, "email", () => {});
    outbox.register("invite.accepted", "fails", () => {
      throw new Error("no");
    });
    await storeIn(outbox, [
      invite(),
      createEvent("invite.accepted"),
      createEvent("no.listener"),
    ]);
    await outbox.processPending();
    assert.deepEqual(
      await outbox.purgeCompleted({ olderThan: new Date(Date.now() - 60_000) }),
      {
        publications: 0,
        events: 0,
      },
    );
    assert.deepEqual(
      await outbox.purgeCompleted({ olderThan: new Date(Date.now() + 60_000) }),
      { publications: 1, events: 2 },
    );
    assert.deepEqual(await statuses(outbox), { failed: 1 });
    assert.equal(await count(outbox.tables.events), 1);
  });

  it("migrate is idempotent", async () => {
    const outbox = await fresh();
    await outbox.migrate();
    await Promise.all([outbox.migrate(), outbox.migrate()]);
  });

  it("start relays until aborted, and resolves at once when already aborted", async () => {
    const outbox = await fresh();
    const controller = new AbortController();
    let runs = 0;
    outbox.registerAny("audit", () => {
      if (++runs === 3) controller.abort();
    });
    await storeIn(outbox, [invite(), invite(), invite()]);
    await outbox.start({ signal: controller.signal, intervalMs: 10, limit: 1 });
    assert.equal(runs, 3);
    await outbox.start({ signal: controller.signal });
    const waiting = new AbortController();
    const loop = outbox.start({ signal: waiting.signal, intervalMs: 60_000 });
    setTimeout(() => waiting.abort(), 50);
    await loop;
  });

  it("start reports a failing batch to onError and goes on, or rejects without onError", async () => {
    const broken = new PostgresOutbox(db, { tablePrefix: "missing_tables_" });
    broken.registerAny("audit", () => {});
    const controller = new AbortController();
    const errors: unknown[] = [];
    await broken.start({
      signal: controller.signal,
      intervalMs: 1,
      onError(error) {
        errors.push(error);
        if (errors.length === 2) controller.abort();
      },
    });
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /missing_tables_publications/);
    await assert.rejects(
      broken.start({ signal: new AbortController().signal }),
      /missing_tables_publications/,
    );
  });
});

describe("PostgresOutbox on a pg Pool's shape", () => {
  it("runs each listener between BEGIN and COMMIT on a client it releases", async () => {
    const released: (Error | boolean | undefined)[] = [];
    const pool = poolOver(db, released);
    const outbox = await fresh({ maxAttempts: 1 }, pool);
    outbox.register(InviteCreated, "email", () => {});
    outbox.register("invite.accepted", "fails", () => {
      throw new Error("no");
    });
    await storeIn(outbox, [invite(), createEvent("invite.accepted")]);
    assert.deepEqual(await outbox.processPending(), {
      completed: 1,
      retried: 0,
      failed: 1,
    });
    // migrate's transaction, the claim's, then one per listener's share:
    // each client released without an error.
    assert.deepEqual(released, [undefined, undefined, undefined, undefined]);
  });

  it("drops the client from the pool when ROLLBACK fails", async () => {
    const released: (Error | boolean | undefined)[] = [];
    const pool = poolOver(db, released, true);
    const outbox = await fresh({ maxAttempts: 1 }, poolOver(db, []));
    const failing = new PostgresOutbox(pool, {
      tablePrefix: tablePrefixOf(outbox),
      maxAttempts: 1,
    });
    failing.registerAny("audit", () => {
      throw new Error("listener failed");
    });
    await storeIn(failing, invite());
    // The fake client's ROLLBACK fails without rolling back: end it here.
    const result = await failing.processPending().finally(() =>
      db.query("ROLLBACK")
    );
    assert.deepEqual(result, { completed: 0, retried: 0, failed: 1 });
    // The claim's client comes back whole; the one whose ROLLBACK failed is
    // dropped.
    assert.equal(released.length, 2);
    assert.equal(released[0], undefined);
    assert.match(String(released[1]), /connection lost/);
  });
});

describe("bad input", () => {
  it("the constructor refuses what is not a database, bad prefixes and bad options", () => {
    const refused: [unknown, unknown, RegExp][] = [
      [{}, {}, /^db: expected a pg Pool or a PGlite instance/],
      [{ query() {} }, {}, /^db: expected a pg Pool/],
      [null, {}, /^db: /],
      [
        db,
        { tablePrefix: "x; DROP TABLE users; --" },
        /^tablePrefix: .* got "x; DROP TABLE users; --"/,
      ],
      [db, { tablePrefix: "Outbox" }, /^tablePrefix: /],
      [db, { tablePrefix: "1x" }, /^tablePrefix: /],
      [db, { tablePrefix: "" }, /^tablePrefix: /],
      [db, { tablePrefix: "a".repeat(41) }, /^tablePrefix: .*got "a{40}"…$/],
      [db, { tablePrefix: 7 }, /^tablePrefix: .*got 7$/],
      [
        db,
        { maxAttempts: 0 },
        /^maxAttempts: expected an integer from 1 to 2147483647, got 0/,
      ],
      [db, { maxAttempts: 1.5 }, /^maxAttempts: /],
      [db, { leaseMs: "1000" }, /^leaseMs: .*got "1000"/],
      [db, { leaseMs: true }, /^leaseMs: .*got true/],
      [db, { retryDelayMs: -1 }, /^retryDelayMs: .*got -1/],
      [db, { retryDelayMs: NaN }, /^retryDelayMs: .*got NaN/],
      [db, { retryDelayMs: null }, /^retryDelayMs: .*got null/],
      [
        db,
        { preparedStatements: "false" },
        /^preparedStatements: expected true or false, got "false"/,
      ],
      [db, { preparedStatements: 0 }, /^preparedStatements: .*got 0$/],
      [db, { preparedStatements: null }, /^preparedStatements: .*got null$/],
      [db, { maxAttemps: 3 }, /^PostgresOutbox: unknown option "maxAttemps"/],
      [db, null, /^PostgresOutbox: expected an options object, got null/],
    ];
    for (const [database, options, message] of refused) {
      assert.throws(
        () =>
          new PostgresOutbox(
            database as PGlite,
            options as PostgresOutboxOptions,
          ),
        (error: unknown) =>
          error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
  });

  it("register and registerAny refuse bad ids, duplicates, bad types and handlers", () => {
    const outbox = new PostgresOutbox(db);
    outbox.register(InviteCreated, "email", () => {});
    const long = "x".repeat(129);
    const refused: [() => void, RegExp][] = [
      [
        () => outbox.register(InviteCreated, "email", () => {}),
        /^id: expected an id no other durable listener has, got "email"$/,
      ],
      [
        () => outbox.registerAny("email", () => {}),
        /no other durable listener has/,
      ],
      [
        () => outbox.registerAny("", () => {}),
        /^id: expected a listener id of 1 to 128 characters, without NUL or lone surrogates, got ""/,
      ],
      [
        () => outbox.registerAny(long, () => {}),
        /^id: expected a listener id of 1 to 128 characters, without NUL or lone surrogates, got "x{40}"…$/,
      ],
      [
        () => outbox.registerAny(5 as unknown as string, () => {}),
        /^id: .*got 5/,
      ],
      [
        () => outbox.registerAny("x", {} as OutboxHandler),
        /^handler: expected a function or an object with a handle method, got an object/,
      ],
      [
        () => outbox.registerAny("x", undefined as unknown as OutboxHandler),
        /^handler: .*got undefined/,
      ],
      [
        () => outbox.register("", "y", () => {}),
        /^register: expected an event definition or type .*got ""/,
      ],
      [
        () => outbox.register([] as unknown as string, "y", () => {}),
        /^register: .*got Array$/,
      ],
      [
        () => outbox.register({ type: 1 } as unknown as string, "y", () => {}),
        /^register: .*got an object/,
      ],
    ];
    for (const [call, message] of refused) {
      assert.throws(
        call,
        (error: unknown) =>
          error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
    outbox.registerAny("x".repeat(128), () => {});
  });

  it("the other methods refuse bad options with a TypeError naming them", async () => {
    const outbox = new PostgresOutbox(db);
    outbox.registerAny("audit", () => {});
    const refused: [() => Promise<unknown>, RegExp][] = [
      [
        () => outbox.processPending({ limit: 0 }),
        /^limit: expected an integer from 1 to 10000, got 0/,
      ],
      [
        () => outbox.processPending({ limt: 5 } as never),
        /^processPending: unknown option "limt"/,
      ],
      [() => outbox.failed({ limit: 10_001 }), /^limit: /],
      [
        () => outbox.resubmit({ eventId: "nope" }),
        /^eventId: expected a UUID, got "nope"/,
      ],
      [
        () => outbox.resubmit({ id: "1 OR 1=1" }),
        /^id: expected a publication id \(digits\), got "1 OR 1=1"/,
      ],
      // Past PostgreSQL's bigint: no publication has it.
      [
        () => outbox.resubmit({ id: "9223372036854775808" }),
        /^id: expected a publication id/,
      ],
      [() => outbox.resubmit({ listenerId: "" }), /^listenerId: /],
      [
        () => outbox.purgeCompleted({ olderThan: new Date(NaN) }),
        /^olderThan: expected a valid Date \(not an Invalid Date\), got Date$/,
      ],
      [
        () => outbox.purgeCompleted({ olderThan: Date.now() } as never),
        /^olderThan: .*got \d+/,
      ],
      [
        () => outbox.start({} as never),
        /^signal: expected an AbortSignal, got undefined/,
      ],
      [
        () =>
          outbox.start({
            signal: new AbortController().signal,
            intervalMs: -1,
          }),
        /^intervalMs: /,
      ],
      [
        () => outbox.start({ signal: new AbortController().signal, limit: 0 }),
        /^limit: /,
      ],
      [
        () => outbox.processPending({ concurrency: 0 }),
        /^concurrency: expected an integer from 1 to 100, got 0/,
      ],
      [
        () => outbox.processPending({ concurrency: "2" } as never),
        /^concurrency: expected an integer from 1 to 100, got "2"/,
      ],
      [
        () =>
          outbox.start({
            signal: new AbortController().signal,
            concurrency: 101,
          }),
        /^concurrency: expected an integer from 1 to 100, got 101/,
      ],
      [
        () =>
          outbox.start(
            { signal: new AbortController().signal, onError: 1 } as never,
          ),
        /^onError: expected a function, got 1/,
      ],
      [
        () => outbox.start({ signal: AbortSignal.abort(), every: 1 } as never),
        /^start: unknown option "every"/,
      ],
    ];
    for (const [call, message] of refused) {
      await assert.rejects(
        call(),
        (error: unknown) =>
          error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
  });
});

describe("PostgresOutbox across a deploy that changes a payload", () => {
  it("runs listeners registered with the new definition for events stored by the old code", async () => {
    // Before the deploy: v1 code stores three invites, one listener each.
    const before = await fresh();
    before.register(InviteCreated, "send-welcome-email", () => {
      throw new Error("the old code never runs");
    });
    const stored = ["ada", "grace", "edsger"].map((name) =>
      InviteCreated.create({ email: `${name}@example.com` })
    );
    await db.transaction((tx) => before.store(tx, stored));

    // After: v2 reads v1 events; the listener keeps its id.
    const InviteCreatedV2 = defineEvent("invite.created.v2", {
      schema: (value): value is { email: string; locale: string } =>
        typeof (value as { locale?: unknown }).locale === "string",
    }).upcastFrom(InviteCreated, (payload) => ({ ...payload, locale: "en" }));
    const after = new PostgresOutbox(db, {
      tablePrefix: tablePrefixOf(before),
      retryDelayMs: 0,
    });
    const welcomed: DomainEvent[] = [];
    after.register(InviteCreatedV2, "send-welcome-email", (event) => {
      welcomed.push(event);
    });

    assert.deepEqual(await after.processPending(), {
      completed: 3,
      retried: 0,
      failed: 0,
    });
    assert.deepEqual(await statuses(after), { completed: 3 });
    assert.deepEqual(
      welcomed.map((event) => [event.eventId, event.eventType, event.payload]),
      stored.map((event) => [event.eventId, "invite.created.v2", {
        email: event.payload.email,
        locale: "en",
      }]),
    );
    assert.ok(
      welcomed.every((event) =>
        event.metadata["upcastfrom"] === "invite.created"
      ),
    );
  });
});

describe("PostgresOutbox's generateEventId", () => {
  it("gives follow-up events published by listeners ids from the generator, so they sort by time", async () => {
    const outbox = await fresh({ generateEventId: uuidv7 });
    const published: DomainEvent[] = [];
    outbox.register(
      InviteCreated,
      "send-email",
      async (_event, { publish }) => {
        published.push(await publish("invite.email_sent"));
        published.push(await publish("invite.email_sent"));
      },
    );
    await db.transaction((tx) =>
      outbox.store(tx, [InviteCreated.create({ email: "ada@example.com" })])
    );
    await outbox.processPending();
    const ids = published.map((event) => event.eventId);
    assert.equal(ids.length, 2);
    for (const id of ids) assert.equal(id.charAt(14), "7", id);
    assert.ok(ids[0]! < ids[1]!);
    assert.throws(
      () => new PostgresOutbox(db, { generateEventId: "uuidv7" as never }),
      { name: "TypeError", message: /generateEventId: expected a function/ },
    );
  });
});

describe("PostgresOutbox: edges", () => {
  it("start resolves once the batch is done when a listener aborts, not after intervalMs", async () => {
    const outbox = await fresh();
    const controller = new AbortController();
    outbox.register(InviteCreated, "stop-the-relay", () => controller.abort());
    await db.transaction((tx) =>
      outbox.store(tx, [InviteCreated.create({ email: "ada@example.com" })])
    );
    const started = Date.now();
    await outbox.start({ signal: controller.signal, intervalMs: 60_000 });
    assert.ok(Date.now() - started < 30_000, `${Date.now() - started} ms`);
  });

  it("refuses a sparse list of events at the hole, before writing anything", async () => {
    const outbox = await fresh();
    outbox.registerAny("audit", () => {});
    const sparse = [InviteCreated.create({ email: "a@b.c" })];
    sparse[2] = InviteCreated.create({ email: "d@e.f" });
    await assert.rejects(
      db.transaction((tx) => outbox.store(tx, sparse)),
      (error) => {
        assert.ok(error instanceof InvalidEventError, String(error));
        assert.equal(error.issues[0]?.path, "events[1]");
        return true;
      },
    );
    assert.deepEqual(await statuses(outbox), {});
  });

  it("does not give follow-ups the ambient context of whoever runs the relay", async () => {
    const outbox = await fresh();
    const published: DomainEvent[] = [];
    outbox.register(
      InviteCreated,
      "send-email",
      async (_event, { publish }) => {
        published.push(await publish("invite.email_sent"));
      },
    );
    const stored = InviteCreated.create({ email: "a@b.c" }, {
      metadata: { tenant: "globex" },
    });
    await db.transaction((tx) => outbox.store(tx, [stored]));
    await withEventContext(
      { correlationId: "relay-run", metadata: { tenant: "acme" } },
      () => outbox.processPending(),
    );
    assert.equal(published.length, 1);
    assert.deepEqual(published[0]?.metadata, {});
    assert.equal(published[0]?.correlationId, stored.eventId);
  });

  it("PostgresInbox refuses an unknown option", () => {
    assert.throws(
      () => new PostgresInbox(db, { tablePrefx: "x_" } as never),
      { name: "TypeError", message: /unknown option "tablePrefx"/ },
    );
  });
});
