// `deno task test:integration`: the outbox, the ./nats relay and consumer,
// and the inbox, as separate processes on a real 3-node JetStream cluster
// (stream and consumer with 3 replicas) and a real PostgreSQL, all started
// here on loopback, faults injected from outside. Proves that
//  1. a relay killed after publishing, before marking its publication
//     completed, publishes again and the stream still holds the event once;
//  2. a consumer killed before acking gets the event again and its effect
//     happens once;
//  3. 10,000 events stored by a producer process go through 2 relay and 2
//     consumer processes to their effects while: a cluster node is
//     SIGKILLed and restarted; a relay and a consumer are SIGKILLed at
//     random moments and restarted; PostgreSQL is restarted (-m immediate);
//     the whole cluster is SIGKILLed, down for 60 s, and restarted on the
//     same store directories; a relay and a consumer get SIGTERM during that
//     outage and must exit with code 0.
// The counts come from ledgers outside the inbox's (consumer, event_id) key
// (tests/integration/_setup.ts): `produced` (the events stored), `effects`
// (one row per committed effect, own serial id) and `deliveries`. So a lost
// event is a produced id with no effect row (L > 0), a duplicated effect a
// second effect row for one id (D > 0), and a dead letter a failed outbox
// publication (F > 0); any of them, an outage shorter than 60 s, or a check
// below that fails makes the task exit 1. Ends with
// `integration: N events end to end, L lost, D duplicated, F dead letters, broker down S s`.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { ensureConsumer, ensureStream } from "../../nats.ts";
import { PostgresInbox, PostgresOutbox } from "../../postgres.ts";
import { type NatsCluster, startNatsCluster } from "../_servers/nats.ts";
import { type PostgresServer, startPostgres } from "../_servers/postgres.ts";
import {
  ACK_WAIT_MS,
  connectNats,
  CONSUMER,
  createLedgers,
  InviteCreated,
  pool,
  RELAY_LISTENER,
  retry,
  STREAM_NAME,
} from "./_setup.ts";

const EVENTS = Number(Deno.env.get("INTEGRATION_EVENTS") ?? 10_000);
const OUTAGE_MS = 60_000;
const LEASE_MS = 5_000;
let failures = 0;

function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

function log(what: string): void {
  console.log(`---- ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await condition().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const children = new Set<Deno.ChildProcess>();
function spawn(script: string, env: Record<string, string>): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, import.meta.url).pathname],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  children.add(child);
  child.status.then(() => children.delete(child));
  return child;
}

async function terminate(
  child: Deno.ChildProcess,
): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGTERM");
  } catch {
    // ended already: its status says how
  }
  return await child.status;
}

async function kill(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // ended already
  }
  await child.status;
}

async function count(
  db: pg.Pool,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  return Number((await db.query(sql, params)).rows[0].count);
}

let cluster: NatsCluster | undefined;
let postgres: PostgresServer | undefined;
let client: NatsConnection | undefined;
let db: pg.Pool | undefined;
try {
  cluster = await startNatsCluster(3);
  postgres = await startPostgres();
  db = pool(postgres.url);
  const env = {
    NATS_URLS: cluster.urls.join(","),
    DATABASE_URL: postgres.url,
    LEASE_MS: String(LEASE_MS),
  };
  client = await connectNats(env.NATS_URLS);
  const jsm = await jetstreamManager(client);
  // The meta leader is elected a moment after the nodes listen.
  await retry("ensureStream", () =>
    ensureStream(jsm, {
      stream: STREAM_NAME,
      replicas: 3,
      duplicateWindowMs: 3_600_000,
    }));
  await retry("ensureConsumer", () =>
    ensureConsumer(jsm, {
      name: CONSUMER,
      stream: STREAM_NAME,
      ackWaitMs: ACK_WAIT_MS,
    }));
  const info = await jsm.streams.info(STREAM_NAME);
  check(
    info.config.num_replicas === 3 && info.cluster?.replicas?.length === 2,
    `stream ${STREAM_NAME} has 3 replicas on 3 nodes (leader ${info.cluster?.leader})`,
  );
  await createLedgers(db);
  await new PostgresInbox(db).migrate();
  const outbox = new PostgresOutbox(db);
  outbox.registerAny(RELAY_LISTENER, () => {
    throw new Error("the harness never relays");
  });
  await outbox.migrate();
  const streamMessages = async () =>
    (await jsm.streams.info(STREAM_NAME)).state.messages;
  const completed = () =>
    count(
      db!,
      "SELECT count(*) FROM outbox_publications WHERE status = 'completed'",
    );

  // 1. A relay dies after publishing, before completing.
  log("1. a relay SIGKILLed after its publish, before completing");
  const first = InviteCreated.create({ email: "ada@example.com" });
  const tx = await db.connect();
  await tx.query("BEGIN");
  await outbox.store(tx, [first]);
  await tx.query("COMMIT");
  tx.release();
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
    60_000,
  );
  check((await terminate(relay)).code === 0, "the relay exits 0 on SIGTERM");
  check(
    await streamMessages() === 1,
    "after the second relay published it again, the stream holds the event once",
  );

  // 2. A consumer dies before acking, its effect committed.
  log("2. a consumer SIGKILLed before its ack, its effect committed");
  const killed = await spawn("./_consumer_process.ts", {
    ...env,
    CRASH_BEFORE_ACK: "1",
  }).status;
  check(
    killed.signal === "SIGKILL",
    "the consumer was killed before its first ack",
  );
  const effectsOf = (eventId: string) =>
    count(db!, "SELECT count(*) FROM effects WHERE event_id = $1", [eventId]);
  const deliveriesOf = (eventId: string) =>
    count(db!, "SELECT count(*) FROM deliveries WHERE event_id = $1", [
      eventId,
    ]);
  check(await effectsOf(first.eventId) === 1, "its effect committed");
  const consumer = spawn("./_consumer_process.ts", env);
  await until(
    "the redelivery",
    async () =>
      (await jsm.consumers.info(STREAM_NAME, CONSUMER)).num_ack_pending ===
        0 && await deliveriesOf(first.eventId) >= 2,
    ACK_WAIT_MS * 10,
  );
  check(
    (await terminate(consumer)).code === 0,
    "the consumer exits 0 on SIGTERM",
  );
  check(
    await deliveriesOf(first.eventId) === 2,
    "the event was delivered again",
  );
  check(await effectsOf(first.eventId) === 1, "its effect happened once");

  // 3. 10,000 events end to end, with faults.
  log(`3. ${EVENTS} events, 2 relays, 2 consumers, faults from outside`);
  const started = performance.now();
  const producer = spawn("./_producer_process.ts", {
    ...env,
    EVENTS: String(EVENTS),
    BATCH: "100",
    PAUSE_MS: "150",
  });
  const relays = [
    spawn("./_relay_process.ts", env),
    spawn("./_relay_process.ts", env),
  ];
  const consumers = [
    spawn("./_consumer_process.ts", env),
    spawn("./_consumer_process.ts", env),
  ];
  const effects = () =>
    count(
      db!,
      "SELECT count(DISTINCT e.event_id) FROM effects e JOIN produced p USING (event_id)",
    );
  const atEffects = (n: number) =>
    until(`${n} effects`, async () => await effects() >= n, 300_000);
  const share = (fraction: number) => Math.floor(EVENTS * fraction);
  const random = (from: number, to: number) =>
    share(from + Math.random() * (to - from));

  // A relay and a consumer, SIGKILLed at random moments, started again.
  const relayKillAt = random(0.1, 0.5);
  const consumerKillAt = random(0.1, 0.5);
  const randomKills = (async () => {
    await atEffects(relayKillAt);
    await kill(relays[0]!);
    log(`relay SIGKILLed at ${await effects()} effects`);
    relays[0] = spawn("./_relay_process.ts", env);
  })().then(async () => {
    await atEffects(consumerKillAt);
    await kill(consumers[0]!);
    log(`consumer SIGKILLed at ${await effects()} effects`);
    consumers[0] = spawn("./_consumer_process.ts", env);
  });

  // One node SIGKILLed, started again after 5 s.
  await atEffects(share(0.15));
  const node = Math.floor(Math.random() * 3);
  await cluster.kill(node);
  log(`cluster node ${node + 1} SIGKILLed at ${await effects()} effects`);
  await sleep(5_000);
  await cluster.start(node);
  log(`cluster node ${node + 1} restarted at ${await effects()} effects`);

  // PostgreSQL restarted at once (every connection cut).
  await atEffects(share(0.35));
  log(`PostgreSQL restart (-m immediate) at ${await effects()} effects`);
  await postgres.restart();
  log(`PostgreSQL back at ${await effects()} effects`);

  // The whole cluster down for 60 s.
  await atEffects(share(0.6));
  await randomKills;
  const downAt = performance.now();
  await cluster.killAll();
  log(`whole cluster SIGKILLed at ${await effects()} effects`);
  await sleep(5_000);
  check(
    children.has(relays[1]!) && children.has(consumers[1]!),
    "the relay and the consumer about to get SIGTERM still run, 5 s into the outage",
  );
  const [relayStatus, consumerStatus] = await Promise.all([
    terminate(relays[1]!),
    terminate(consumers[1]!),
  ]);
  check(
    relayStatus.code === 0 && consumerStatus.code === 0,
    `a relay and a consumer given SIGTERM during the outage exit 0 (${relayStatus.code}, ${consumerStatus.code})`,
  );
  // Started again during the outage: they wait for the cluster.
  relays[1] = spawn("./_relay_process.ts", env);
  consumers[1] = spawn("./_consumer_process.ts", env);
  await sleep(Math.max(0, OUTAGE_MS - (performance.now() - downAt)));
  const lastEffectBefore = await count(
    db,
    "SELECT coalesce(max(id), 0) AS count FROM effects",
  );
  await cluster.startAll();
  const brokerDownS = Math.floor((performance.now() - downAt) / 1000);
  log(`cluster restarted after ${brokerDownS} s at ${await effects()} effects`);

  const producerStatus = await producer.status;
  check(producerStatus.code === 0, "the producer stored every event");
  const produced = await count(db, "SELECT count(*) FROM produced");
  try {
    await until(
      `${produced} effects`,
      async () =>
        await effects() >= produced &&
        await count(
            db!,
            "SELECT count(*) FROM outbox_publications WHERE status <> 'completed'",
          ) === 0,
      300_000,
    );
    // Quiet: nothing pending or unacked, so a late redelivery would be
    // counted below.
    await until(
      "the consumer to be idle",
      async () => {
        const { num_pending, num_ack_pending } = await jsm.consumers.info(
          STREAM_NAME,
          CONSUMER,
        );
        return num_pending === 0 && num_ack_pending === 0;
      },
      120_000,
    );
    await sleep(ACK_WAIT_MS + 1_000);
  } catch (error) {
    console.log(String(error));
  }
  const seconds = (performance.now() - started) / 1000;
  const survivor = consumers[0]!.pid;
  const resumed = await count(
    db,
    "SELECT count(*) FROM effects WHERE pid = $1 AND id > $2",
    [survivor, lastEffectBefore],
  );
  check(
    resumed > 0,
    `the consumer that ran through the outage (pid ${survivor}) resumed by itself: ${resumed} effects after it`,
  );
  const statuses = await Promise.all([...relays, ...consumers].map(terminate));
  check(
    statuses.every((status) => status.code === 0),
    `relays and consumers exit 0 on SIGTERM (${
      statuses.map((s) => s.code ?? s.signal).join(", ")
    })`,
  );

  const lost = await count(
    db,
    "SELECT count(*) FROM produced p WHERE NOT EXISTS (SELECT 1 FROM effects e WHERE e.event_id = p.event_id)",
  );
  const duplicated = await count(
    db,
    "SELECT count(*) FROM effects e JOIN produced p USING (event_id)",
  ) - (produced - lost);
  const deadLetters = await count(
    db,
    "SELECT count(*) FROM outbox_publications WHERE status = 'failed'",
  );
  const deliveries = await count(
    db,
    "SELECT count(*) FROM deliveries d JOIN produced p USING (event_id)",
  );
  const attempts = await count(
    db,
    "SELECT coalesce(max(attempts), 0) AS count FROM outbox_publications",
  );
  log(
    `the most attempts one publication took: ${attempts} (failed runs during the outages)`,
  );
  const inStream = await streamMessages();
  check(produced === EVENTS, `the producer stored ${produced} events`);
  check(
    inStream === EVENTS + 1,
    `the stream holds each event once (${inStream} messages for ${
      EVENTS + 1
    } events)`,
  );
  check(
    deliveries >= produced - lost,
    `${deliveries} deliveries for ${produced} events (redeliveries included)`,
  );
  check(
    lost === 0 && duplicated === 0 && deadLetters === 0,
    `${EVENTS} events in ${
      seconds.toFixed(1)
    } s through 2 relays and 2 consumers`,
  );
  check(brokerDownS >= 60, `the whole cluster was down ${brokerDownS} s`);
  console.log(
    `integration: ${produced} events end to end, ${lost} lost, ${duplicated} duplicated, ${deadLetters} dead letters, broker down ${brokerDownS} s`,
  );
} catch (error) {
  failures++;
  console.error(error);
} finally {
  await Promise.all([...children].map(kill));
  await client?.close().catch(() => {});
  await db?.end().catch(() => {});
  await postgres?.stop().catch((error) => console.error(error));
  await cluster?.stop().catch((error) => console.error(error));
}
if (failures) {
  console.error(`${failures} integration check(s) failed`);
  Deno.exit(1);
}
