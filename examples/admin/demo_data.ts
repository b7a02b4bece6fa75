// Demo data for the operator's page (`deno task demo:admin`, and the browser
// test in tests/admin/): an outbox on PGlite with completed, pending and
// failed publications, one correlation with a follow-up, and an event and an
// error holding `<script>` (the page must show them as text).
import type { PGlite } from "@electric-sql/pglite";
import { defineEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";

const OrderPlaced = defineEvent<
  "order.placed",
  { orderId: string; note: string }
>("order.placed");

/** The payload note and error text that hold a script tag. */
export const SCRIPT = "<script>document.title='pwned'</script>";

/** What the page shows for the demo data. */
export const DEMO = {
  /** Dead letters, all of "update-search-index". */
  deadLetters: 3,
  /** Completed publications of "send-confirmation". */
  confirmations: 5,
  /** Pending publications of "ship-order", which no relay runs. */
  shipments: 5,
  /** The listener whose circuit breaker is open. */
  paused: "notify-warehouse",
  /** A correlation whose tree holds order.placed and email.sent. */
  correlationId: "req-demo-1",
} as const;

/** The listeners; `relay` leaves out "ship-order", so its publications wait. */
function listeners(outbox: PostgresOutbox, relay: boolean): PostgresOutbox {
  outbox.register(
    OrderPlaced,
    "send-confirmation",
    async (event, { publish }) => {
      await publish("email.sent", { to: `customer-${event.payload.orderId}` });
    },
  );
  outbox.register("email.sent", "count-emails", () => {});
  outbox.register(OrderPlaced, "update-search-index", (event) => {
    // Orders 2 and 3 go through; the others fail twice and end dead.
    if (["o-2", "o-3"].includes(event.payload.orderId)) return;
    throw new Error(`search cluster refused ${event.payload.note}`);
  });
  // The warehouse is down: after 2 failures its circuit breaker opens and
  // the listener pauses for 10 minutes, its publications waiting.
  outbox.register(OrderPlaced, "notify-warehouse", () => {
    throw new Error("warehouse API: 503 Service Unavailable");
  }, { circuitBreaker: { threshold: 2, pauseMs: 600_000 } });
  if (!relay) outbox.register(OrderPlaced, "ship-order", () => {});
  return outbox;
}

/**
 * Migrates an outbox on `db`, stores five orders (the fifth's note is
 * {@linkcode SCRIPT}) and relays them; returns the relay's outbox, whose
 * circuit breaker paused "notify-warehouse" ("ship-order" is registered by
 * the process that stores, not by this relay: its publications wait).
 */
export async function seedAdminDemo(db: PGlite): Promise<PostgresOutbox> {
  const options = { maxAttempts: 2, retryDelayMs: 0 };
  const writer = listeners(new PostgresOutbox(db, options), false);
  await writer.migrate();
  const orders = Array.from({ length: 5 }, (_, n) =>
    OrderPlaced.create(
      { orderId: `o-${n + 1}`, note: n === 4 ? SCRIPT : `order ${n + 1}` },
      { correlationId: `req-demo-${n + 1}` },
    ));
  await db.transaction((tx) => writer.store(tx, orders));
  const relay = listeners(new PostgresOutbox(db, options), true);
  for (let round = 0; round < 3; round++) await relay.processPending();
  return relay;
}
