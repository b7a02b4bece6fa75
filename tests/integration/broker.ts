// `deno task test:integration`: the outbox, a NATS JetStream relay, and a
// consumer with an inbox, as separate processes on a real nats-server and a
// real PostgreSQL, both started here on loopback. Proves that
//  1. a relay killed after publishing, before marking its publication
//     completed, publishes again and the stream still holds the event once;
//  2. a consumer killed before acking gets the event again and its effect
//     happens once;
//  3. 10,000 events go end to end, counting the lost and the duplicated.
// Ends with `integration: N events end to end, L lost, D duplicated`; exits
// non-zero when any check fails.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import type { DomainEvent } from "../../mod.ts";
import { PostgresInbox, PostgresOutbox } from "../../postgres.ts";
import { startNats } from "../_servers/nats.ts";
import { startPostgres } from "../_servers/postgres.ts";
import {
  ACK_WAIT_MS,
  CONSUMER,
  createConsumerTables,
  createStream,
  InviteCreated,
  OrderPlaced,
  STREAM_NAME,
} from "./_setup.ts";

const EVENTS = Number(Deno.env.get("INTEGRATION_EVENTS") ?? 10_000);
const LEASE_MS = 1_000;
let failures = 0;

function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

async function until(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function spawn(script: string, env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, import.meta.url).pathname],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

async function stopAll(children: Deno.ChildProcess[]): Promise<void> {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already ended: its status says how.
    }
  }
  await Promise.all(children.map((child) => child.status));
}

async function count(
  db: pg.Pool,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  return Number((await db.query(sql, params)).rows[0].count);
}

const nats = await startNats();
const postgres = await startPostgres();
let client: NatsConnection | undefined;
const db = new pg.Pool({ connectionString: postgres.url, max: 4 });
try {
  const env = {
    NATS_URL: nats.url,
    DATABASE_URL: postgres.url,
    LEASE_MS: String(LEASE_MS),
  };
  client = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(client);
  await createStream(jsm);
  await createConsumerTables(db);
  await new PostgresInbox(db).migrate();
  // The producer stores events with one publication for the relay's listener
  // id; only relay processes run that listener.
  const outbox = new PostgresOutbox(db);
  outbox.registerAny("nats-relay", () => {
    throw new Error("the producer never relays");
  });
  await outbox.migrate();
  const store = async (events: DomainEvent[]) => {
    const tx = await db.connect();
    try {
      await tx.query("BEGIN");
      await outbox.store(tx, events);
      await tx.query("COMMIT");
    } finally {
      tx.release();
    }
  };
  const streamMessages = async () =>
    (await jsm.streams.info(STREAM_NAME)).state.messages;
  const completed = () =>
    count(
      db,
      "SELECT count(*) FROM outbox_publications WHERE status = 'completed'",
    );

  // 1. A relay dies after publishing, before completing.
  const first = InviteCreated.create({ email: "ada@example.com" });
  await store([first]);
  const crashed = await spawn("./_relay_process.ts", {
    ...env,
    CRASH_AFTER_PUBLISH: "1",
  }).status;
  check(
    crashed.signal === "SIGKILL",
    "the relay was killed after its first publish",
  );
  check(
    await streamMessages() === 1 && await completed() === 0,
    "the event is in the stream, its publication still pending",
  );
  const relay = spawn("./_relay_process.ts", env);
  await until(
    "the publication to complete",
    async () => await completed() === 1,
    30_000,
  );
  await stopAll([relay]);
  check(
    await streamMessages() === 1,
    "after the second relay published it again, the stream holds the event once",
  );

  // 2. A consumer dies before acking, its effect committed.
  const killed = await spawn("./_consumer_process.ts", {
    ...env,
    CRASH_BEFORE_ACK: "1",
  }).status;
  check(
    killed.signal === "SIGKILL",
    "the consumer was killed before its first ack",
  );
  check(
    await count(db, "SELECT count(*) FROM effects") === 1,
    "its effect committed before the crash",
  );
  const consumer = spawn("./_consumer_process.ts", env);
  await until(
    "the redelivery",
    async () =>
      (await jsm.consumers.info(STREAM_NAME, CONSUMER)).num_ack_pending === 0 &&
      await count(db, "SELECT count(*) FROM deliveries") >= 2,
    ACK_WAIT_MS * 10,
  );
  await stopAll([consumer]);
  check(
    await count(db, "SELECT count(*) FROM deliveries WHERE event_id = $1", [
      first.eventId,
    ]) === 2,
    "the event was delivered again",
  );
  check(
    await count(db, "SELECT count(*) FROM effects WHERE event_id = $1", [
      first.eventId,
    ]) === 1,
    "its effect happened once",
  );

  // 3. Many events end to end, through two relays and two consumers.
  const events: DomainEvent[] = [];
  for (let batch = 0; batch < EVENTS; batch += 500) {
    const list = Array.from(
      { length: Math.min(500, EVENTS - batch) },
      (_, index) => OrderPlaced.create({ orderId: `o_${batch + index}` }),
    );
    await store(list);
    events.push(...list);
  }
  const started = performance.now();
  const workers = [
    spawn("./_relay_process.ts", env),
    spawn("./_relay_process.ts", env),
    spawn("./_consumer_process.ts", env),
    spawn("./_consumer_process.ts", env),
  ];
  const distinct = () =>
    count(
      db,
      "SELECT count(DISTINCT event_id) FROM effects WHERE event_id = ANY($1::uuid[])",
      [events.map((e) => e.eventId)],
    );
  try {
    await until(
      `${EVENTS} effects`,
      async () => await distinct() >= EVENTS,
      300_000,
    );
  } catch (error) {
    console.log(String(error));
  }
  const seconds = (performance.now() - started) / 1000;
  await stopAll(workers);
  const lost = EVENTS - await distinct();
  const duplicated = await count(
    db,
    "SELECT count(*) FROM effects WHERE event_id = ANY($1::uuid[])",
    [events.map((e) => e.eventId)],
  ) - (EVENTS - lost);
  check(
    await streamMessages() === EVENTS + 1,
    `the stream holds each event once (${await streamMessages()} messages)`,
  );
  check(
    lost === 0 && duplicated === 0,
    `${EVENTS} events in ${
      seconds.toFixed(1)
    } s through 2 relays and 2 consumers`,
  );
  console.log(
    `integration: ${EVENTS} events end to end, ${lost} lost, ${duplicated} duplicated`,
  );
} catch (error) {
  failures++;
  console.error(error);
} finally {
  await client?.close();
  await db.end();
  await postgres.stop();
  await nats.stop();
}
if (failures) {
  console.error(`${failures} integration check(s) failed`);
  Deno.exit(1);
}
