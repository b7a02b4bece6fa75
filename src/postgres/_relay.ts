import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent } from "../event/types.ts";
import { parseEvent } from "../parse/parse_event.ts";
import {
  checkArgument,
  checkOptions,
  isHandler,
} from "../_shared/_arguments.ts";
import { CircuitBreaker } from "./_breaker.ts";
import {
  type BreakerSettings,
  checkListenerId,
  MAX_DELAY_MS,
  type OutboxSettings,
  readBreaker,
  retryDelay,
} from "./_outbox_options.ts";
import type { ListenerOptions, PausedListener } from "./listener_types.ts";
import { inTransaction } from "./_sql.ts";
import type { OutboxStatements } from "./_statements.ts";
import { errorText, MAX_ERROR_TEXT, storableText } from "../_shared/_text.ts";
import type { PostgresDatabase, SqlQueryable } from "./database.ts";
import type {
  OutboxContext,
  OutboxHandler,
  ProcessPendingResult,
} from "./outbox_types.ts";

/** A durable listener, as registered. */
export interface Listener {
  readonly id: string;
  /** Its event type, or null for every type (registerAny). */
  readonly type: string | null;
  // deno-lint-ignore no-explicit-any
  readonly definition: EventDefinition<string, any> | undefined;
  readonly handler: OutboxHandler;
  readonly breaker: CircuitBreaker | null;
}

/**
 * A new listener, checked: a free, storable id, a handler, and its options
 * (its own breaker, or the outbox's `fallback`).
 */
export function newListener(
  listeners: ReadonlyMap<string, Listener>,
  given: Omit<Listener, "breaker"> & { readonly options: ListenerOptions },
  fallback: BreakerSettings | null,
): Listener {
  const { id, type, definition, handler, options } = given;
  checkListenerId(id, "id");
  checkArgument(
    !listeners.has(id),
    "id",
    "an id no other durable listener has",
    id,
  );
  checkArgument(
    isHandler(handler),
    "handler",
    "a function or an object with a handle method",
    handler,
  );
  checkOptions(options, ["circuitBreaker"], "register");
  const settings = options.circuitBreaker === undefined
    ? fallback
    : readBreaker(options.circuitBreaker, "circuitBreaker");
  const breaker = settings ? new CircuitBreaker(settings) : null;
  return { id, type, definition, handler, breaker };
}

/** The listeners whose breaker is open, as `pausedListeners` lists them. */
export function pausedOf(listeners: Iterable<Listener>): PausedListener[] {
  const paused: PausedListener[] = [];
  for (const { id, breaker } of listeners) {
    const state = breaker?.state();
    if (state) {
      paused.push({
        listenerId: id,
        opens: state.opens,
        resumesAt: new Date(state.resumesAt).toISOString(),
        lastError: state.lastError,
      });
    }
  }
  return paused;
}

/** What a batch needs from its outbox. */
export interface Relay {
  readonly db: PostgresDatabase;
  readonly sql: OutboxStatements;
  readonly settings: OutboxSettings;
  readonly listeners: ReadonlyMap<string, Listener>;
  context(
    tx: SqlQueryable,
    listenerId: string,
    attempt: number,
    event: DomainEvent,
  ): OutboxContext;
}

interface ClaimedRow {
  readonly id: string;
  readonly listener_id: string;
  readonly attempts: number;
  readonly body: string;
}

type Outcome =
  | { readonly kind: "completed" }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "later"; readonly ms: number };

/** Where a retryLater's wish travels from the listener to its run. */
class RetryLater extends Error {
  override name = "RetryLater";
  readonly ms: number;
  constructor(ms: number) {
    super(`retryLater(${ms})`);
    this.ms = ms;
  }
}

/** At most this many publications share a transaction (docs/outbox.md). */
const PER_TRANSACTION = 50;

/** Thrown to roll back a transaction in which nothing succeeded yet. */
const NOTHING_TO_KEEP = {};

/**
 * One batch: claims due publications of the listeners not paused, then runs
 * each listener's share, in `concurrency` parts at once, in transactions of
 * up to {@linkcode PER_TRANSACTION} that lock their rows at their start,
 * each publication under a savepoint, and completes the successes of a
 * transaction in one statement before its commit. A failure rolls back to
 * its savepoint (the whole transaction while nothing succeeded in it yet,
 * the next ones then start another) and is recorded after the transaction. A transaction that cannot commit runs its
 * successes again, one per transaction. One publication's outcome never
 * stops the others: when the database refuses to record one, or no
 * transaction can begin (the rest of that share runs again once its lease
 * ends), the rest still run, and the batch rejects at the end with that error.
 */
export async function runBatch(
  relay: Relay,
  limit: number,
  token: string,
  concurrency: number,
): Promise<ProcessPendingResult> {
  const result = { completed: 0, retried: 0, failed: 0 };
  const now = Date.now();
  const ids = [...relay.listeners.values()]
    .filter(({ breaker }) => !breaker?.paused(now))
    .map(({ id }) => id);
  if (!ids.length) return result;
  const { rows } = await inTransaction(relay.db, async (tx) => {
    await tx.query(relay.sql.planByIndex);
    return await tx.query(relay.sql.claim, [
      limit,
      relay.settings.leaseMs,
      token,
      JSON.stringify(ids),
    ]);
  });
  const claimed = rows as ClaimedRow[];
  const skipped: string[] = [];
  const problems: unknown[] = [];
  let unrecorded = 0;
  // Each listener's share, in up to `concurrency` parts run at once.
  const parts: [Listener, ClaimedRow[]][] = [];
  for (const id of new Set(claimed.map((row) => row.listener_id))) {
    const share = claimed.filter((row) => row.listener_id === id);
    const size = Math.ceil(share.length / concurrency);
    for (let at = 0; at < share.length; at += size) {
      parts.push([relay.listeners.get(id)!, share.slice(at, at + size)]);
    }
  }
  const runPart = async (listener: Listener, queue: ClaimedRow[]) => {
    let most = PER_TRANSACTION;
    while (queue.length) {
      // How each failure is recorded, decided when it happens (the breaker
      // counts it then), run once its transaction is over.
      const failures: [string, unknown[]][] = [];
      const done: ClaimedRow[] = [];
      let taken = 0;
      try {
        const completed = await inTransaction(relay.db, async (tx) => {
          const ids = JSON.stringify(queue.slice(0, most).map((row) => row.id));
          const held = await tx.query(relay.sql.lock, [token, ids]);
          const ours = new Set(held.rows.map((row) => (row as ClaimedRow).id));
          await tx.query("SAVEPOINT outbox");
          for (; queue.length && taken < most; taken++) {
            const row = queue.shift() as ClaimedRow;
            if (!ours.has(row.id)) continue;
            if (listener.breaker?.paused(Date.now())) {
              skipped.push(row.id);
              continue;
            }
            const outcome = await run(listener, relay, tx, row);
            if (outcome.kind === "completed") {
              listener.breaker?.succeeded();
              done.push(row);
            } else {
              failures.push(recording(relay, listener, row, token, outcome));
              if (!done.length) throw NOTHING_TO_KEEP;
              await tx.query("ROLLBACK TO SAVEPOINT outbox");
            }
          }
          if (done.length) {
            const ids = JSON.stringify(done.map((row) => row.id));
            await tx.query(relay.sql.complete, [ids]);
          }
          return done.length;
        });
        // Added once it is known: other parts add theirs meanwhile.
        result.completed += completed;
      } catch (problem) {
        if (done.length > 1) {
          // The transaction could not commit (a deferred constraint, say):
          // its successes run again, one per transaction, so that the one
          // at fault fails alone.
          queue.unshift(...done);
          most = 1;
        } else if (done.length) {
          const error = { kind: "failed", error: problem } as const;
          failures.push(recording(relay, listener, done[0]!, token, error));
        } else if (problem !== NOTHING_TO_KEEP) {
          // No transaction (the database is down), or it broke before any
          // success: the rest of this listener's share waits for its lease.
          problems.push(problem);
          unrecorded += taken + queue.length;
          queue.length = 0;
        }
      }
      for (const [statement, params] of failures) {
        try {
          const { rows } = await relay.db.query(statement, params);
          const status = (rows[0] as { status?: string } | undefined)?.status;
          if (status) result[status === "failed" ? "failed" : "retried"]++;
        } catch (problem) {
          problems.push(problem);
          unrecorded++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let part; (part = parts.shift());) await runPart(...part);
  }));
  if (skipped.length) {
    await relay.db.query(relay.sql.release, [token, JSON.stringify(skipped)]);
  }
  if (problems.length) {
    throw new Error(
      `processPending: the outcome of ${unrecorded} publication(s) could not be recorded; they run again once their lease ends`,
      { cause: problems[0] },
    );
  }
  return result;
}

/**
 * Runs one publication inside `tx`, after its savepoint; never rejects. A
 * success sets the next one's savepoint, nested in its own (a listener that
 * leaves `tx` aborted, having caught a failed statement, fails there).
 */
async function run(
  listener: Listener,
  relay: Relay,
  tx: SqlQueryable,
  row: ClaimedRow,
): Promise<Outcome> {
  let later: RetryLater | undefined;
  try {
    const event = parseEvent(row.body, {
      definition: listener.definition,
      maxLength: row.body.length,
    });
    const context = relay.context(tx, listener.id, row.attempts + 1, event);
    context.retryLater = (ms: number): never => {
      checkArgument(
        Number.isInteger(ms) && ms >= 0 && ms <= MAX_DELAY_MS,
        "retryLater",
        `an integer from 0 to ${MAX_DELAY_MS} (ms)`,
        ms,
      );
      later = new RetryLater(ms);
      throw later;
    };
    const { handler } = listener;
    if (typeof handler === "function") await handler(event, context);
    else await handler.handle(event, context);
    await tx.query("SAVEPOINT outbox");
    return { kind: "completed" };
  } catch (error) {
    // Only the retryLater that ended the run, or the cause of what ended it:
    // one caught inside the listener, followed by another failure, is that
    // failure, charged and recorded.
    return later && (error === later || causeOf(error) === later)
      ? { kind: "later", ms: later.ms }
      : { kind: "failed", error };
  }
}

/** The `cause` of a thrown value, or undefined when reading it throws. */
function causeOf(thrown: unknown): unknown {
  try {
    return (thrown as { cause?: unknown } | null)?.cause;
  } catch {
    return undefined;
  }
}

/** The statement and parameters that record a failure or a retryLater. */
function recording(
  { sql, settings }: Relay,
  listener: Listener,
  row: ClaimedRow,
  token: string,
  outcome: Outcome,
): [string, unknown[]] {
  if (outcome.kind === "later") {
    const note = `retryLater(${outcome.ms}) at attempt ${row.attempts + 1}`;
    return [sql.defer, [row.id, token, outcome.ms, note]];
  }
  const { error } = outcome as { readonly error: unknown };
  const text = errorText(error);
  const attempt = row.attempts + 1;
  const charged = listener.breaker?.failed(row.id, text, Date.now()) ?? true;
  const { delay, note } = retryDelay(settings, attempt);
  // Not charged, and after the next ones: the next trial probes another.
  if (!charged) return [sql.defer, [row.id, token, delay ?? 0, text]];
  const recorded = note
    ? errorText(error, MAX_ERROR_TEXT / 2) +
      storableText(note, MAX_ERROR_TEXT / 2)
    : text;
  return [sql.fail, [row.id, token, recorded, delay, settings.maxAttempts]];
}
