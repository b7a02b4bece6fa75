import { createEvent, type CreateEventOptions } from "../event/create_event.ts";
import type { EventDefinition } from "../event/define_event.ts";
import { InvalidEventError } from "../event/errors.ts";
import { isDomainEvent } from "../event/guards.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import { parseEvent } from "../parse/parse_event.ts";
import type { PublishOptions } from "../dispatch/handler.ts";
import {
  checkDatabase,
  checkTablePrefix,
  inTransaction,
  isQueryable,
} from "./_sql.ts";
import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
import { describeValue } from "../_shared/_messages.ts";
import type { PostgresDatabase, SqlQueryable } from "./database.ts";
import { type OutboxStatements, outboxStatements } from "./_statements.ts";
import { wakeOnNotify } from "./_notify.ts";
import {
  eventsStatement,
  readEvents,
  readStats,
  statsStatement,
} from "./_inspect.ts";
import type { EventsOptions, ListenerStats } from "./inspect_types.ts";
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

// deno-lint-ignore no-explicit-any
type AnyDefinition = EventDefinition<string, any>;

interface Listener {
  readonly id: string;
  readonly definition: AnyDefinition | undefined;
  readonly handler: OutboxHandler;
}

interface ClaimedRow {
  readonly id: string;
  readonly listener_id: string;
  readonly attempts: number;
  readonly body: string;
}

interface FailedRow extends ClaimedRow {
  readonly last_error: string;
  readonly failed_ms: number;
}

const OPTION_NAMES = [
  "tablePrefix",
  "maxAttempts",
  "leaseMs",
  "retryDelayMs",
  "generateEventId",
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Durable publication on PostgreSQL, the transactional outbox: events are
 * stored in the same transaction as the state that raised them, one pending
 * publication per durable listener, and a relay runs each listener until it
 * succeeds, so a crash between the commit and the listeners loses nothing.
 *
 * It takes a `pg` Pool or a PGlite instance as they are and imports neither.
 * Each listener runs in its own transaction, exposed as `context.tx`, in
 * which its publication is marked completed: what a listener writes through
 * `context.tx` happens exactly once, anything else (an email, an HTTP call)
 * at least once. Publications run oldest due first, with no ordering
 * guarantee between them: a retry does not hold back later events.
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
  #maxAttempts: number;
  #leaseMs: number;
  #retryDelayMs: number | ((attempt: number) => number);
  #generateEventId: (() => string) | undefined;
  #listeners = new Map<string, Listener>();
  #byType = new Map<string, Listener[]>();
  #any: Listener[] = [];

  /**
   * Creates the outbox; it touches the database only when called.
   *
   * @param db A `pg` Pool or a PGlite instance.
   * @param options Table prefix, attempts, lease and retry delay.
   * @throws {TypeError} When `db` is neither, or an option is unknown or out of range.
   */
  constructor(db: PostgresDatabase, options: PostgresOutboxOptions = {}) {
    checkDatabase(db);
    checkOptions(options, OPTION_NAMES, "PostgresOutbox");
    const {
      tablePrefix = "outbox_",
      maxAttempts = 5,
      leaseMs = 60_000,
      retryDelayMs = defaultRetryDelay,
      generateEventId,
    } = options;
    if (
      generateEventId !== undefined && typeof generateEventId !== "function"
    ) {
      throw new TypeError(
        `generateEventId: expected a function, got ${
          describeValue(generateEventId)
        }`,
      );
    }
    this.#generateEventId = generateEventId;
    checkTablePrefix(tablePrefix);
    this.#maxAttempts = checkInteger(
      maxAttempts,
      "maxAttempts",
      1,
      2 ** 31 - 1,
    );
    this.#leaseMs = checkInteger(leaseMs, "leaseMs", 1, 2 ** 31 - 1);
    if (
      typeof retryDelayMs !== "function" &&
      !(typeof retryDelayMs === "number" && retryDelayMs >= 0 &&
        Number.isFinite(retryDelayMs))
    ) {
      throw new TypeError(
        `retryDelayMs: expected a finite number >= 0 or a function, got ${
          describeValue(retryDelayMs)
        }`,
      );
    }
    this.#retryDelayMs = retryDelayMs;
    this.#db = db;
    this.#sql = outboxStatements(tablePrefix);
    this.tables = Object.freeze({
      events: `${tablePrefix}events`,
      publications: `${tablePrefix}publications`,
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
   * @throws {TypeError} When the id is taken or out of range, or the handler or type is not valid.
   */
  register<TType extends string, TPayload extends JsonObject>(
    definition: EventDefinition<TType, TPayload> | TType,
    id: string,
    handler: OutboxHandler<DomainEvent<TType, TPayload>>,
  ): void {
    const isDefinition = typeof definition === "object" &&
      definition !== null && typeof definition.type === "string" &&
      typeof definition.create === "function";
    const type = isDefinition ? definition.type : definition;
    if (typeof type !== "string" || type.length < 1 || type.length > 256) {
      throw new TypeError(
        `register: expected an event definition or type (1 to 256 characters), got ${
          describeValue(definition)
        }`,
      );
    }
    const listener = this.#add(
      id,
      isDefinition ? definition : undefined,
      handler as OutboxHandler,
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
   * @throws {TypeError} When the id is taken or out of range, or the handler is not valid.
   */
  registerAny(id: string, handler: OutboxHandler): void {
    this.#any.push(this.#add(id, undefined, handler));
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
    if (!isQueryable(tx)) {
      throw new TypeError(
        `store: expected a transaction with a query method, got ${
          describeValue(tx)
        }`,
      );
    }
    const list = Array.isArray(events) ? events : [events];
    const types = new Set<string>();
    // A plain loop: forEach would skip the holes of a sparse array.
    for (let index = 0; index < list.length; index++) {
      const event: unknown = list[index];
      if (!isDomainEvent(event)) {
        const path = Array.isArray(events) ? `events[${index}]` : "events";
        throw new InvalidEventError([{
          path,
          message: `expected a domain event, got ${describeValue(event)}`,
        }]);
      }
      types.add(event.eventType);
    }
    if (!list.length) return { events: 0, publications: 0 };
    const targets: { t: string | null; l: string }[] = [];
    for (const type of types) {
      for (const { id } of this.#byType.get(type) ?? []) {
        targets.push({ t: type, l: id });
      }
    }
    for (const { id } of this.#any) targets.push({ t: null, l: id });
    // Each event's JSON travels as a string inside the list, so that
    // PostgreSQL's json operators never unescape it (they refuse \u0000).
    const input = list.map((event) => ({
      i: event.eventId,
      t: event.eventType,
      o: event.occurredAt,
      c: event.correlationId,
      k: event.causationId,
      b: JSON.stringify(event),
    }));
    const { rows } = await tx.query(this.#sql.store, [
      JSON.stringify(input),
      JSON.stringify(targets),
    ]);
    return rows[0] as StoreResult;
  }

  /**
   * Claims due publications of the listeners registered here (with
   * `FOR UPDATE SKIP LOCKED` and a lease of `leaseMs`, so relays never share
   * one) and runs each listener in its own transaction, where its
   * publication is marked completed. A failure rolls that transaction back,
   * records the error and schedules a retry, or fails the publication at
   * `maxAttempts`.
   *
   * @param options How many publications to claim at most.
   * @returns How many completed, will be retried, and failed for good.
   * @throws {TypeError} When `limit` is out of range.
   */
  async processPending(
    options: ProcessPendingOptions = {},
  ): Promise<ProcessPendingResult> {
    checkOptions(options, ["limit"], "processPending");
    const limit = checkInteger(options.limit ?? 100, "limit", 1, 10_000);
    const result = { completed: 0, retried: 0, failed: 0 };
    if (!this.#listeners.size) return result;
    const token = crypto.randomUUID();
    const { rows } = await this.#db.query(this.#sql.claim, [
      limit,
      this.#leaseMs,
      token,
      JSON.stringify([...this.#listeners.keys()]),
    ]);
    // rows is ours to sort (ES2022: no toSorted).
    const claimed = (rows as ClaimedRow[]).sort((a, b) =>
      a.id.length - b.id.length || (a.id < b.id ? -1 : 1)
    );
    for (const row of claimed) {
      const outcome = await this.#run(row, token);
      if (outcome) result[outcome]++;
    }
    return result;
  }

  /**
   * Runs {@linkcode PostgresOutbox.processPending} in a loop: at once again
   * after a full batch, after `intervalMs` otherwise, until `signal` aborts.
   *
   * @param options The abort signal, the pause, the batch size, and an error callback.
   * @returns Resolves once aborted and the current batch is done.
   * @throws {TypeError} When `signal` is not an AbortSignal or an option is out of range.
   */
  async start(options: StartOptions): Promise<void> {
    checkOptions(
      options,
      ["signal", "intervalMs", "limit", "onError"],
      "start",
    );
    const { signal, intervalMs = 1000, limit = 100, onError } = options;
    if (!(signal instanceof AbortSignal)) {
      throw new TypeError(
        `signal: expected an AbortSignal, got ${describeValue(signal)}`,
      );
    }
    checkInteger(intervalMs, "intervalMs", 0, 2 ** 31 - 1);
    checkInteger(limit, "limit", 1, 10_000);
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError(
        `onError: expected a function, got ${describeValue(onError)}`,
      );
    }
    // Wake-up on commit (docs/outbox.md, "Wake-up on commit"): a NOTIFY ends the pause.
    const waker = wakeOnNotify(
      this.#db,
      this.tables.publications,
      onError ?? (() => {}),
    );
    try {
      while (!signal.aborted) {
        let full = false;
        try {
          const { completed, retried, failed } = await this.processPending({
            limit,
          });
          full = completed + retried + failed >= limit;
        } catch (error) {
          if (!onError) throw error;
          onError(error);
        }
        if (!full) await waker.sleep(intervalMs, signal);
      }
    } finally {
      await waker.close();
    }
  }

  /**
   * Lists failed (dead) publications, oldest failure first, with their
   * events and last errors.
   *
   * @param options How many to return at most.
   * @returns The failed publications.
   * @throws {TypeError} When `limit` is out of range.
   */
  async failed(options: FailedOptions = {}): Promise<FailedPublication[]> {
    checkOptions(options, ["limit"], "failed");
    const limit = checkInteger(options.limit ?? 100, "limit", 1, 10_000);
    const { rows } = await this.#db.query(this.#sql.failed, [limit]);
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
    checkOptions(filter, ["listenerId", "eventId", "id"], "resubmit");
    const { listenerId, eventId, id } = filter;
    if (listenerId !== undefined) checkListenerId(listenerId, "listenerId");
    if (
      eventId !== undefined &&
      !(typeof eventId === "string" && UUID.test(eventId))
    ) {
      throw new TypeError(
        `eventId: expected a UUID, got ${describeValue(eventId)}`,
      );
    }
    if (
      id !== undefined &&
      !(typeof id === "string" && /^[1-9]\d{0,18}$/.test(id))
    ) {
      throw new TypeError(
        `id: expected a publication id (digits), got ${describeValue(id)}`,
      );
    }
    const { rows } = await this.#db.query(this.#sql.resubmit, [
      listenerId ?? null,
      eventId ?? null,
      id ?? null,
    ]);
    return (rows[0] as { count: number }).count;
  }

  /**
   * Deletes publications completed before `olderThan`, then the events
   * stored before it that have no publication left.
   *
   * @param options The cut-off time.
   * @returns How many publications and events were deleted.
   * @throws {TypeError} When `olderThan` is not a valid Date.
   */
  async purgeCompleted(options: PurgeOptions): Promise<PurgeResult> {
    checkOptions(options, ["olderThan"], "purgeCompleted");
    const { olderThan } = options;
    if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
      const got = olderThan instanceof Date
        ? "an Invalid Date"
        : describeValue(olderThan);
      throw new TypeError(`olderThan: expected a valid Date, got ${got}`);
    }
    const { rows } = await this.#db.query(this.#sql.purge, [
      olderThan.toISOString(),
    ]);
    return rows[0] as PurgeResult;
  }

  /**
   * Counts each listener's publications in one statement: pending, due,
   * leased, failed, completed (estimated on a big table) and the age of the
   * oldest pending one, for every listener registered here or with pending
   * or failed publications. Cheap enough to poll (docs/outbox.md, "Stats").
   *
   * @returns One entry per listener, by id.
   */
  stats(): Promise<ListenerStats[]> {
    // paused: false until the circuit breaker exists; the merge passes
    // (listenerId) => its breaker is open.
    const isPaused = (_listenerId: string) => false;
    const ids = [...this.#listeners.keys()];
    return readStats(this.#db, statsStatement(this.tables), ids, isPaused);
  }

  /**
   * Reads the stored events of one correlation id, oldest first: what
   * `formatCausationTree` draws. It scans the events table unless an index
   * on `correlation_id` exists (docs/outbox.md, "Reading a correlation").
   *
   * @param options The correlation id and the most events returned.
   * @returns The events, read back with `parseEvent`.
   * @throws {TypeError} When the correlation id or limit is not valid.
   */
  events(options: EventsOptions): Promise<DomainEvent[]> {
    return readEvents(this.#db, eventsStatement(this.tables), options);
  }

  #add(
    id: string,
    definition: AnyDefinition | undefined,
    handler: OutboxHandler,
  ): Listener {
    checkListenerId(id, "id");
    if (this.#listeners.has(id)) {
      throw new TypeError(
        `id: a durable listener ${JSON.stringify(id)} is already registered`,
      );
    }
    if (
      typeof handler !== "function" &&
      !(typeof handler === "object" && handler !== null &&
        typeof handler.handle === "function")
    ) {
      throw new TypeError(
        `handler: expected a function or an object with a handle method, got ${
          describeValue(handler)
        }`,
      );
    }
    const listener = { id, definition, handler };
    this.#listeners.set(id, listener);
    return listener;
  }

  async #run(
    row: ClaimedRow,
    token: string,
  ): Promise<keyof ProcessPendingResult | undefined> {
    const listener = this.#listeners.get(row.listener_id) as Listener;
    try {
      const event = parseEvent(row.body, {
        definition: listener.definition,
        maxLength: row.body.length,
      });
      const ran = await inTransaction(this.#db, async (tx) => {
        const held = await tx.query(this.#sql.lock, [row.id, token]);
        if (!held.rows.length) return false;
        const context = this.#context(tx, listener.id, row.attempts + 1, event);
        const { handler } = listener;
        if (typeof handler === "function") await handler(event, context);
        else await handler.handle(event, context);
        await tx.query(this.#sql.complete, [row.id]);
        return true;
      });
      return ran ? "completed" : undefined;
    } catch (error) {
      return await this.#fail(row, token, error);
    }
  }

  async #fail(
    row: ClaimedRow,
    token: string,
    error: unknown,
  ): Promise<keyof ProcessPendingResult | undefined> {
    const attempt = row.attempts + 1;
    let text = errorText(error);
    let delay: number | null = null;
    if (attempt < this.#maxAttempts) {
      try {
        delay = typeof this.#retryDelayMs === "number"
          ? this.#retryDelayMs
          : this.#retryDelayMs(attempt);
        if (typeof delay !== "number" || !(delay >= 0) || delay === Infinity) {
          text += `\n(failed at once: retryDelayMs returned ${
            describeValue(delay)
          }, expected a finite number >= 0)`;
          delay = null;
        }
      } catch (delayError) {
        text += `\n(failed at once: retryDelayMs threw ${
          errorText(delayError)
        })`;
        delay = null;
      }
    }
    const { rows } = await this.#db.query(this.#sql.fail, [
      row.id,
      token,
      text,
      delay,
      this.#maxAttempts,
    ]);
    const status = (rows[0] as { status: string } | undefined)?.status;
    if (status === undefined) return undefined;
    return status === "failed" ? "failed" : "retried";
  }

  #context(
    tx: SqlQueryable,
    listenerId: string,
    attempt: number,
    cause: DomainEvent,
  ): OutboxContext {
    const store = (event: DomainEvent) => this.store(tx, [event]);
    const generateEventId = this.#generateEventId;
    async function publish(
      target: AnyDefinition | string,
      payload?: JsonObject,
      options?: PublishOptions,
    ): Promise<DomainEvent> {
      // Metadata defaults to none, not to the ambient context (./context) of
      // whoever runs the relay: it has nothing to do with this event.
      const createOptions: CreateEventOptions = {
        metadata: {},
        ...options,
        causedBy: cause,
      };
      if (generateEventId && createOptions.eventId === undefined) {
        createOptions.eventId = generateEventId();
      }
      const event = typeof target === "string"
        ? createEvent(target, payload, createOptions)
        : target.create(payload, createOptions);
      await store(event);
      return event;
    }
    return { tx, listenerId, attempt, publish } as OutboxContext;
  }
}

function defaultRetryDelay(attempt: number): number {
  const ceiling = Math.min(300_000, 1000 * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function checkInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): number {
  checkArgument(
    Number.isInteger(value) && (value as number) >= min &&
      (value as number) <= max,
    name,
    `an integer from ${min} to ${max}`,
    value,
  );
  return value as number;
}

function checkListenerId(id: unknown, name: string): void {
  checkArgument(
    typeof id == "string" && id.length >= 1 && id.length <= 128,
    name,
    "a listener id of 1 to 128 characters",
    id,
  );
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.stack ?? `${error.name}: ${error.message}`;
  }
  try {
    return String(error);
  } catch {
    return "a thrown value that cannot be turned into text";
  }
}
