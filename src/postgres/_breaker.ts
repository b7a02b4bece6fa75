import {
  type BreakerSettings,
  defaultPause,
  isDelay,
} from "./_outbox_options.ts";

/**
 * One listener's circuit breaker, in one relay process. Closed, it counts
 * the distinct publications that failed since the listener's last success
 * (one publication failing again and again counts once: that is poison); at
 * `threshold` it opens for `pauseMs`. Once the pause is over, the next run
 * is a trial: its failure opens it again (for the pause of the next
 * opening), its success closes it.
 */
export class CircuitBreaker {
  #settings: BreakerSettings;
  #failures = new Set<string>();
  #opens = 0;
  #until = 0;
  #lastError = "";

  constructor(settings: BreakerSettings) {
    this.#settings = settings;
  }

  /** Whether the listener is paused at `now`: nothing of it is claimed. */
  paused(now: number): boolean {
    return now < this.#until; // 0 while closed
  }

  /** A run succeeded: the breaker closes. */
  succeeded(): void {
    this.#failures.clear();
    this.#opens = 0;
    this.#until = 0;
  }

  /**
   * A run of publication `id` failed with `error` (as text). Returns whether
   * the attempt is charged: not on a trial run, which opens it again.
   */
  failed(id: string, error: string, now: number): boolean {
    this.#lastError = error;
    if (this.#opens > 0) {
      this.#open(now);
      return false;
    }
    this.#failures.add(id);
    if (this.#failures.size >= this.#settings.threshold) this.#open(now);
    return true;
  }

  /** What {@linkcode PostgresOutbox.pausedListeners} shows of it, while open. */
  state(): { opens: number; resumesAt: number; lastError: string } | null {
    return this.#opens > 0
      ? {
        opens: this.#opens,
        resumesAt: this.#until,
        lastError: this.#lastError,
      }
      : null;
  }

  #open(now: number): void {
    this.#failures.clear();
    this.#opens++;
    const { pauseMs } = this.#settings;
    let pause: unknown;
    try {
      pause = typeof pauseMs === "number" ? pauseMs : pauseMs(this.#opens);
    } catch {
      pause = undefined;
    }
    this.#until = now + (isDelay(pause) ? pause : defaultPause(this.#opens));
  }
}
