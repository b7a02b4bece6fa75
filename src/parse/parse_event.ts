import { readEvent, readOptions } from "../_shared/_read_event.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import type { DomainEvent } from "../event/types.ts";

/**
 * Options for {@linkcode parseEvent}.
 *
 * @typeParam TDefinition The definition the event must match, or the
 *   union of the definitions it may match.
 *
 * @example Usage
 * ```ts
 * import type { ParseEventOptions } from "@seedwork/domain-events";
 *
 * const options: ParseEventOptions = { maxDepth: 16, maxLength: 64 * 1024 };
 * ```
 */
export interface ParseEventOptions<
  // deno-lint-ignore no-explicit-any
  TDefinition extends EventDefinition<string, any, any> | undefined = undefined,
> {
  /** When given, the event's type must be the definition's, and its schema must accept the payload. */
  definition?: TDefinition;
  /**
   * When given, the event's type must be one of these definitions' types
   * (each type at most once), and that definition's schema must accept the
   * payload. Not together with `definition`.
   */
  // deno-lint-ignore no-explicit-any
  definitions?: readonly (TDefinition & EventDefinition<string, any, any>)[];
  /**
   * How deep the payload and metadata may nest. With a `definition`, the
   * event is then made by its `create`, which applies the default of 64
   * again: a larger value has no effect there.
   *
   * @default {64}
   */
  maxDepth?: number;
  /**
   * The longest input read, in characters: the JSON string's length, and,
   * for the payload and the metadata each, the JSON text `JSON.stringify`
   * would write for them (escapes included). Never more than 268,369,920.
   *
   * @default {1048576}
   */
  maxLength?: number;
}

/**
 * The event type {@linkcode parseEvent} returns for a given definition
 * (for a union of definitions, the union of their events).
 *
 * @typeParam TDefinition The definition, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { defineEvent, type ParsedEvent } from "@seedwork/domain-events";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * type Parsed = ParsedEvent<typeof InviteCreated>; // DomainEvent<"invite.created", { email: string }>
 * ```
 */
export type ParsedEvent<
  // deno-lint-ignore no-explicit-any
  TDefinition extends EventDefinition<string, any, any> | undefined,
> = TDefinition extends // deno-lint-ignore no-explicit-any
EventDefinition<infer TType, infer TPayload, any> ? DomainEvent<TType, TPayload>
  : DomainEvent;

/**
 * Reads an event back from JSON (a string) or from an already parsed value,
 * checking every field and the whole payload, and returns a new frozen
 * event. Unknown top-level fields are ignored. Made for untrusted input:
 * whatever it is given, it returns an event or throws
 * {@linkcode InvalidEventError}.
 *
 * @typeParam TDefinition The definition the event must match, if any.
 * @param input A JSON string, or a value such as `JSON.parse` returns.
 * @param options A definition to match (or a list to pick one from by type), and the depth and length limits.
 * @returns The validated, frozen event.
 * @throws {InvalidEventError} When the input is not a valid event, naming each problem's path; or when the options are not an object, cannot be read, or give a limit that is not a number.
 * @throws {TypeError} When `definitions` is not an array of definitions of different types, or is given together with `definition`.
 *
 * @example Round-trip through JSON
 * ```ts
 * import { createEvent, parseEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const event = createEvent("invite.created", { email: "ada@example.com" });
 * const copy = parseEvent(JSON.stringify(event));
 * assert.deepEqual(copy, event);
 * ```
 *
 * @example Checking against a definition
 * ```ts
 * import { defineEvent, InvalidEventError, parseEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent("invite.created", {
 *   schema: (value): value is { email: string } =>
 *     typeof (value as { email?: unknown }).email === "string",
 * });
 * const json = JSON.stringify(InviteCreated.create({ email: "ada@example.com" }));
 * const event = parseEvent(json, { definition: InviteCreated });
 * assert.equal(event.payload.email, "ada@example.com");
 *
 * const wrong = json.replace('"ada@example.com"', "42");
 * assert.throws(() => parseEvent(wrong, { definition: InviteCreated }), InvalidEventError);
 * ```
 *
 * @example Picking the definition by type
 * ```ts
 * import { createEvent, defineEvent, InvalidEventError, parseEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const OrderPlaced = defineEvent("order.placed").withPayload<{ orderId: string }>();
 * const OrderPaid = defineEvent("order.paid").withPayload<{ amount: number }>();
 * const definitions = [OrderPlaced, OrderPaid];
 *
 * const event = parseEvent(JSON.stringify(OrderPaid.create({ amount: 12 })), { definitions });
 * if (event.eventType === "order.paid") assert.equal(event.payload.amount, 12);
 *
 * const other = JSON.stringify(createEvent("order.cancelled"));
 * assert.throws(() => parseEvent(other, { definitions }), InvalidEventError);
 * ```
 */
export function parseEvent<
  // deno-lint-ignore no-explicit-any
  TDefinition extends EventDefinition<string, any, any> | undefined = undefined,
>(
  input: unknown,
  options?: ParseEventOptions<TDefinition>,
): ParsedEvent<TDefinition> {
  return readEvent(input, readOptions(options, "parseEvent")) as ParsedEvent<
    TDefinition
  >;
}
