// A big outbox for the stats() test (outbox_stats.ts) and bench:outbox: a
// module of its own, as importing a test file from the bench registers its
// node:test suite, which then swallows the bench's errors (exit 0, no output).
import type { PostgresOutbox } from "../../postgres.ts";

/** Fills the outbox with `count` completed publications, spread over 3 listeners. */
export async function fillCompleted(
  query: (text: string) => Promise<unknown>,
  outbox: PostgresOutbox,
  count: number,
): Promise<void> {
  const { events, publications } = outbox.tables;
  await query(
    `INSERT INTO ${events} (event_id, event_type, occurred_at, body)
     SELECT gen_random_uuid(), 'bulk', now(), '{}' FROM generate_series(1, ${count})`,
  );
  await query(
    `INSERT INTO ${publications} (event_id, listener_id, status, completed_at)
     SELECT event_id, (ARRAY['audit', 'email', 'search'])[1 + (hashtext(event_id::text) & 1023) % 3],
       'completed', now()
     FROM ${events}`,
  );
  await query(`VACUUM ANALYZE ${publications}`);
}
