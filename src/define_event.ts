import { addDefinition } from "./_definition_check.ts";
import { check, envelopeIssues, seal } from "./envelope.ts";
import { InvalidEventError } from "./errors.ts";
import { createEvent } from "./event.ts";
import { describeError, describeValue, formatPath, invalid } from "./json.ts";
import type {
  StandardSchemaV1,
  StandardSchemaV1Props,
  StandardSchemaV1Result,
} from "./standard_schema.ts";
import type { CreateEventOptions, DomainEvent, JsonObject } from "./types.ts";

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
 * @typeParam TPayload The payload's shape.
 *
 * @example A guard as a schema
 * ```ts
 * import type { PayloadSchema } from "@seedwork/domain-events";
 *
 * const schema: PayloadSchema<{ seats: number }> = (value): value is { seats: number } =>
 *   typeof (value as { seats?: unknown }).seats === "number";
 * ```
 */
export type PayloadSchema<TPayload extends JsonObject> =
  | PayloadGuard<TPayload>
  | StandardSchemaV1<unknown, TPayload>;

/**
 * Options for {@linkcode defineEvent}.
 *
 * @typeParam TPayload The payload's shape.
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
export interface DefineEventOptions<TPayload extends JsonObject> {
  /**
   * Validates the payload at `create`, `is` and `parseEvent`. Its output
   * becomes the payload, and a stored event is validated again when it is
   * read back, so the schema must accept its own output: defaults are fine,
   * a transform that changes a value's type is not.
   *
   * @default {no validation}
   */
  schema?: PayloadSchema<TPayload>;
}

/**
 * A typed event definition made by {@linkcode defineEvent}: its type, a
 * factory and a guard. Its functions need no `this`, so they can be passed
 * around on their own.
 *
 * @typeParam TType The event type, a string literal.
 * @typeParam TPayload The payload's shape.
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
    payload: TPayload,
    options?: CreateEventOptions,
  ) => DomainEvent<TType, TPayload>;
  /** Tells whether `value` is an event of this type whose payload the schema accepts. */
  readonly is: (value: unknown) => value is DomainEvent<TType, TPayload>;
}

/**
 * Defines an event type once, with its payload type and an optional schema,
 * so that creating, guarding, parsing and handling it are typed end to end.
 *
 * Without a schema, give the payload type as the second type argument; with
 * one, it is inferred from the schema.
 *
 * @typeParam TType The event type, kept as a string literal.
 * @typeParam TPayload The payload's shape.
 * @param type The event type, e.g. `"invite.created"`.
 * @param options The payload schema: a type guard or any Standard Schema v1.
 * @returns The frozen definition.
 * @throws {InvalidEventError} When the type or the schema is not valid.
 *
 * @example With a type guard as the schema
 * ```ts
 * import { defineEvent, InvalidEventError } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent("invite.created", {
 *   schema: (value): value is { email: string } =>
 *     typeof (value as { email?: unknown }).email === "string",
 * });
 *
 * const event = InviteCreated.create({ email: "ada@example.com" });
 * assert.equal(event.eventType, "invite.created");
 * assert(InviteCreated.is(event));
 * const wrong = { email: 42 };
 * // @ts-expect-error: the payload does not match the schema
 * assert.throws(() => InviteCreated.create(wrong), InvalidEventError);
 * ```
 *
 * @example Type only
 * ```ts
 * import { defineEvent } from "@seedwork/domain-events";
 *
 * const InviteAccepted = defineEvent<"invite.accepted", { inviteId: string }>("invite.accepted");
 * const event = InviteAccepted.create({ inviteId: "inv_1" });
 * ```
 */
export function defineEvent<
  TType extends string,
  TPayload extends JsonObject = JsonObject,
>(
  type: TType,
  options?: DefineEventOptions<TPayload>,
): EventDefinition<TType, TPayload> {
  check("eventType", type, undefined, "type");
  const schema = options?.schema;
  // A type guard works as a Standard Schema whose output is its input. Some
  // Standard Schemas (arktype's) are callable too: `~standard` comes first.
  const standard:
    | Pick<StandardSchemaV1Props<unknown, TPayload>, "version" | "validate">
    | undefined = typeof schema == "function" && !("~standard" in schema)
      ? {
        version: 1,
        validate: (payload: unknown) =>
          schema(payload) ? { value: payload as TPayload } : { issues: [] },
      }
      // deno-lint-ignore no-explicit-any
      : (schema as any)?.["~standard"];
  if (
    schema !== undefined &&
    (standard?.version !== 1 || typeof standard.validate != "function")
  ) {
    throw invalid(
      "options.schema",
      "a type guard or a Standard Schema v1",
      describeValue(schema),
    );
  }
  const name = `the "${type}" schema`;
  const validate = (payload: unknown): TPayload => {
    if (!standard) return payload as TPayload;
    let result;
    try {
      result = standard.validate(payload);
    } catch (error) {
      throw invalid(
        "payload",
        name + " to return",
        "a throw: " + describeError(error),
        { cause: error },
      );
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then == "function") {
      // Refused, so its rejection is nobody's to handle.
      Promise.resolve(result).catch(() => {});
      throw invalid(
        "payload",
        name + " to validate synchronously",
        "a Promise",
      );
    }
    // Any object: arktype's failure result is an array (of its issues).
    if (typeof result != "object" || !result) {
      throw invalid(
        "payload",
        name + " to return a result",
        describeValue(result),
      );
    }
    const { issues } = result as StandardSchemaV1Result<TPayload>;
    if (!issues) return (result as { value: TPayload }).value;
    throw issues.length
      ? new InvalidEventError(
        issues.map((issue) => ({
          path: formatPath("payload", issue.path ?? []),
          message: issue.message,
        })),
      )
      : invalid("payload", `a payload ${name} accepts`, describeValue(payload));
  };
  const definition: EventDefinition<TType, TPayload> = Object.freeze({
    type,
    create: (payload: TPayload, createOptions?: CreateEventOptions) =>
      seal(createEvent(type, validate(payload), createOptions), definition),
    is: (value: unknown): value is DomainEvent<TType, TPayload> => {
      // Never throws: a hostile value or a throwing schema is just "no".
      try {
        if (
          envelopeIssues(value).length ||
          (value as DomainEvent).eventType !== type
        ) return false;
        validate((value as DomainEvent).payload);
        return true;
      } catch {
        return false;
      }
    },
  });
  addDefinition(definition, validate);
  return definition;
}
