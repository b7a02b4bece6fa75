import {
  type AnyEventDefinition,
  isEventDefinition,
} from "../_shared/_event_definition.ts";
import { checkGenerateEventId } from "../_shared/_generate_event_id.ts";
import { UUID_PATTERN } from "../_shared/_uuid.ts";
import {
  checkArgument,
  checkInteger,
  checkOptions,
} from "../_shared/_arguments.ts";
import { describeValue } from "../_shared/_messages.ts";
import type { DomainEvent } from "../event/types.ts";
import { checkTablePrefix } from "./_sql.ts";
import { errorText, isUnstorable } from "../_shared/_text.ts";
import type { CircuitBreakerOptions } from "./listener_types.ts";
import type {
  PostgresOutboxOptions,
  ResubmitFilter,
  StartOptions,
} from "./outbox_types.ts";

/** The longest delay or pause, in ms: what a 32-bit timer and interval hold. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** A circuit breaker's options, checked. */
export interface BreakerSettings {
  readonly threshold: number;
  readonly pauseMs: number | ((opens: number) => number);
}

/** The options of a {@linkcode PostgresOutbox}, checked, defaults applied. */
export interface OutboxSettings {
  readonly tablePrefix: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly retryDelayMs: number | ((attempt: number) => number);
  readonly generateEventId: (() => string) | undefined;
  readonly circuitBreaker: BreakerSettings | null;
  readonly orderingKey: ((event: DomainEvent) => string | null) | undefined;
  readonly preparedStatements: boolean;
}

const OPTION_NAMES = [
  "tablePrefix",
  "maxAttempts",
  "leaseMs",
  "retryDelayMs",
  "generateEventId",
  "circuitBreaker",
  "orderingKey",
  "preparedStatements",
];

/** The default pause of a breaker: 5 s, doubling at each opening, up to 5 min. */
export function defaultPause(opens: number): number {
  return Math.min(5_000 * 2 ** (opens - 1), 300_000);
}

/** The default retry delay: doubles from 1 s up to 5 min, with jitter. */
export function defaultRetryDelay(attempt: number): number {
  const ceiling = Math.min(300_000, 1000 * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Checks the outbox's options: a TypeError names the first one out of range. */
export function readOutboxOptions(options: unknown): OutboxSettings {
  checkOptions(options, OPTION_NAMES, "PostgresOutbox");
  const {
    tablePrefix = "outbox_",
    maxAttempts = 5,
    leaseMs = 60_000,
    retryDelayMs = defaultRetryDelay,
    generateEventId,
    circuitBreaker = {},
    orderingKey,
    preparedStatements = true,
  } = options as PostgresOutboxOptions;
  checkGenerateEventId(generateEventId);
  checkArgument(
    orderingKey === undefined || typeof orderingKey === "function",
    "orderingKey",
    "a function of the event returning a string or null",
    orderingKey,
  );
  checkArgument(
    typeof preparedStatements == "boolean",
    "preparedStatements",
    "true or false",
    preparedStatements,
  );
  checkArgument(
    typeof retryDelayMs === "function" || isDelay(retryDelayMs),
    "retryDelayMs",
    `a number from 0 to ${MAX_DELAY_MS} or a function`,
    retryDelayMs,
  );
  return {
    tablePrefix: checkTablePrefix(tablePrefix),
    maxAttempts: checkInteger(maxAttempts, "maxAttempts", 1, 2 ** 31 - 1),
    leaseMs: checkInteger(leaseMs, "leaseMs", 1, MAX_DELAY_MS),
    retryDelayMs,
    generateEventId,
    circuitBreaker: readBreaker(circuitBreaker, "circuitBreaker"),
    orderingKey,
    preparedStatements,
  };
}

/** Checks a `circuitBreaker` option: `false`, or `{ threshold, pauseMs }`. */
export function readBreaker(
  value: unknown,
  name: string,
): BreakerSettings | null {
  if (value === false) return null;
  checkOptions(value, ["threshold", "pauseMs"], name);
  const { threshold = 5, pauseMs = defaultPause } =
    value as CircuitBreakerOptions;
  checkArgument(
    typeof pauseMs === "function" || isDelay(pauseMs),
    `${name}.pauseMs`,
    `a number from 0 to ${MAX_DELAY_MS} or a function of the openings`,
    pauseMs,
  );
  return {
    threshold: checkInteger(threshold, `${name}.threshold`, 1, 1_000_000),
    pauseMs,
  };
}

/** Whether `value` is a number of ms from 0 to {@linkcode MAX_DELAY_MS}. */
export function isDelay(value: unknown): value is number {
  return typeof value === "number" && value >= 0 && value <= MAX_DELAY_MS;
}

/**
 * The delay before the run after failed attempt `attempt`, or `null` with
 * the reason to fail now: at `maxAttempts`, or when a `retryDelayMs`
 * function throws or returns anything but a finite number >= 0. A finite
 * number above {@linkcode MAX_DELAY_MS} is capped to it.
 */
export function retryDelay(
  settings: OutboxSettings,
  attempt: number,
): { readonly delay: number | null; readonly note: string } {
  const { retryDelayMs } = settings;
  if (attempt >= settings.maxAttempts) return { delay: null, note: "" };
  if (typeof retryDelayMs === "number") {
    return { delay: retryDelayMs, note: "" };
  }
  let delay: unknown;
  try {
    delay = retryDelayMs(attempt);
  } catch (error) {
    return {
      delay: null,
      note: `\n(failed at once: retryDelayMs threw ${errorText(error, 2048)})`,
    };
  }
  if (typeof delay !== "number" || !(delay >= 0) || delay === Infinity) {
    return {
      delay: null,
      note: `\n(failed at once: retryDelayMs returned ${
        describeValue(delay)
      }, expected a finite number >= 0)`,
    };
  }
  return { delay: Math.min(delay, MAX_DELAY_MS), note: "" };
}

/** Checks a listener id: 1 to 128 characters PostgreSQL can store. */
export function checkListenerId(id: unknown, name: string): void {
  checkArgument(
    typeof id == "string" && id.length >= 1 && id.length <= 128 &&
      !isUnstorable(id),
    name,
    "a listener id of 1 to 128 characters, without NUL or lone surrogates",
    id,
  );
}

/** Checks that `value` is a Date holding a time. */
export function checkDate(value: unknown, name: string): void {
  checkArgument(
    value instanceof Date && !Number.isNaN(value.getTime()),
    name,
    "a valid Date (not an Invalid Date)",
    value,
  );
}

/** The event type `register` was given, and the definition if it was one. */
export function registeredType(
  given: unknown,
): { type: string; definition: AnyEventDefinition | undefined } {
  const definition = isEventDefinition(given) ? given : undefined;
  const type = definition ? definition.type : given;
  checkArgument(
    typeof type === "string" && type.length >= 1 && type.length <= 256,
    "register",
    "an event definition or type (1 to 256 characters)",
    given,
  );
  return { type: type as string, definition };
}

/** The options of `start`, checked, defaults applied. */
export function readStartOptions(options: unknown):
  & Required<
    Omit<StartOptions, "onError">
  >
  & { onError: StartOptions["onError"] } {
  checkOptions(
    options,
    ["signal", "intervalMs", "limit", "concurrency", "onError"],
    "start",
  );
  const { signal, intervalMs = 1000, limit = 100, concurrency, onError } =
    options as StartOptions;
  checkArgument(
    signal instanceof AbortSignal,
    "signal",
    "an AbortSignal",
    signal,
  );
  checkArgument(
    onError === undefined || typeof onError === "function",
    "onError",
    "a function",
    onError,
  );
  return {
    signal,
    intervalMs: checkInteger(intervalMs, "intervalMs", 0, MAX_DELAY_MS),
    limit: checkInteger(limit, "limit", 1, 10_000),
    concurrency: checkConcurrency(concurrency),
    onError,
  };
}

/** A `concurrency` option: 1 to 100 transactions at once, 1 by default. */
export function checkConcurrency(concurrency: unknown = 1): number {
  return checkInteger(concurrency, "concurrency", 1, 100);
}

/** PostgreSQL's largest bigint: no publication id is past it. */
const MAX_BIGINT = 2n ** 63n - 1n;

/** The filter of `resubmit`, checked, as its statement's parameters. */
export function readResubmitFilter(filter: unknown): (string | null)[] {
  checkOptions(filter, ["listenerId", "eventId", "id"], "resubmit");
  const { listenerId, eventId, id } = filter as ResubmitFilter;
  if (listenerId !== undefined) checkListenerId(listenerId, "listenerId");
  checkArgument(
    eventId === undefined ||
      (typeof eventId === "string" && UUID_PATTERN.test(eventId)),
    "eventId",
    "a UUID",
    eventId,
  );
  checkArgument(
    id === undefined ||
      (typeof id === "string" && /^[1-9]\d{0,18}$/.test(id) &&
        BigInt(id) <= MAX_BIGINT),
    "id",
    "a publication id (digits)",
    id,
  );
  return [listenerId ?? null, eventId ?? null, id ?? null];
}
