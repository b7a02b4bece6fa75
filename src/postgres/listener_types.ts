/**
 * A circuit breaker: after `threshold` consecutive failures of different
 * publications, the listener pauses for `pauseMs`; then one trial run
 * probes it. No attempt is charged while it is paused, nor on the trial; the
 * first success closes it. `false` turns it off.
 *
 * @example Usage
 * ```ts
 * import type { CircuitBreakerOptions } from "@seedwork/domain-events/postgres";
 *
 * const breaker: CircuitBreakerOptions = {
 *   threshold: 3,
 *   pauseMs: (opens) => Math.min(1000 * 2 ** opens, 60_000),
 * };
 * ```
 */
export interface CircuitBreakerOptions {
  /**
   * How many different publications must fail in a row (no success between
   * them) to open it, 1 to 1,000,000. One event failing again and again
   * counts once: that is poison, not an outage.
   *
   * @default {5}
   */
  threshold?: number;
  /**
   * How long it stays open, in ms from 0 to 2^31 − 1: a number, or a
   * function of how many times in a row it opened (1 for the first). A
   * function that throws or returns anything else pauses for the default.
   *
   * @default {(opens) => Math.min(5000 * 2 ** (opens - 1), 300_000)}
   */
  pauseMs?: number | ((opens: number) => number);
}

/**
 * Options of one durable listener, for {@linkcode PostgresOutbox.register}
 * and {@linkcode PostgresOutbox.registerAny}.
 *
 * @example Usage
 * ```ts
 * import type { ListenerOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: ListenerOptions = { circuitBreaker: { threshold: 10, pauseMs: 30_000 } };
 * ```
 */
export interface ListenerOptions {
  /** This listener's breaker, instead of the outbox's `circuitBreaker`; `false` for none. */
  circuitBreaker?: CircuitBreakerOptions | false;
}

/**
 * A listener whose circuit breaker is open in this process, as
 * {@linkcode PostgresOutbox.pausedListeners} lists it.
 *
 * @example Usage
 * ```ts
 * import type { PausedListener } from "@seedwork/domain-events/postgres";
 *
 * function describe(paused: PausedListener): string {
 *   return `${paused.listenerId} paused until ${paused.resumesAt} (opened ${paused.opens} times): ${paused.lastError}`;
 * }
 * ```
 */
export interface PausedListener {
  /** The listener's id. */
  readonly listenerId: string;
  /** How many times in a row its breaker opened (a failed trial opens it again). */
  readonly opens: number;
  /** When its pause ends and a trial run may probe it, in `Date#toISOString()` form. */
  readonly resumesAt: string;
  /** The last failure, as recorded on its publication. */
  readonly lastError: string;
}

/**
 * Options for {@linkcode PostgresOutbox.backfill}.
 *
 * @example Usage
 * ```ts
 * import type { BackfillOptions } from "@seedwork/domain-events/postgres";
 *
 * const options: BackfillOptions = { since: new Date("2026-01-01T00:00:00Z") };
 * ```
 */
export interface BackfillOptions {
  /** Only events stored at or after this time; every stored event when absent. */
  since?: Date;
}
