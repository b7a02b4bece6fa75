// How a relay wakes on commit: `store` sends a NOTIFY on the outbox's channel
// inside the caller's transaction (PostgreSQL delivers it at commit), and
// each relay loop LISTENs on a connection of its own. Polling stays the
// fallback: a notification can be lost (the listening connection drops), and
// retries fall due without one.
import type { PostgresDatabase } from "./database.ts";
import type { ProcessPendingResult } from "./outbox_types.ts";
import { sleep } from "../_shared/_sleep.ts";

/** The shape of a `pg` client that can LISTEN (pg's Client is an EventEmitter). */
interface ListeningClient {
  query(text: string): Promise<unknown>;
  release(error?: Error | boolean): void;
  on(event: string, listener: (value: unknown) => void): unknown;
  off(event: string, listener: (value: unknown) => void): unknown;
}

/** PGlite's `listen`: resolves with the function that stops listening. */
interface PGliteListen {
  listen(
    channel: string,
    callback: (payload: string) => void,
  ): Promise<() => Promise<void>>;
}

/** What `start` runs with, its options checked. */
interface LoopOptions {
  readonly signal: AbortSignal;
  readonly intervalMs: number;
  readonly limit: number;
  readonly onError: ((error: unknown) => void) | undefined;
}

/** The first pause before listening again after a lost connection; it doubles up to 30 s. */
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 30_000;
/** How long stopping waits for UNLISTEN before dropping the client. */
const UNLISTEN_MS = 1000;

/**
 * The loop of `start`: a batch, at once another after a full one, otherwise
 * a pause of `intervalMs` that a NOTIFY on the channel named after the
 * publications table ends early, until `signal` aborts. A failed batch goes
 * to `onError`, or rejects without it.
 *
 * It listens meanwhile: on PGlite through its `listen`, on a `pg` Pool on one
 * client of its own, connecting again (with a growing pause) whenever that
 * client is lost. Listening problems go to `onError`; the loop polls
 * meanwhile. A database with neither shape (an adapter without events) is
 * only polled.
 */
export async function relayLoop(
  db: PostgresDatabase,
  tables: { readonly publications: string },
  options: LoopOptions,
  outbox: {
    processPending(options: { limit: number }): Promise<ProcessPendingResult>;
  },
): Promise<void> {
  const { signal, intervalMs, limit, onError } = options;
  const channel = tables.publications;
  const report = onError ?? (() => {});
  // Aborted by a notification (or by `signal`): the pause under way ends,
  // and the next one, until it is renewed, ends at once.
  let nap = new AbortController();
  const wake = () => nap.abort();
  const closing = new AbortController();
  // Only an onError that throws rejects it: the next pause throws that, so
  // `start` ends with it (as after a failed batch) instead of leaving a
  // rejection nobody awaits.
  let failure: { error: unknown } | undefined;
  const listening =
    ("transaction" in db
      ? listenOnPGlite(db, channel, wake, closing.signal, report)
      : listenOnPool(db, channel, wake, closing.signal, report)).catch(
        (error) => {
          failure = { error };
          wake();
        },
      );
  try {
    while (!signal.aborted) {
      let full = false;
      try {
        const { completed, retried, failed } = await outbox.processPending({
          limit,
        });
        full = completed + retried + failed >= limit;
      } catch (error) {
        if (!onError) throw error;
        onError(error);
      }
      if (full) continue;
      if (!signal.aborted) {
        signal.addEventListener("abort", wake);
        await sleep(intervalMs, nap.signal);
        signal.removeEventListener("abort", wake);
      }
      nap = new AbortController();
      if (failure) throw failure.error;
    }
  } finally {
    closing.abort();
    await listening;
  }
}

async function listenOnPGlite(
  db: object,
  channel: string,
  wake: () => void,
  closing: AbortSignal,
  report: (error: unknown) => void,
): Promise<void> {
  if (typeof (db as Partial<PGliteListen>).listen !== "function") return;
  try {
    const stop = await (db as PGliteListen).listen(channel, wake);
    // Whatever was stored before LISTEN took effect is due now.
    wake();
    await sleep(2 ** 31 - 1, closing); // until the loop ends
    await stop();
  } catch (error) {
    report(error);
  }
}

async function listenOnPool(
  pool: { connect(): Promise<object> },
  channel: string,
  wake: () => void,
  closing: AbortSignal,
  report: (error: unknown) => void,
): Promise<void> {
  let pause = FIRST_RETRY_MS;
  while (!closing.aborted) {
    // Settles once: with the error when the connection is lost, undefined
    // when the relay closes (also while connecting). Nothing outlives this
    // connection (a timer or an abort listener per reconnect would pile up
    // on a flaky network).
    let settle!: (outcome: { error: unknown } | undefined) => void;
    let end!: () => void;
    const settled = new Promise<{ error: unknown } | undefined>((resolve) =>
      settle = resolve
    );
    const onClose = () => settle(undefined);
    closing.addEventListener("abort", onClose);
    let client: ListeningClient | undefined;
    const connecting = pool.connect() as Promise<ListeningClient>;
    try {
      client = await Promise.race([connecting, settled as Promise<undefined>]);
    } catch (error) {
      closing.removeEventListener("abort", onClose);
      report(error);
      await sleep(pause, closing);
      pause = Math.min(pause * 2, LAST_RETRY_MS);
      continue;
    }
    if (!client) {
      // Stopped while an exhausted pool had no client to give: stopping
      // waits no longer, and the client the pool gives later goes back.
      connecting.then((late) => late.release(), () => {});
      return;
    }
    if (typeof client.on !== "function" || typeof client.off !== "function") {
      client.release();
      return;
    }
    const ended = new Promise<void>((resolve) => end = resolve);
    const onLost = (error: unknown) =>
      settle({ error: error ?? new Error("the listening connection ended") });
    const onEnd = () => {
      end();
      onLost(undefined);
    };
    const onNotification = (message: unknown) => {
      if ((message as { channel?: unknown }).channel === channel) wake();
    };
    // pg emits "error" on a checked-out client whose connection breaks; an
    // EventEmitter without a listener would throw it at the process.
    client.on("error", onLost);
    client.on("end", onEnd);
    client.on("notification", onNotification);
    let listened = Infinity;
    try {
      await client.query(`LISTEN ${channel}`);
      listened = Date.now();
      // Whatever was stored while nobody listened is due now.
      wake();
    } catch (error) {
      onLost(error);
    }
    const outcome = await settled;
    closing.removeEventListener("abort", onClose);
    // The pause starts again from 250 ms only after a connection that stayed
    // up at least as long as the pause before it: one a server or proxy
    // drops right after LISTEN keeps the pause doubling.
    if (Date.now() - listened >= pause) pause = FIRST_RETRY_MS;
    client.off("notification", onNotification);
    if (outcome) {
      report(
        new Error(
          `outbox: lost the connection listening on ${channel}; polling until it is back`,
          { cause: outcome.error },
        ),
      );
      // A broken pg client may emit "error" again until it has ended; given
      // back before that, the pool would emit those errors at the process.
      await Promise.race([ended, sleep(1000, closing)]);
      client.release(outcome.error as Error);
      await sleep(pause, closing);
      pause = Math.min(pause * 2, LAST_RETRY_MS);
      continue;
    }
    // On a connection cut without a reset, UNLISTEN gets no answer until
    // TCP gives up (minutes): the relay would not stop. Past a second, the
    // client is dropped instead.
    const patience = new AbortController();
    const problem = await Promise.race([
      client.query(`UNLISTEN ${channel}`).then(
        () => undefined,
        (error) => error as Error,
      ),
      sleep(UNLISTEN_MS, patience.signal).then(() =>
        new Error(`UNLISTEN ${channel}: no answer in ${UNLISTEN_MS} ms`)
      ),
    ]);
    patience.abort();
    client.release(problem);
    client.off("error", onLost);
    client.off("end", onEnd);
    return;
  }
}
