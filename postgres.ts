/**
 * Durable publication on PostgreSQL: the transactional outbox.
 *
 * {@linkcode PostgresOutbox} stores events in the same transaction as the
 * state that raised them, with one pending publication per durable
 * listener, and a relay ({@linkcode PostgresOutbox.processPending} or
 * {@linkcode PostgresOutbox.start}) runs each listener until it succeeds.
 * A crash between the commit and the listeners loses nothing. It takes a
 * `pg` Pool or a PGlite instance as they are and has no dependency.
 *
 * Guarantees, table layout and operations: docs/outbox.md.
 *
 * @example A crash after the commit, then the relay
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { defineEvent, formatCausationTree, type DomainEvent } from "@seedwork/domain-events";
 * import { PostgresOutbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const db = new PGlite();
 * const ran: DomainEvent[] = [];
 * function listeners(outbox: PostgresOutbox): PostgresOutbox {
 *   outbox.register(InviteCreated, "send-invite-email", async (event, { publish }) => {
 *     ran.push(event, await publish("invite.email_sent", { to: event.payload.email }));
 *   });
 *   outbox.register("invite.email_sent", "count-emails", () => {});
 *   return outbox;
 * }
 *
 * const before = listeners(new PostgresOutbox(db));
 * await before.migrate();
 * await db.transaction((tx) => before.store(tx, [InviteCreated.create({ email: "ada@example.com" })]));
 * // The process stops here, before any listener ran. After the restart:
 * const after = listeners(new PostgresOutbox(db));
 * assert.deepEqual(await after.processPending(), { completed: 1, retried: 0, failed: 0 });
 * assert.deepEqual(await after.processPending(), { completed: 1, retried: 0, failed: 0 });
 * assert.match(formatCausationTree(ran), /invite\.created .*\n\s+└─ invite\.email_sent/);
 * await db.close();
 * ```
 *
 * @module
 */
export * from "./src/postgres/outbox.ts";
export * from "./src/postgres/outbox_types.ts";
export * from "./src/postgres/listener_types.ts";
export * from "./src/postgres/inspect_types.ts";
export * from "./src/postgres/admin.ts";
export * from "./src/postgres/inbox.ts";
export type {
  PGliteLike,
  PgPoolClientLike,
  PgPoolLike,
  PostgresDatabase,
  SqlQueryable,
  SqlResult,
} from "./src/postgres/database.ts";
