import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent } from "../event/types.ts";
import { parseEvent } from "../parse/parse_event.ts";
import { checkArgument, checkOptions } from "../_shared/_arguments.ts";
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
import { errorText, MAX_ERROR_TEXT, storableText } from "./_text.ts";
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
    typeof handler === "function" ||
      (typeof handler === "object" && handler !== null &&
        typeof handler.handle === "function"),
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
  | { readonly kind: "completed" | "lost" }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "later"; readonly ms: number };

/** Where a retryLater's wish travels from the listener to its run. */
class RetryLater extends Error {
  override name = "RetryLater";
}

/**
 * One batch: claims due publications of the listeners not paused, runs each
 * in its own transaction and records its outcome. One publication's outcome
 * never stops the others: when the database refuses to record one (it is
 * down, say), the rest still run, and the batch rejects at the end with that
 * error; the publication runs again once its lease ends.
 */
export async function runBatch(
  relay: Relay,
  limit: number,
  token: string,
): Promise<ProcessPendingResult> {
  const result = { completed: 0, retried: 0, failed: 0 };
  const now = Date.now();
  const ids = [...relay.listeners.values()]
    .filter(({ breaker }) => !breaker?.paused(now))
    .map(({ id }) => id);
  if (!ids.length) return result;
  const { rows } = await relay.db.query(relay.sql.claim, [
    limit,
    relay.settings.leaseMs,
    token,
    JSON.stringify(ids),
  ]);
  const skipped: string[] = [];
  const problems: unknown[] = [];
  for (const row of rows as ClaimedRow[]) {
    const listener = relay.listeners.get(row.listener_id) as Listener;
    if (listener.breaker?.paused(Date.now())) {
      skipped.push(row.id);
      continue;
    }
    try {
      const outcome = await run(relay, listener, row, token);
      const counted = await record(relay, listener, row, token, outcome);
      if (counted) result[counted]++;
    } catch (problem) {
      problems.push(problem);
    }
  }
  if (skipped.length) {
    await relay.db.query(relay.sql.release, [token, JSON.stringify(skipped)]);
  }
  if (problems.length) {
    throw new Error(
      `processPending: the outcome of ${problems.length} publication(s) could not be recorded; they run again once their lease ends`,
      { cause: problems[0] },
    );
  }
  return result;
}

async function run(
  relay: Relay,
  listener: Listener,
  row: ClaimedRow,
  token: string,
): Promise<Outcome> {
  let later: number | undefined;
  try {
    const event = parseEvent(row.body, {
      definition: listener.definition,
      maxLength: row.body.length,
    });
    const ran = await inTransaction(relay.db, async (tx) => {
      const held = await tx.query(relay.sql.lock, [row.id, token]);
      if (!held.rows.length) return false;
      const context = relay.context(tx, listener.id, row.attempts + 1, event);
      context.retryLater = (ms: number): never => {
        checkArgument(
          Number.isInteger(ms) && ms >= 0 && ms <= MAX_DELAY_MS,
          "retryLater",
          `an integer from 0 to ${MAX_DELAY_MS} (ms)`,
          ms,
        );
        later = ms;
        throw new RetryLater(`retryLater(${ms})`);
      };
      const { handler } = listener;
      if (typeof handler === "function") await handler(event, context);
      else await handler.handle(event, context);
      await tx.query(relay.sql.complete, [row.id]);
      return true;
    });
    return { kind: ran ? "completed" : "lost" };
  } catch (error) {
    return later === undefined
      ? { kind: "failed", error }
      : { kind: "later", ms: later };
  }
}

/** Records an outcome; returns what it counts as, or undefined (lease lost). */
async function record(
  relay: Relay,
  listener: Listener,
  row: ClaimedRow,
  token: string,
  outcome: Outcome,
): Promise<keyof ProcessPendingResult | undefined> {
  if (outcome.kind === "lost") return undefined;
  if (outcome.kind === "completed") {
    listener.breaker?.succeeded();
    return "completed";
  }
  const status = await statusOf(
    relay.db,
    ...recording(relay, listener, row, token, outcome),
  );
  if (status === undefined) return undefined;
  return status === "failed" ? "failed" : "retried";
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

async function statusOf(
  db: PostgresDatabase,
  statement: string,
  params: unknown[],
): Promise<unknown> {
  const { rows } = await db.query(statement, params);
  return (rows[0] as { status?: unknown } | undefined)?.status;
}
