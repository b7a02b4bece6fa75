import type { DomainEvent } from "../event/types.ts";
import type { Publish } from "../dispatch/handler.ts";
import type { SqlQueryable } from "./database.ts";
import type { CircuitBreakerOptions } from "./listener_types.ts";

/**
 * Options for {@linkcode PostgresOutbox}.
 *
 * @example Usage
 * ```ts
 * import type { PostgresOutboxOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: PostgresOutboxOptions = {
 *   tablePrefix: "billing_outbox_",
 *   maxAttempts: 8,
 *   retryDelayMs: (attempt) => 1000 * attempt,
 * };
 * ```
 */
export interface PostgresOutboxOptions {
  /**
   * Prefix of the two tables, `${tablePrefix}events` and
   * `${tablePrefix}publications`: lower-case letters, digits and
   * underscores, at most 40 characters, not starting with a digit.
   *
   * @default {"outbox_"}
   */
  tablePrefix?: string;
  /**
   * How many failed runs a publication gets before it is failed (dead).
   *
   * @default {5}
   */
  maxAttempts?: number;
  /**
   * How long a relay holds the publications it claimed before another relay
   * may take them over, in milliseconds: longer than a listener's slowest run.
   *
   * @default {60000}
   */
  leaseMs?: number;
  /**
   * The wait before the next run after a failure, in milliseconds: a number,
   * or a function of the attempt that failed (1 for the first). The default
   * doubles from 1 second up to 5 minutes, with jitter (half to all of it).
   */
  retryDelayMs?: number | ((attempt: number) => number);
  /**
   * Makes the `eventId` of the follow-up events listeners publish without
   * one, e.g. `uuidv7`, so that stored events sort by time in an index.
   *
   * @default {crypto.randomUUID}
   */
  generateEventId?: () => string;
  /**
   * Each listener's circuit breaker, unless its `register` options give its
   * own; `false` for none. See {@linkcode CircuitBreakerOptions}.
   *
   * @default {{ threshold: 5, pauseMs: (opens) => Math.min(5000 * 2 ** (opens - 1), 300_000) }}
   */
  circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * The ordering key of an event (an aggregate's id, say), 1 to 256
   * characters, or null for none: each listener sees the events of one key
   * strictly in store order, one at a time. Called once per event by
   * `store`.
   */
  orderingKey?: (event: DomainEvent) => string | null;
  /**
   * Whether `store` on a node-postgres client (pg's Client or PoolClient)
   * runs as a named statement, which the server parses and plans once per
   * connection instead of at every call. PGlite and adapters to other
   * drivers always get `query(text, params)`. The default follows
   * graphile-worker's (which prepares unless `noPreparedStatements`); set
   * `false` behind PgBouncer in transaction mode unless it is 1.21 or later
   * with `max_prepared_statements` set.
   *
   * @default {true}
   */
  preparedStatements?: boolean;
}

/**
 * What a durable listener gets beside its event.
 *
 * @example Writing through the listener's transaction
 * ```ts
 * import type { OutboxContext } from "@seedwork/domain-events/postgres";
 *
 * async function recordWelcome(context: OutboxContext): Promise<void> {
 *   await context.tx.query("INSERT INTO welcomes (listener) VALUES ($1)", [context.listenerId]);
 * }
 * ```
 */
export interface OutboxContext {
  /**
   * The transaction the listener runs in, under a savepoint of its own (the
   * listener's other publications of the batch share it): the publication is
   * marked completed in it, so what the listener writes through it commits
   * together with the completion, or not at all.
   */
  readonly tx: SqlQueryable;
  /** The listener's id, as registered. */
  readonly listenerId: string;
  /** Which run this is: 1 for the first, counting earlier failed runs. */
  readonly attempt: number;
  /**
   * Asks for this run to be retried after `ms` (an integer from 0 to
   * 2^31 − 1) without charging an attempt: it throws, so that the
   * transaction rolls back; let it propagate.
   *
   * @throws Always: the signal for the relay.
   */
  retryLater(ms: number): never;
  /**
   * Creates an event caused by the one being handled (same correlation,
   * causation = its id, a definition's schema checked) and stores it in
   * {@linkcode OutboxContext.tx}: its listeners run in a later
   * `processPending`, once this transaction has committed. Resolves to the
   * new event once stored. Its metadata defaults to none (not to the ambient
   * context of whoever runs the relay), its id to the outbox's
   * `generateEventId` if given.
   */
  readonly publish: Publish;
}

/**
 * A durable listener: a function, or an object whose `handle` method is
 * called on it. It may run more than once for one event (at-least-once);
 * what it writes through `context.tx` happens exactly once.
 *
 * @typeParam TEvent The events it handles.
 *
 * @example Usage
 * ```ts
 * import type { OutboxHandler } from "@seedwork/domain-events/postgres";
 *
 * const audit: OutboxHandler = async (event, { tx }) => {
 *   await tx.query("INSERT INTO audit (event_id) VALUES ($1)", [event.eventId]);
 * };
 * ```
 */
export type OutboxHandler<TEvent extends DomainEvent = DomainEvent> =
  | ((event: TEvent, context: OutboxContext) => void | Promise<void>)
  | {
    /** Handles the event. */
    handle(event: TEvent, context: OutboxContext): void | Promise<void>;
  };

/**
 * What {@linkcode PostgresOutbox.store} wrote.
 *
 * @example Usage
 * ```ts
 * import type { StoreResult } from "@seedwork/domain-events/postgres";
 *
 * const result: StoreResult = { events: 1, publications: 2 };
 * ```
 */
export interface StoreResult {
  /** Events written; an event already stored counts 0. */
  readonly events: number;
  /** Pending publications created, one per durable listener of each new event. */
  readonly publications: number;
}

/**
 * Options for {@linkcode PostgresOutbox.processPending}.
 *
 * @example Usage
 * ```ts
 * import type { ProcessPendingOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: ProcessPendingOptions = { limit: 50 };
 * ```
 */
export interface ProcessPendingOptions {
  /**
   * The most publications claimed in one call, 1 to 10,000.
   *
   * @default {100}
   */
  limit?: number;
  /**
   * How many transactions of a batch run at once, each on a connection of
   * its own, 1 to 100: each listener's share of the batch is split into that
   * many parts. Give the pool at least this many connections, plus one for
   * every listener that uses the pool itself rather than `context.tx` (and,
   * for `start`, one listening for commits); fewer, and such listeners wait
   * for a connection that the transactions waiting on them hold. Raise
   * `limit` with it, to about 50 × `concurrency`.
   *
   * @default {1}
   */
  concurrency?: number;
}

/**
 * What one {@linkcode PostgresOutbox.processPending} call did.
 *
 * @example Usage
 * ```ts
 * import type { ProcessPendingResult } from "@seedwork/domain-events/postgres";
 *
 * const result: ProcessPendingResult = { completed: 3, retried: 1, failed: 0 };
 * ```
 */
export interface ProcessPendingResult {
  /** Publications whose listener succeeded and whose completion committed. */
  readonly completed: number;
  /** Publications whose listener failed and that will run again later. */
  readonly retried: number;
  /** Publications whose listener failed for the last time (now dead). */
  readonly failed: number;
}

/**
 * Options for {@linkcode PostgresOutbox.start}.
 *
 * @example Usage
 * ```ts
 * import type { StartOptions } from "@seedwork/domain-events/postgres";
 *
 * const controller = new AbortController();
 * const options: StartOptions = { signal: controller.signal, intervalMs: 500, onError: console.error };
 * ```
 */
export interface StartOptions {
  /** Stops the loop: `start` resolves once the current batch is done. */
  signal: AbortSignal;
  /**
   * The pause after a batch that was not full, in milliseconds; a commit
   * that stored publications ends it at once (LISTEN/NOTIFY), so this is the
   * fallback for a lost notification and for retries falling due.
   *
   * @default {1000}
   */
  intervalMs?: number;
  /**
   * The most publications claimed per batch, 1 to 10,000.
   *
   * @default {100}
   */
  limit?: number;
  /**
   * How many transactions of a batch run at once, each on a connection of
   * its own, 1 to 100: each listener's share of the batch is split into that
   * many parts. Give the pool at least this many connections, plus one for
   * every listener that uses the pool itself rather than `context.tx` (and,
   * for `start`, one listening for commits); fewer, and such listeners wait
   * for a connection that the transactions waiting on them hold. Raise
   * `limit` with it, to about 50 × `concurrency`.
   *
   * @default {1}
   */
  concurrency?: number;
  /**
   * Called when a batch fails as a whole (the database is unreachable, for
   * example); the loop then goes on after `intervalMs`. Without it, `start`
   * rejects with that error. Listener failures never get here: they are
   * recorded on their publication. Problems of the connection listening for
   * commits (lost, refused) come here too, and never stop the loop: it polls
   * until it listens again.
   */
  onError?: (error: unknown) => void;
}

/**
 * A publication that failed for the last time, as
 * {@linkcode PostgresOutbox.failed} lists it.
 *
 * @example Usage
 * ```ts
 * import type { FailedPublication } from "@seedwork/domain-events/postgres";
 *
 * function describe(publication: FailedPublication): string {
 *   return `${publication.listenerId} failed ${publication.event.eventType}: ${publication.lastError}`;
 * }
 * ```
 */
export interface FailedPublication {
  /** The publication's id (a bigint, as a string). */
  readonly id: string;
  /** The listener that failed. */
  readonly listenerId: string;
  /** The event, read back with `parseEvent`. */
  readonly event: DomainEvent;
  /** How many runs failed. */
  readonly attempts: number;
  /** The last failure as text: the error's stack, or its name and message. */
  readonly lastError: string;
  /** When it was failed, in `Date#toISOString()` form. */
  readonly failedAt: string;
}

/**
 * Options for {@linkcode PostgresOutbox.failed}.
 *
 * @example Usage
 * ```ts
 * import type { FailedOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: FailedOptions = { limit: 20, newestFirst: true };
 * ```
 */
export interface FailedOptions {
  /**
   * The most publications returned, 1 to 10,000: the first of the order
   * `newestFirst` chooses.
   *
   * @default {100}
   */
  limit?: number;
  /**
   * List the most recent failures first (the latest `failedAt` first, ties
   * by id), as an operator's page does: the newest `limit` of them, however
   * many have failed. `false` lists the oldest failure first.
   *
   * @default {false}
   */
  newestFirst?: boolean;
}

/**
 * Which failed publications {@linkcode PostgresOutbox.resubmit} makes pending
 * again; every field given must match, none given means all.
 *
 * @example Usage
 * ```ts
 * import type { ResubmitFilter } from "@seedwork/domain-events/postgres";
 *
 * const filter: ResubmitFilter = { listenerId: "send-welcome-email" };
 * ```
 */
export interface ResubmitFilter {
  /** Only this listener's publications. */
  listenerId?: string;
  /** Only publications of this event (a UUID). */
  eventId?: string;
  /** Only the publication with this id, as {@linkcode FailedPublication.id}. */
  id?: string;
}

/**
 * Options for {@linkcode PostgresOutbox.purgeCompleted}.
 *
 * @example Usage
 * ```ts
 * import type { PurgeOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: PurgeOptions = { olderThan: new Date(Date.now() - 7 * 24 * 3600 * 1000) };
 * ```
 */
export interface PurgeOptions {
  /** Deletes publications completed before this time. */
  olderThan: Date;
}

/**
 * What {@linkcode PostgresOutbox.purgeCompleted} deleted.
 *
 * @example Usage
 * ```ts
 * import type { PurgeResult } from "@seedwork/domain-events/postgres";
 *
 * const result: PurgeResult = { publications: 10, events: 4 };
 * ```
 */
export interface PurgeResult {
  /** Completed publications deleted. */
  readonly publications: number;
  /** Events deleted: stored before `olderThan`, with no publication left. */
  readonly events: number;
}
