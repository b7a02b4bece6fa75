/**
 * One listener's publications, as {@linkcode PostgresOutbox.stats} counts
 * them.
 *
 * @example Usage
 * ```ts
 * import type { ListenerStats } from "@seedwork/domain-events/postgres";
 *
 * function isStuck(stats: ListenerStats): boolean {
 *   return stats.paused || (stats.oldestPendingAgeMs ?? 0) > 60_000;
 * }
 * ```
 */
export interface ListenerStats {
  /** The listener's id, as registered. */
  readonly listenerId: string;
  /** Publications waiting to run: due, leased, or waiting for a retry. */
  readonly pending: number;
  /** Pending publications a relay may claim now. */
  readonly due: number;
  /** Pending publications a relay holds right now (lease not expired). */
  readonly leased: number;
  /** Failed (dead) publications, waiting for a resubmit. */
  readonly failed: number;
  /**
   * Completed publications (until purged): exact while the publications
   * table holds fewer than 10,000 rows by the planner's statistics, then an
   * estimate from those statistics (kept by autovacuum's ANALYZE), so that
   * counting never reads a big table.
   */
  readonly completed: number;
  /** How long the oldest pending publication has waited since it was stored, in milliseconds; `null` with none pending. */
  readonly oldestPendingAgeMs: number | null;
  /** Whether the listener's circuit breaker is open (its publications wait). */
  readonly paused: boolean;
}

/**
 * Options for {@linkcode PostgresOutbox.events}.
 *
 * @example Usage
 * ```ts
 * import type { EventsOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: EventsOptions = { correlationId: "req-42", limit: 500 };
 * ```
 */
export interface EventsOptions {
  /** The correlation id whose stored events are read. */
  correlationId: string;
  /**
   * The most events returned, oldest first, 1 to 10,000.
   *
   * @default {1000}
   */
  limit?: number;
}
