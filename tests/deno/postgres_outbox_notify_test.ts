// Wake-up on commit, on PGlite: store's NOTIFY ends a relay's pause, polling
// still delivers what no notification announced, and a pg Pool's listening
// client is watched and replaced when lost. The same on a real server:
// tests/postgres/outbox_notify.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PGlite } from "@electric-sql/pglite";
import { createEvent } from "../../mod.ts";
import {
  type PgPoolClientLike,
  type PgPoolLike,
  PostgresOutbox,
} from "../../postgres.ts";
import { outboxFixture, tablePrefixOf, until } from "./_outbox_fixture.ts";

const { db, freshPrefix, fresh } = outboxFixture();

async function listening(channel: string): Promise<boolean> {
  const { rows } = await db.query<{ channel: string }>(
    "SELECT pg_listening_channels() AS channel",
  );
  return rows.some((row) => row.channel === channel);
}

/**
 * Stores one event for a new listener of `outbox`, runs `start` polling
 * every 5 ms until the listener ran once, and stops it.
 */
async function deliversByPolling(outbox: PostgresOutbox): Promise<void> {
  let runs = 0;
  outbox.registerAny("audit", () => void runs++);
  await db.transaction((tx) => outbox.store(tx, createEvent("polled")));
  const stop = new AbortController();
  const polling = outbox.start({ signal: stop.signal, intervalMs: 5 });
  await until(() => runs === 1, "the polled event");
  stop.abort();
  await polling;
}

describe("start wakes on commit", () => {
  it("runs a listener stored after the relay went to sleep for a minute: the NOTIFY woke it", async () => {
    const outbox = await fresh();
    const ran: string[] = [];
    outbox.registerAny("audit", (event) => void ran.push(event.eventType));
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
    });
    await until(() => listening(outbox.tables.publications), "LISTEN");
    await db.transaction((tx) => outbox.store(tx, createEvent("first")));
    await until(() => ran.length === 1, "the first event");
    await db.transaction((tx) => outbox.store(tx, createEvent("second")));
    await until(() => ran.length === 2, "the second event");
    controller.abort();
    await loop;
    assert.deepEqual(ran, ["first", "second"]);
    assert.equal(await listening(outbox.tables.publications), false);
  });

  it("sends no notification when the transaction rolls back", async () => {
    const outbox = await fresh();
    const heard: string[] = [];
    const stop = await db.listen(outbox.tables.publications, (payload) => {
      heard.push(payload);
    });
    outbox.registerAny("audit", () => {});
    await db.transaction(async (tx) => {
      await outbox.store(tx, createEvent("kept"));
      await tx.rollback();
    });
    await db.transaction((tx) => outbox.store(tx, createEvent("stored")));
    await stop();
    assert.deepEqual(heard, [""]);
  });

  it("still delivers by polling when the notification is lost, and runs due retries", async () => {
    const outbox = await fresh();
    let runs = 0;
    outbox.registerAny("flaky", () => {
      if (++runs === 1) throw new Error("first run fails");
    });
    const controller = new AbortController();
    const loop = outbox.start({ signal: controller.signal, intervalMs: 20 });
    await until(() => listening(outbox.tables.publications), "LISTEN");
    // The session stops listening behind the relay's back: no notification
    // reaches it any more.
    await db.query("UNLISTEN *");
    await db.transaction((tx) => outbox.store(tx, createEvent("unannounced")));
    await until(() => runs === 2, "the retry, by polling");
    controller.abort();
    await loop;
    const { rows } = await db.query<{ status: string }>(
      `SELECT status FROM ${outbox.tables.publications}`,
    );
    assert.deepEqual(rows, [{ status: "completed" }]);
  });

  it("runs each publication once when 4 relays are woken by one NOTIFY", async () => {
    const prefix = freshPrefix();
    const relays = await Promise.all(
      [1, 2, 3, 4].map(() => fresh({ tablePrefix: prefix })),
    );
    await db.query(`CREATE TABLE ${prefix}effects (event_id uuid)`);
    for (const relay of relays) {
      relay.registerAny("audit", async (event, { tx }) => {
        await tx.query(`INSERT INTO ${prefix}effects VALUES ($1)`, [
          event.eventId,
        ]);
      });
    }
    const controller = new AbortController();
    const loops = relays.map((relay) =>
      relay.start({ signal: controller.signal, intervalMs: 60_000, limit: 7 })
    );
    await until(() => listening(`${prefix}publications`), "LISTEN");
    const events = Array.from(
      { length: 50 },
      (_, n) => createEvent("e", { n }),
    );
    await db.transaction((tx) => relays[0]!.store(tx, events));
    const effects = async () =>
      (await db.query<{ n: number; d: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM ${prefix}effects`,
      )).rows[0]!;
    await until(async () => (await effects()).n >= 50, "50 effects");
    controller.abort();
    await Promise.all(loops);
    assert.deepEqual(await effects(), { n: 50, d: 50 });
  });

  it("polls a PGlite-shaped database without listen, and reports a listen that fails", async () => {
    const shaped = {
      query: db.query.bind(db),
      transaction: db.transaction.bind(db),
    };
    const polled = await fresh({}, shaped as unknown as PGlite);
    await deliversByPolling(polled);

    const refusing = new PostgresOutbox(
      {
        ...shaped,
        listen: () => Promise.reject(new Error("no LISTEN here")),
      } as unknown as PGlite,
      { tablePrefix: tablePrefixOf(polled) },
    );
    refusing.registerAny("audit", () => {});
    const errors: unknown[] = [];
    const stopped = new AbortController();
    const refused = refusing.start({
      signal: stopped.signal,
      intervalMs: 5,
      onError: (error) => errors.push(error),
    });
    await until(() => errors.length === 1, "the reported error");
    stopped.abort();
    await refused;
    assert.match(String(errors[0]), /no LISTEN here/);

    // An onError that throws on a listening problem ends start with that
    // error, as it does on a failed batch, instead of rejecting a promise
    // nobody awaits (an unhandled rejection ends the process).
    const again = new AbortController();
    const thrown = refusing.start({
      signal: again.signal,
      intervalMs: 60_000,
      onError: (error) => {
        throw new Error("onError failed", { cause: error });
      },
    });
    await assert.rejects(thrown, /onError failed/);
    again.abort();
  });
});

/** A pg client's events over PGlite: LISTEN runs PGlite's listen, `lose` breaks it. */
interface FakeClient extends PgPoolClientLike {
  lose(error?: Error): void;
}

/**
 * A `pg` Pool's shape over PGlite whose clients emit "notification", "error"
 * and "end" as pg's do. `script` makes connect, LISTEN or UNLISTEN fail.
 */
function listeningPool(script: {
  failConnects?: number;
  refusalMs?: number;
  failListen?: number;
  failUnlisten?: boolean;
  hangUnlisten?: boolean;
  noEvents?: boolean;
  connectMs?: number;
}) {
  /** The clients LISTEN ran on, in order. */
  const clients: FakeClient[] = [];
  const released: unknown[] = [];
  const pool: PgPoolLike = {
    query: (text, params) => db.query(text, params),
    connect() {
      if ((script.failConnects ?? 0) > 0) {
        script.failConnects!--;
        return new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error("connection refused")),
            script.refusalMs ?? 0,
          )
        );
      }
      const handlers = new Map<string, Set<(value: unknown) => void>>();
      const emit = (name: string, value?: unknown) => {
        for (const handler of handlers.get(name) ?? []) handler(value);
      };
      let stop: (() => Promise<void>) | undefined;
      const client: FakeClient = {
        async query(text: string, params?: unknown[]) {
          const [verb, channel] = text.split(" ") as [string, string];
          if (verb === "LISTEN") {
            clients.push(client);
            if ((script.failListen ?? 0) > 0) {
              script.failListen!--;
              throw new Error("LISTEN refused");
            }
            stop = await db.listen(channel, (payload) => {
              emit("notification", { channel, payload });
            });
            emit("notification", { channel: "elsewhere", payload: "" });
            return { rows: [] };
          }
          if (verb === "UNLISTEN") {
            await stop?.();
            if (script.failUnlisten) throw new Error("UNLISTEN failed");
            // A socket cut without a reset: no answer until TCP gives up.
            if (script.hangUnlisten) return await new Promise(() => {});
            return { rows: [] };
          }
          return await db.query(text, params);
        },
        release: (error?: Error | boolean) => void released.push(error),
        lose(error?: Error) {
          void stop?.();
          if (error) emit("error", error);
          emit("end");
        },
      };
      if (!script.noEvents) {
        Object.assign(client, {
          on(name: string, handler: (value: unknown) => void) {
            if (!handlers.has(name)) handlers.set(name, new Set());
            handlers.get(name)!.add(handler);
          },
          off(name: string, handler: (value: unknown) => void) {
            handlers.get(name)?.delete(handler);
          },
        });
      }
      return new Promise((resolve) =>
        setTimeout(() => resolve(client), script.connectMs ?? 0)
      );
    },
  };
  return { pool, clients, released, script };
}

describe("start on a pg Pool's shape", () => {
  it("listens on a client of its own, and reconnects after losing it, polling meanwhile", async () => {
    const { pool, clients, released } = listeningPool({ failListen: 1 });
    const outbox = await fresh({}, pool);
    const ran: string[] = [];
    outbox.registerAny("audit", (event) => void ran.push(event.eventType));
    const errors: unknown[] = [];
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    // The first LISTEN is refused: reported, the client dropped, a new one.
    await until(() => clients.length === 2, "a second client");
    await until(() => listening(outbox.tables.publications), "LISTEN");
    assert.match(String((errors[0] as Error).cause), /LISTEN refused/);
    await db.transaction((tx) => outbox.store(tx, createEvent("woken")));
    await until(() => ran.length === 1, "the woken event");

    clients[1]!.lose(new Error("terminating connection"));
    await until(() => clients.length === 3, "a third client");
    await until(() => listening(outbox.tables.publications), "LISTEN again");
    await db.transaction((tx) => outbox.store(tx, createEvent("reconnected")));
    await until(() => ran.length === 2, "the event after reconnecting");
    clients[2]!.lose();
    await until(() => clients.length === 4, "a fourth client");
    controller.abort();
    await loop;
    assert.deepEqual(ran, ["woken", "reconnected"]);
    assert.match(
      String(errors[1]),
      /lost the connection listening on t\d+_publications; polling until it is back/,
    );
    assert.match(String((errors[1] as Error).cause), /terminating connection/);
    assert.match(
      String((errors[2] as Error).cause),
      /listening connection ended/,
    );
    // Dropped: the client LISTEN failed on, the broken one, the ended one.
    assert.equal(released.filter((error) => error !== undefined).length, 3);
    assert.equal(await listening(outbox.tables.publications), false);
  });

  it("retries a refused connect, drops the client when UNLISTEN fails, and polls a client without events", async () => {
    const refused = listeningPool({ failUnlisten: true });
    const outbox = await fresh({}, refused.pool);
    refused.script.failConnects = 1;
    outbox.registerAny("audit", () => {});
    const errors: unknown[] = [];
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    await until(() => listening(outbox.tables.publications), "LISTEN");
    controller.abort();
    await loop;
    assert.match(String(errors[0]), /connection refused/);
    assert.match(String(refused.released.at(-1)), /UNLISTEN failed/);

    const plain = listeningPool({ noEvents: true });
    const polled = await fresh({}, plain.pool);
    await deliversByPolling(polled);
    assert.equal(plain.clients.length, 0);
    assert.ok(plain.released.every((error) => error === undefined));
  });

  it("stops within a second when UNLISTEN gets no answer, dropping the client", async () => {
    const dead = listeningPool({ hangUnlisten: true });
    const outbox = await fresh({}, dead.pool);
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
    });
    await until(() => listening(outbox.tables.publications), "LISTEN");
    const stopping = Date.now();
    controller.abort();
    await loop;
    assert.ok(Date.now() - stopping < 5_000, "start resolved");
    assert.match(String(dead.released.at(-1)), /UNLISTEN .* no answer/);
  });

  it("stops at once when the relay stops while a connect is pending", async () => {
    const slow = listeningPool({});
    const outbox = await fresh({}, slow.pool);
    slow.script.failConnects = 1;
    slow.script.refusalMs = 50;
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
    });
    controller.abort();
    await loop;
    assert.equal(slow.clients.length, 0);
    // A connect that succeeds after the relay stopped (an exhausted pool
    // handing a client over later): stopping did not wait for it, and the
    // client goes back to the pool unused once it comes.
    slow.script.connectMs = 50;
    const released = slow.released.length;
    const late = new AbortController();
    const stopping = outbox.start({ signal: late.signal, intervalMs: 60_000 });
    late.abort();
    await stopping;
    await until(() => slow.released.length === released + 1, "the late client");
    assert.equal(slow.released.at(-1), undefined);
    assert.equal(slow.clients.length, 0);
    assert.equal(await listening(outbox.tables.publications), false);
  });

  it("keeps the reconnect pause growing while each connection drops right after LISTEN", async () => {
    // Before, the pause went back to 250 ms after every LISTEN: a proxy
    // dropping each connection at once had the relay reconnect 4 times a
    // second. The gaps only have lower bounds here (a slow machine widens
    // them); the real-server suite counts connections over 4 s.
    const { pool, clients } = listeningPool({});
    const outbox = await fresh({}, pool);
    const controller = new AbortController();
    const loop = outbox.start({
      signal: controller.signal,
      intervalMs: 60_000,
      onError: () => {},
    });
    const listenedAt: number[] = [];
    for (let n = 1; n <= 3; n++) {
      await until(() => clients.length === n, `client ${n}`);
      await until(() => listening(outbox.tables.publications), "LISTEN");
      listenedAt.push(Date.now());
      if (n < 3) clients[n - 1]!.lose(new Error("terminating connection"));
    }
    assert.ok(listenedAt[1]! - listenedAt[0]! >= 240, `${listenedAt}`);
    assert.ok(listenedAt[2]! - listenedAt[1]! >= 490, `${listenedAt}`);
    // Up longer than the pause (1 s by now): stopping passes the reset.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    controller.abort();
    await loop;
  });

  it("leaves no timer behind for each lost listening connection", async () => {
    // Each wait for "lost or closing" must end with the connection it was
    // for: a timer (and an abort listener) left per reconnect grows for as
    // long as the relay runs on a flaky network.
    const FOREVER = 2 ** 31 - 1;
    const pending = new Set<unknown>();
    const { setTimeout: set, clearTimeout: clear } = globalThis;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const timer = set(() => {
        pending.delete(timer);
        fn();
      }, ms);
      if (ms === FOREVER) pending.add(timer);
      return timer;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((timer?: number) => {
      pending.delete(timer);
      clear(timer);
    }) as typeof clearTimeout;
    try {
      const { pool, clients } = listeningPool({});
      const outbox = await fresh({}, pool);
      outbox.registerAny("audit", () => {});
      const controller = new AbortController();
      const loop = outbox.start({
        signal: controller.signal,
        intervalMs: 60_000,
        onError: () => {},
      });
      for (let n = 1; n <= 3; n++) {
        await until(() => clients.length === n, `client ${n}`);
        await until(() => listening(outbox.tables.publications), "LISTEN");
        clients[n - 1]!.lose(new Error("terminating connection"));
      }
      await until(() => clients.length === 4, "client 4");
      assert.ok(pending.size <= 1, `${pending.size} timers left waiting`);
      controller.abort();
      await loop;
      assert.equal(pending.size, 0);
    } finally {
      globalThis.setTimeout = set;
      globalThis.clearTimeout = clear;
    }
  });

  it("without onError, keeps polling through a lost listening connection", async () => {
    const { pool, clients } = listeningPool({ failListen: 1 });
    const outbox = await fresh({}, pool);
    let runs = 0;
    outbox.registerAny("audit", () => void runs++);
    const controller = new AbortController();
    const loop = outbox.start({ signal: controller.signal, intervalMs: 5 });
    await until(() => clients.length === 2, "a second client");
    await db.transaction((tx) => outbox.store(tx, createEvent("polled")));
    await until(() => runs === 1, "the event");
    controller.abort();
    await loop;
  });
});
