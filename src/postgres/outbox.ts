import {
  createCausedEvent,
  type PublishTarget,
} from "../_shared/_caused_event.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import { parseEvent } from "../parse/parse_event.ts";
import type { Publish } from "../dispatch/handler.ts";
import { checkDatabase, inTransaction, namedOn } from "./_sql.ts";
import {
  checkArgument,
  checkInteger,
  checkOptions,
} from "../_shared/_arguments.ts";
import type { PostgresDatabase, SqlQueryable } from "./database.ts";
import { type OutboxStatements, outboxStatements } from "./_statements.ts";
import { namingMigrate } from "./_missing.ts";
import {
  checkConcurrency,
  checkDate,
  type OutboxSettings,
  readOutboxOptions,
  readResubmitFilter,
  readStartOptions,
  registeredType,
} from "./_outbox_options.ts";
import { type Listener, newListener, pausedOf, runBatch } from "./_relay.ts";
import { relayLoop } from "./_notify.ts";
import { readEvents, readStats } from "./_inspect.ts";
import {
  checkEvents,
  checkTransaction,
  eventRows,
  publicationRows,
} from "./_store_input.ts";
import { storableText } from "../_shared/_text.ts";
import type { EventsOptions, ListenerStats } from "./inspect_types.ts";
import type {
  BackfillOptions,
  ListenerOptions,
  PausedListener,
} from "./listener_types.ts";
import type {
  FailedOptions,
  FailedPublication,
  OutboxContext,
  OutboxHandler,
  PostgresOutboxOptions,
  ProcessPendingOptions,
  ProcessPendingResult,
  PurgeOptions,
  PurgeResult,
  ResubmitFilter,
  StartOptions,
  StoreResult,
} from "./outbox_types.ts";

interface FailedRow {
  readonly id: string;
  readonly listener_id: string;
  readonly attempts: number;
  readonly body: string;
  readonly last_error: string;
  readonly failed_ms: number;
}

/**
 * Durable publication on PostgreSQL, the transactional outbox: events are
 * stored in the same transaction as the state that raised them, one pending
 * publication per durable listener, and a relay runs each listener until it
 * succeeds, so a crash between the commit and the listeners loses nothing.
 *
 * It takes a `pg` Pool or a PGlite instance as they are and imports neither.
 * Each listener runs under a savepoint of its own in a transaction, exposed
 * as `context.tx`, in which its publication is marked completed (shared with
 * its listener's other publications of the batch): what a listener writes
 * through `context.tx` happens exactly once, anything else (an email, an
 * HTTP call) at least once. Publications run oldest due first; with
 * `orderingKey`, those of one key run in store order, one at a time per
 * listener.
 *
 * @example Store in the caller's transaction, then relay
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { defineEvent } from "@seedwork/domain-events";
 * import { PostgresOutbox } from "@seedwork/domain-events/postgres";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const db = new PGlite();
 * const outbox = new PostgresOutbox(db);
 * await outbox.migrate();
 * await db.query("CREATE TABLE emails (address text)");
 * outbox.register(InviteCreated, "send-welcome-email", async (event, { tx }) => {
 *   await tx.query("INSERT INTO emails VALUES ($1)", [event.payload.email]);
 * });
 *
 * await db.transaction(async (tx) => {
 *   // ... save the invite through tx ...
 *   await outbox.store(tx, [InviteCreated.create({ email: "ada@example.com" })]);
 * });
 * assert.deepEqual(await outbox.processPending(), { completed: 1, retried: 0, failed: 0 });
 * assert.deepEqual((await db.query("SELECT address FROM emails")).rows, [{ address: "ada@example.com" }]);
 * await db.close();
 * ```
 */
export class PostgresOutbox {
  /** The two tables' names, from `tablePrefix`. */
  readonly tables: { readonly events: string; readonly publications: string };
  #db: PostgresDatabase;
  #sql: OutboxStatements;
  #settings: OutboxSettings;
  #listeners = new Map<string, Listener>();
  #byType = new Map<string, Listener[]>();
  #any: Listener[] = [];

  /**
   * Creates the outbox; it touches the database only when called.
   *
   * @param db A `pg` Pool or a PGlite instance.
   * @param options Table prefix, attempts, lease, retry delay, circuit breaker, ordering key, prepared statements.
   * @throws {TypeError} When `db` is neither, or an option is unknown or out of range.
   */
  constructor(db: PostgresDatabase, options: PostgresOutboxOptions = {}) {
    checkDatabase(db);
    this.#db = db;
    this.#settings = readOutboxOptions(options);
    const prefix = this.#settings.tablePrefix;
    this.#sql = outboxStatements(prefix);
    this.tables = Object.freeze({
      events: `${prefix}events`,
      publications: `${prefix}publications`,
    });
  }

  /**
   * Creates the tables and indexes when missing: safe to run at every start,
   * from several processes at once.
   */
  async migrate(): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      for (const statement of this.#sql.migrate) await tx.query(statement);
    });
  }

  /**
   * Registers a durable listener for one event type. Its events are read
   * back with the definition, so its schema is checked again.
   *
   * @typeParam TType The event type.
   * @typeParam TPayload The payload's shape.
   * @param definition The event's definition, or its type string.
   * @param id A stable id, 1 to 128 characters: publications are stored under it.
   * @param handler The listener.
   * @param options This listener's own circuit breaker.
   * @throws {TypeError} When the id is taken or out of range, or the handler, type or options are not valid.
   */
  register<TType extends string, TPayload extends JsonObject>(
    definition: EventDefinition<TType, TPayload> | TType,
    id: string,
    handler: OutboxHandler<DomainEvent<TType, TPayload>>,
    options: ListenerOptions = {},
  ): void {
    const { type, definition: given } = registeredType(definition);
    const listener = this.#add(
      id,
      type,
      given,
      handler as OutboxHandler,
      options,
    );
    const listeners = this.#byType.get(type);
    if (listeners) listeners.push(listener);
    else this.#byType.set(type, [listener]);
  }

  /**
   * Registers a durable listener for every event stored from now on.
   *
   * @param id A stable id, 1 to 128 characters: publications are stored under it.
   * @param handler The listener.
   * @param options This listener's own circuit breaker.
   * @throws {TypeError} When the id is taken or out of range, or the handler or options are not valid.
   */
  registerAny(
    id: string,
    handler: OutboxHandler,
    options: ListenerOptions = {},
  ): void {
    this.#any.push(this.#add(id, null, undefined, handler, options));
  }

  /**
   * Stores events and one pending publication per durable listener of each,
   * through `tx`: inside the caller's transaction, a rollback stores nothing.
   * An event already stored (same `eventId`) is ignored, with no new
   * publications, so storing again after an uncertain commit is safe.
   *
   * @param tx What the caller's transaction runs on (a PGlite transaction, a pg client inside `BEGIN`).
   * @param events One event or a list of events.
   * @returns How many events and publications were written.
   * @throws {InvalidEventError} When an entry is not a domain event, before anything is written.
   * @throws {TypeError} When `tx` has no `query` method.
   */
  async store(
    tx: SqlQueryable,
    events: DomainEvent | readonly DomainEvent[],
  ): Promise<StoreResult> {
    checkTransaction(tx, this.#db);
    const list = checkEvents(events);
    if (!list.length) return { events: 0, publications: 0 };
    const stored = eventRows(list, this.#settings.orderingKey);
    const targets = publicationRows(list, this.#byType, this.#any);
    // Named after the table: the text depends on the prefix alone.
    const { rows } = await this.#query(
      "store",
      this.#sql.store,
      [
        JSON.stringify(stored),
        JSON.stringify(targets),
      ],
      namedOn(
        tx,
        `${this.tables.publications}.store`,
        this.#settings.preparedStatements,
      ),
    );
    return rows[0] as StoreResult;
  }

  /**
   * Claims due publications of the listeners registered here (with
   * `FOR UPDATE SKIP LOCKED` and a lease of `leaseMs`, so relays never share
   * one) and runs each listener's share in one transaction (up to 50), each
   * publication under a savepoint, completing the successes before the
   * commit. A failure rolls back to its savepoint, records the error and
   * schedules a retry, or fails the publication at `maxAttempts`.
   *
   * @param options How many publications to claim at most.
   * @returns How many completed, will be retried, and failed for good.
   * @throws {TypeError} When `limit` is out of range.
   */
  async processPending(
    options: ProcessPendingOptions = {},
  ): Promise<ProcessPendingResult> {
    checkOptions(options, ["limit", "concurrency"], "processPending");
    const limit = checkInteger(options.limit ?? 100, "limit", 1, 10_000);
    const concurrency = checkConcurrency(options.concurrency);
    const relay = {
      db: this.#db,
      sql: this.#sql,
      settings: this.#settings,
      listeners: this.#listeners,
      context: this.#context.bind(this),
    };
    return await namingMigrate(
      "processPending",
      this.#tableNames(),
      () => runBatch(relay, limit, crypto.randomUUID(), concurrency),
    );
  }

  /**
   * Runs {@linkcode PostgresOutbox.processPending} in a loop: at once again
   * after a full batch, else after `intervalMs` or a commit's NOTIFY.
   *
   * @param options The abort signal, the pause, the batch size, and an error callback.
   * @returns Resolves once aborted and the current batch is done.
   * @throws {TypeError} When `signal` is not an AbortSignal or an option is out of range.
   */
  async start(options: StartOptions): Promise<void> {
    const loop = readStartOptions(options);
    await relayLoop(this.#db, this.tables, loop, {
      processPending: ({ limit }) =>
        this.processPending({ limit, concurrency: loop.concurrency }),
    });
  }

  /**
   * Lists failed (dead) publications, oldest failure first (newest first
   * with `newestFirst`), with their events and last errors.
   *
   * @param options How many to return at most, and in which order.
   * @returns The failed publications.
   * @throws {TypeError} When `limit` is out of range or `newestFirst` is not a boolean.
   */
  async failed(options: FailedOptions = {}): Promise<FailedPublication[]> {
    checkOptions(options, ["limit", "newestFirst"], "failed");
    const limit = checkInteger(options.limit ?? 100, "limit", 1, 10_000);
    const { newestFirst = false } = options;
    checkArgument(
      typeof newestFirst == "boolean",
      "newestFirst",
      "true or false",
      newestFirst,
    );
    const { rows } = await this.#query(
      "failed",
      this.#sql.failed[+newestFirst]!,
      [limit],
    );
    return (rows as FailedRow[]).map((row) => ({
      id: row.id,
      listenerId: row.listener_id,
      event: parseEvent(row.body, { maxLength: row.body.length }),
      attempts: row.attempts,
      lastError: row.last_error,
      failedAt: new Date(row.failed_ms).toISOString(),
    }));
  }

  /**
   * Makes failed publications pending again, due now, with their attempts
   * reset. Their last error is kept, also once a later run completes them.
   *
   * @param filter Which ones: by listener, event or publication id; all when empty.
   * @returns How many were resubmitted.
   * @throws {TypeError} When a filter field is of the wrong form.
   */
  async resubmit(filter: ResubmitFilter = {}): Promise<number> {
    const params = readResubmitFilter(filter);
    const { rows } = await this.#query("resubmit", this.#sql.resubmit, params);
    return (rows[0] as { count: number }).count;
  }

  /**
   * Deletes publications completed before `olderThan`, then the events
   * stored before it that have no publication left.
   *
   * @param options The cut-off time.
   * @returns How many publications and events were deleted.
   * @throws {TypeError} When `olderThan` is not a valid Date.
   * @throws {Error} When a concurrent `backfill` raced it 3 times (its
   * foreign-key violation as `cause`); a later call purges what is left.
   */
  async purgeCompleted(options: PurgeOptions): Promise<PurgeResult> {
    checkOptions(options, ["olderThan"], "purgeCompleted");
    const { olderThan } = options;
    checkDate(olderThan, "olderThan");
    // A backfill committing whole inside the statement gives events it is
    // deleting publications its snapshot misses: 23503, retried afresh.
    for (let attempts = 3;;) {
      try {
        return (await this.#query("purgeCompleted", this.#sql.purge, [
          olderThan.toISOString(),
        ])).rows[0] as PurgeResult;
      } catch (error) {
        if ((error as { code?: unknown })?.code !== "23503") throw error;
        if (!--attempts) {
          throw new Error("purgeCompleted: a backfill raced it 3 times", {
            cause: error,
          });
        }
      }
    }
  }

  /**
   * Creates the publications `listenerId` is missing, for the stored events
   * of its type (every stored event for a `registerAny` listener), stored at
   * or after `since` when given: at most one per event and listener, so
   * running it again creates none. A listener registered after some of its
   * events were stored gets them this way; they run in store order.
   *
   * @param listenerId A listener registered on this outbox.
   * @param options Only events stored at or after `since`.
   * @returns How many publications were created.
   * @throws {TypeError} When the listener is not registered here, or `since` is not a valid Date.
   */
  async backfill(
    listenerId: string,
    options: BackfillOptions = {},
  ): Promise<number> {
    checkOptions(options, ["since"], "backfill");
    const listener = this.#listeners.get(listenerId);
    checkArgument(
      listener,
      "listenerId",
      "the id of a listener registered on this outbox",
      listenerId,
    );
    const { since } = options;
    if (since !== undefined) checkDate(since, "since");
    const type = (listener as Listener).type;
    const { rows } = await this.#query("backfill", this.#sql.backfill, [
      listenerId,
      type === null ? null : storableText(type),
      since?.toISOString() ?? null,
    ]);
    return (rows[0] as { count: number }).count;
  }

  /**
   * The listeners whose circuit breaker is open in this process: paused
   * until `resumesAt`, then on trial. Each relay process has its own
   * breakers; an empty list means every listener runs.
   *
   * @returns One entry per open breaker, by listener id.
   */
  pausedListeners(): PausedListener[] {
    return pausedOf(this.#listeners.values());
  }

  /** Each listener's publications counted in one statement (docs/outbox.md). */
  stats(): Promise<ListenerStats[]> {
    return readStats(this.#query.bind(this, "stats"), this, this.#listeners);
  }

  /** The stored events of one correlation id, oldest first (for formatCausationTree). */
  events(options: EventsOptions): Promise<DomainEvent[]> {
    return readEvents(this.#query.bind(this, "events"), this, options);
  }

  #tableNames(): string {
    return Object.values(this.tables).join(", ");
  }

  #query(
    where: string,
    statement: string,
    params: unknown[],
    on: SqlQueryable = this.#db,
  ) {
    return namingMigrate(
      where,
      this.#tableNames(),
      () => on.query(statement, params),
    );
  }

  #add(
    id: string,
    type: string | null,
    definition: Listener["definition"],
    handler: OutboxHandler,
    options: ListenerOptions,
  ): Listener {
    const listener = newListener(this.#listeners, {
      id,
      type,
      definition,
      handler,
      options,
    }, this.#settings.circuitBreaker);
    this.#listeners.set(id, listener);
    return listener;
  }

  #context(
    tx: SqlQueryable,
    listenerId: string,
    attempt: number,
    cause: DomainEvent,
  ): OutboxContext {
    const publish: Publish = async (
      target: PublishTarget,
      payload?: unknown,
      options?: unknown,
    ): Promise<DomainEvent> => {
      // Metadata defaults to none, not to the ambient context (./context) of
      // whoever runs the relay: it has nothing to do with this event.
      const event = createCausedEvent(
        cause,
        target,
        payload,
        options,
        { metadata: {} },
        this.#settings.generateEventId,
      );
      await this.store(tx, [event]);
      return event;
    };
    // the relay adds retryLater
    return { tx, listenerId, attempt, publish } as OutboxContext;
  }
}
