// The producer process of the integration suite: stores EVENTS order.placed
// events through the outbox, BATCH per transaction, one batch every PAUSE_MS,
// each event also in the `produced` ledger in the same transaction. A batch
// that fails (PostgreSQL restarted) is stored again: `store` and the ledger
// both ignore what they have already. Env: DATABASE_URL, EVENTS, BATCH,
// PAUSE_MS. Exits 0 once every event is stored.
import type { DomainEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { OrderPlaced, pool, RELAY_LISTENER, retry } from "./_setup.ts";

const events = Number(Deno.env.get("EVENTS"));
const batch = Number(Deno.env.get("BATCH") ?? 100);
const pauseMs = Number(Deno.env.get("PAUSE_MS") ?? 100);
const db = pool(Deno.env.get("DATABASE_URL")!, 2);
const outbox = new PostgresOutbox(db);
// Only relay processes run the listener; registering it here makes `store`
// create its publication.
outbox.registerAny(RELAY_LISTENER, () => {
  throw new Error("the producer never relays");
});

async function store(list: DomainEvent[]): Promise<void> {
  const tx = await db.connect();
  try {
    await tx.query("BEGIN");
    await outbox.store(tx, list);
    await tx.query(
      "INSERT INTO produced (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING",
      [list.map((event) => event.eventId)],
    );
    await tx.query("COMMIT");
    tx.release();
  } catch (error) {
    tx.release(true);
    throw error;
  }
}

for (let stored = 0; stored < events; stored += batch) {
  const list = Array.from(
    { length: Math.min(batch, events - stored) },
    (_, index) => OrderPlaced.create({ orderId: `o_${stored + index}` }),
  );
  await retry("store", () => store(list));
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
await db.end();
