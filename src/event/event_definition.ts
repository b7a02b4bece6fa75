import type { StandardSchemaV1 } from "./standard_schema.ts";
import type {
  CreateEventOptions,
  DeepReadonly,
  DomainEvent,
  JsonObject,
} from "./types.ts";

/**
 * A type guard that accepts valid payloads: `(value: unknown) => value is P`.
 *
 * @typeParam TPayload The payload's shape.
 *
 * @example A hand-written guard
 * ```ts
 * import type { PayloadGuard } from "@seedwork/domain-events";
 *
 * const isInvite: PayloadGuard<{ email: string }> = (value): value is { email: string } =>
 *   typeof (value as { email?: unknown }).email === "string";
 * ```
 */
export type PayloadGuard<TPayload extends JsonObject> = (
  value: unknown,
) => value is TPayload;

/**
 * What validates a payload: a {@linkcode PayloadGuard} or any synchronous
 * Standard Schema v1 (zod, valibot, arktype, ...).
 *
 * @typeParam TPayload The payload's shape: the schema's output.
 * @typeParam TInput What the schema accepts (fields with defaults may be left out).
 *
 * @example A guard as a schema
 * ```ts
 * import type { PayloadSchema } from "@seedwork/domain-events";
 *
 * const schema: PayloadSchema<{ seats: number }> = (value): value is { seats: number } =>
 *   typeof (value as { seats?: unknown }).seats === "number";
 * ```
 */
export type PayloadSchema<TPayload extends JsonObject, TInput = TPayload> =
  | PayloadGuard<TPayload>
  | StandardSchemaV1<TInput, TPayload>;

/**
 * Options for {@linkcode defineEvent}.
 *
 * @typeParam TPayload The payload's shape: the schema's output.
 * @typeParam TInput What the schema accepts.
 *
 * @example With a guard
 * ```ts
 * import { defineEvent, type DefineEventOptions } from "@seedwork/domain-events";
 *
 * const options: DefineEventOptions<{ seats: number }> = {
 *   schema: (value): value is { seats: number } => typeof (value as { seats?: unknown }).seats === "number",
 * };
 * const SeatsChanged = defineEvent("seats.changed", options);
 * ```
 */
export interface DefineEventOptions<
  TPayload extends JsonObject,
  TInput = TPayload,
> {
  /**
   * Validates the payload at `create`, `is` and `parseEvent`. It is given a
   * frozen copy of the payload, and its output becomes the payload; a stored
   * event is validated again when it is read back, so the schema must accept
   * its own output: defaults are fine, a transform that changes a value's
   * type is not, nor one that changes its input in place.
   *
   * @default {no validation}
   */
  schema?: PayloadSchema<TPayload, TInput>;
  /**
   * Makes the `eventId` of events `create` makes without one, e.g.
   * {@linkcode uuidv7}, so that stored events sort by time in an index. What
   * it returns is checked like a given `eventId`.
   *
   * @default {crypto.randomUUID}
   */
  generateEventId?: () => string;
}

/**
 * A typed event definition made by {@linkcode defineEvent}: its type, a
 * factory and a guard. Its functions need no `this`, so they can be passed
 * around on their own.
 *
 * @typeParam TType The event type, a string literal.
 * @typeParam TPayload The payload's shape: what events carry.
 * @typeParam TInput What `create` takes: the schema's input type (where
 *   fields with defaults may be left out), or the payload's shape.
 *
 * @example Usage
 * ```ts
 * import { defineEvent, type EventDefinition } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated: EventDefinition<"invite.created", { email: string }> =
 *   defineEvent<"invite.created", { email: string }>("invite.created");
 * const event = InviteCreated.create({ email: "ada@example.com" });
 * assert(InviteCreated.is(event));
 * ```
 */
export interface EventDefinition<
  TType extends string,
  TPayload extends JsonObject,
  TInput = TPayload,
> {
  /** The event type, as a literal type. */
  readonly type: TType;
  /**
   * Creates an event of this type, validating the payload with the schema
   * first (its output becomes the payload).
   *
   * @throws {InvalidEventError} When the schema refuses the payload, or as {@linkcode createEvent} does.
   */
  readonly create: (
    payload: TInput,
    options?: CreateEventOptions,
  ) => DomainEvent<TType, TPayload>;
  /** Tells whether `value` is an event of this type whose payload the schema accepts. */
  readonly is: (value: unknown) => value is DomainEvent<TType, TPayload>;
}

/**
 * An {@linkcode EventDefinition} made by {@linkcode defineEvent}: it can also
 * read events stored by older definitions, through `upcastFrom`.
 * Definitions written by hand need only be `EventDefinition`s.
 *
 * @typeParam TType The event type, a string literal.
 * @typeParam TPayload The payload's shape.
 * @typeParam TInput What `create` takes (the schema's input).
 *
 * @example Version 2 reads version 1
 * ```ts
 * import { defineEvent, parseEvent, type UpcastableEventDefinition } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreatedV1 = defineEvent("invite.created").withPayload<{ email: string }>();
 * const InviteCreated: UpcastableEventDefinition<"invite.created.v2", { email: string; locale: string }> =
 *   defineEvent("invite.created.v2")
 *     .withPayload<{ email: string; locale: string }>()
 *     .upcastFrom(InviteCreatedV1, (payload) => ({ ...payload, locale: "en" }));
 *
 * const stored = JSON.stringify(InviteCreatedV1.create({ email: "ada@example.com" }));
 * const event = parseEvent(stored, { definition: InviteCreated });
 * assert.equal(event.eventType, "invite.created.v2");
 * assert.equal(event.payload.locale, "en");
 * assert.equal(event.metadata.upcastfrom, "invite.created");
 * ```
 */
export interface UpcastableEventDefinition<
  TType extends string,
  TPayload extends JsonObject,
  TInput = TPayload,
> extends EventDefinition<TType, TPayload, TInput> {
  /**
   * A definition of this same type and schema that also reads events of an
   * older definition's type: `parseEvent`, `fromCloudEvent` and the outbox
   * check the stored payload with `older`, pass it through `upcast`, and
   * check the result with this definition. Chains work: a definition that
   * reads `older` also reads every type `older` reads, step by step. The
   * event keeps its envelope; its metadata's `upcastfrom` records the type
   * it was stored as.
   *
   * @param older The definition of the older type, e.g. `InviteCreatedV1`.
   * @param upcast Makes this definition's input from the older payload.
   * @returns A new definition; this one is unchanged.
   * @throws {TypeError} When `older`'s type is this type, is read already,
   *   or reads this type itself (a cycle).
   */
  readonly upcastFrom: <
    TOlderType extends string,
    TOlderPayload extends JsonObject,
  >(
    // deno-lint-ignore no-explicit-any
    older: EventDefinition<TOlderType, TOlderPayload, any>,
    upcast: (payload: DeepReadonly<TOlderPayload>) => TInput,
  ) => UpcastableEventDefinition<TType, TPayload, TInput>;
}

/**
 * A definition without a schema, as `defineEvent(type)` returns it: its
 * payload is any JSON object until {@linkcode SchemalessEventDefinition.withPayload}
 * names its type.
 *
 * @typeParam TType The event type, a string literal.
 *
 * @example Naming the payload type
 * ```ts
 * import { defineEvent, type EventOf } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const OrderPlaced = defineEvent("order.placed").withPayload<{ orderId: string }>();
 * const event: EventOf<typeof OrderPlaced> = OrderPlaced.create({ orderId: "o-1" });
 * assert.equal(event.payload.orderId, "o-1");
 * ```
 */
export interface SchemalessEventDefinition<TType extends string>
  extends UpcastableEventDefinition<TType, JsonObject> {
  /**
   * This same definition, typed with `TPayload`: nothing is checked at run
   * time but that the payload is JSON.
   */
  readonly withPayload: <
    TPayload extends JsonObject,
  >() => UpcastableEventDefinition<TType, TPayload>;
}

/**
 * The event type a definition creates: `EventOf<typeof OrderPlaced>` is
 * `DomainEvent<"order.placed", { orderId: string }>`.
 *
 * @typeParam TDefinition The definition (`typeof` it).
 *
 * @example Typing a function that takes the event
 * ```ts
 * import { defineEvent, type EventOf } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const OrderPlaced = defineEvent("order.placed").withPayload<{ orderId: string }>();
 * function describe(event: EventOf<typeof OrderPlaced>): string {
 *   return `${event.eventType} ${event.payload.orderId}`;
 * }
 * assert.equal(describe(OrderPlaced.create({ orderId: "o-1" })), "order.placed o-1");
 * ```
 */
export type EventOf<TDefinition> = TDefinition extends
  EventDefinition<infer TType, infer TPayload, never>
  ? DomainEvent<TType, TPayload>
  : never;
