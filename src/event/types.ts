/**
 * A JSON primitive: what `JSON.stringify` writes as a bare value.
 *
 * @example Usage
 * ```ts
 * import type { JsonPrimitive } from "@seedwork/domain-events";
 *
 * const values: JsonPrimitive[] = ["a", 1, true, null];
 * ```
 */
export type JsonPrimitive = string | number | boolean | null;

/**
 * Any JSON value: a primitive, an array or an object.
 *
 * @example Usage
 * ```ts
 * import type { JsonValue } from "@seedwork/domain-events";
 *
 * const value: JsonValue = { items: [1, "two", { three: null }] };
 * ```
 */
export type JsonValue = JsonPrimitive | readonly JsonValue[] | JsonObject;

/**
 * A JSON object: the shape of an event's payload and metadata.
 *
 * Optional properties are allowed; a property whose value is `undefined` is
 * dropped when an event is created.
 *
 * @example Usage
 * ```ts
 * import type { JsonObject } from "@seedwork/domain-events";
 *
 * const payload: JsonObject = { inviteId: "inv_1", seats: 3 };
 * ```
 */
export type JsonObject = { [key: string]: JsonValue | undefined };

/**
 * `T` with `readonly` applied at every level, as events are frozen at every
 * level.
 *
 * @typeParam T The type to make read-only.
 *
 * @example Usage
 * ```ts
 * import type { DeepReadonly } from "@seedwork/domain-events";
 *
 * const order: DeepReadonly<{ lines: { sku: string }[] }> = { lines: [{ sku: "a" }] };
 * // @ts-expect-error: read-only
 * order.lines[0].sku = "b";
 * ```
 */
export type DeepReadonly<T> = T extends // deno-lint-ignore ban-types
string | number | boolean | null | undefined | Function ? T
  : T extends readonly (infer U)[] ? readonly DeepReadonly<U>[]
  : { readonly [K in keyof T]: DeepReadonly<T[K]> };

/**
 * A domain event: a frozen plain object that says what happened, when, and
 * which event caused it.
 *
 * `JSON.stringify(event)` is its serializer and {@linkcode parseEvent} reads
 * it back.
 *
 * @typeParam TType The event type, kept as a string literal.
 * @typeParam TPayload The payload's shape.
 *
 * @example Usage
 * ```ts
 * import { createEvent, type DomainEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const event: DomainEvent<"invite.created", { email: string }> = createEvent(
 *   "invite.created",
 *   { email: "ada@example.com" },
 * );
 * assert.equal(event.payload.email, "ada@example.com");
 * assert.equal(event.causationId, null);
 * ```
 */
export interface DomainEvent<
  TType extends string = string,
  TPayload extends JsonObject = JsonObject,
> {
  /** A UUID, lower-case; `crypto.randomUUID()` unless given. */
  readonly eventId: string;
  /** What happened, e.g. `"invite.created"`: 1 to 256 characters, no whitespace or control characters. */
  readonly eventType: TType;
  /** When it happened, in the exact form of `Date#toISOString()` (UTC). */
  readonly occurredAt: string;
  /** The id shared by every event of one flow; `null` for an event that starts no traced flow. */
  readonly correlationId: string | null;
  /** The `eventId` of the event that caused this one; `null` for a root event. */
  readonly causationId: string | null;
  /** What the event carries, deeply frozen. */
  readonly payload: DeepReadonly<TPayload>;
  /** Data about the event rather than the domain (tenant, actor, trace ids), deeply frozen. */
  readonly metadata: DeepReadonly<JsonObject>;
}

/**
 * Options for {@linkcode createEvent}.
 *
 * @example Usage
 * ```ts
 * import { createEvent, type CreateEventOptions } from "@seedwork/domain-events";
 *
 * const options: CreateEventOptions = { correlationId: "req-42", metadata: { tenant: "acme" } };
 * const event = createEvent("invite.created", { email: "ada@example.com" }, options);
 * ```
 */
export interface CreateEventOptions {
  /**
   * The correlation id; not allowed together with `causedBy`.
   *
   * @default {null}
   */
  correlationId?: string | null;
  /**
   * The causation id; not allowed together with `causedBy`.
   *
   * @default {null}
   */
  causationId?: string | null;
  /**
   * The event that caused this one: sets `causationId` to its `eventId` and
   * `correlationId` to its `correlationId ?? eventId`.
   */
  causedBy?: DomainEvent;
  /**
   * Metadata, copied and deeply frozen.
   *
   * @default {{}}
   */
  metadata?: JsonObject;
  /**
   * The event id, for replays and deterministic tests: any UUID (stored lower-case).
   *
   * @default {crypto.randomUUID()}
   */
  eventId?: string;
  /**
   * When the event happened, for replays and deterministic tests: a valid
   * `Date` (read with the built-in `Date.prototype` methods, so its own
   * `toISOString` or `valueOf` is ignored) or a string in
   * `Date#toISOString()` form.
   *
   * @default {the current time}
   */
  occurredAt?: string | Date;
}
