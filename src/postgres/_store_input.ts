import { invalid } from "../_shared/_issues.ts";
import { isDomainEvent } from "../event/guards.ts";
import type { DomainEvent } from "../event/types.ts";
import { checkArgument } from "../_shared/_arguments.ts";
import { describeValue } from "../_shared/_messages.ts";
import { isQueryable } from "./_sql.ts";
import { storableText } from "../_shared/_text.ts";

/** PostgreSQL's earliest timestamptz (4713 BC), in ms since 1970, plus a day. */
const EARLIEST_MS = -210_866_673_600_000;

/**
 * Checks that `tx` is a transaction, not the database itself: a PGlite
 * instance (it has `transaction`) or a `pg` Pool (`connect` and
 * `totalCount`) would write outside the caller's transaction.
 *
 * @throws {TypeError} Naming the fix.
 */
export function checkTransaction(tx: unknown, db: unknown): void {
  checkArgument(
    isQueryable(tx),
    "store",
    "a transaction with a query method",
    tx,
  );
  const candidate = tx as Record<string, unknown>;
  checkArgument(
    tx !== db && typeof candidate["transaction"] !== "function",
    "store",
    "the caller's transaction, not the database itself, which would write the events outside the transaction of the state that raised them: call it inside db.transaction(async (tx) => { ...; await outbox.store(tx, events); })",
    tx,
  );
  checkArgument(
    typeof candidate["connect"] !== "function" || !("totalCount" in candidate),
    "store",
    "the caller's transaction, not a pg Pool, which would write the events outside the transaction of the state that raised them: check a client out (const client = await pool.connect()), run BEGIN, then outbox.store(client, events) and your writes, then COMMIT",
    tx,
  );
}

/** Checks that every entry is a domain event, before anything is written. */
export function checkEvents(
  events: DomainEvent | readonly DomainEvent[],
): readonly DomainEvent[] {
  const list = Array.isArray(events) ? events : [events];
  // A plain loop: forEach would skip the holes of a sparse array.
  for (let index = 0; index < list.length; index++) {
    const event: unknown = list[index];
    if (!isDomainEvent(event)) {
      const path = Array.isArray(events) ? `events[${index}]` : "events";
      throw invalid(path, "a domain event", describeValue(event));
    }
  }
  return list;
}

/** The ordering key of `event`, checked: a string of 1 to 256 characters or null. */
function orderingKeyOf(
  orderingKey: ((event: DomainEvent) => string | null) | undefined,
  event: DomainEvent,
): string | null {
  if (!orderingKey) return null;
  const key: unknown = orderingKey(event);
  checkArgument(
    key === null ||
      (typeof key === "string" && key.length >= 1 && key.length <= 256),
    "orderingKey",
    "to return a string of 1 to 256 characters or null",
    key,
  );
  return key === null ? null : storableText(key as string);
}

/**
 * The rows `store` sends. Each event's JSON travels as a string inside the
 * list, so that PostgreSQL's json operators never unescape it (they refuse
 * \u0000 and lone surrogates): the event reads back equal. The columns beside
 * it are for queries: the type made storable, the time clamped to
 * PostgreSQL's range, the ordering key (`orderingKey`'s, checked).
 */
export function eventRows(
  events: readonly DomainEvent[],
  orderingKey: ((event: DomainEvent) => string | null) | undefined,
): unknown[] {
  return events.map((event, n) => ({
    n,
    i: event.eventId,
    t: storableText(event.eventType),
    o: Math.max(Date.parse(event.occurredAt), EARLIEST_MS),
    c: event.correlationId,
    k: event.causationId,
    g: orderingKeyOf(orderingKey, event),
    b: JSON.stringify(event),
  }));
}

/**
 * One row per publication to create: each event's listeners, in order. An
 * event given twice is stored once (the events insert ignores the second),
 * so its publications are listed once too.
 */
export function publicationRows(
  events: readonly DomainEvent[],
  byType: ReadonlyMap<string, readonly { readonly id: string }[]>,
  any: readonly { readonly id: string }[],
): { n: number; i: string; l: string }[] {
  const targets: { n: number; i: string; l: string }[] = [];
  const seen = new Set<string>();
  for (const { eventId, eventType } of events) {
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    for (const { id } of [...byType.get(eventType) ?? [], ...any]) {
      targets.push({ n: targets.length, i: eventId, l: id });
    }
  }
  return targets;
}
