import { buildEvent } from "./_build_event.ts";
import { addDefinition } from "../_shared/_definition_check.ts";
import {
  extendTable,
  setUpcastTable,
  type UpcastTable,
} from "../_shared/_upcasts.ts";
import { checkField, envelopeIssues, seal } from "../_shared/_envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import { formatPath, invalid, issue, unreadable } from "../_shared/_issues.ts";
import { copyJsonObject, EMPTY_OBJECT } from "../_shared/_json.ts";
import { describeError, describeValue } from "../_shared/_messages.ts";
import type {
  StandardSchemaV1,
  StandardSchemaV1Props,
} from "./standard_schema.ts";
import type { CreateEventOptions } from "./create_event.ts";
import type { DeepReadonly, DomainEvent, JsonObject } from "./types.ts";

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

/**
 * Defines an event type without a schema: name its payload type with
 * `.withPayload<P>()`, or leave it any JSON object.
 *
 * @typeParam TType The event type, kept as a string literal.
 * @param type The event type, e.g. `"order.placed"`.
 * @returns The frozen definition, with `withPayload`.
 * @throws {InvalidEventError} When the type is not valid.
 *
 * @example The type named once
 * ```ts
 * import { defineEvent } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const OrderPlaced = defineEvent("order.placed").withPayload<{ orderId: string }>();
 * assert.equal(OrderPlaced.create({ orderId: "o-1" }).payload.orderId, "o-1");
 * ```
 */
export function defineEvent<TType extends string>(
  type: TType,
): SchemalessEventDefinition<TType>;
/**
 * Defines an event type once, with its payload type and an optional schema,
 * so that creating, guarding, parsing and handling it are typed end to end.
 *
 * With a schema, the payload type is inferred from it: events carry the
 * schema's output type and `create` takes its input type (so fields with
 * defaults may be left out; a schema whose input type is `unknown` takes
 * the output type). Without one, give the payload type as the
 * second type argument, or use `defineEvent(type).withPayload<P>()`.
 *
 * @typeParam TType The event type, kept as a string literal.
 * @typeParam TPayload The payload's shape: the schema's output.
 * @typeParam TInput What `create` takes: the schema's input.
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
  TInput = TPayload,
>(
  type: TType,
  options?: DefineEventOptions<TPayload, TInput>,
): UpcastableEventDefinition<
  TType,
  TPayload,
  unknown extends TInput ? TPayload : TInput
>;
export function defineEvent(
  type: string,
  options?: DefineEventOptions<JsonObject, unknown>,
): SchemalessEventDefinition<string> {
  checkField("eventType", type, undefined, "type");
  const name = `the "${type}" schema`;
  const validate = readSchema(options, name);
  /** The payload copied, checked by the schema, and its output copied. */
  const accept = (payload: unknown): JsonObject => {
    const copy = payload === undefined
      ? EMPTY_OBJECT
      : copyJsonObject(payload, "payload");
    if (!validate) return copy;
    const output = readResult(validate(copy), name, copy);
    return output === copy ? copy : copyJsonObject(output, "payload");
  };
  const payloadCheck = (payload: unknown): void => {
    if (validate) readResult(validate(payload as JsonObject), name, payload);
  };
  let generateEventId;
  try {
    generateEventId = options?.generateEventId;
  } catch (error) {
    throw unreadable(error, "options.generateEventId");
  }
  if (generateEventId !== undefined && typeof generateEventId != "function") {
    throw new TypeError(
      `generateEventId: expected a function, got ${
        describeValue(generateEventId)
      }`,
    );
  }
  const build = (payload: unknown, createOptions?: CreateEventOptions) =>
    buildEvent(type, accept(payload), createOptions, generateEventId);
  return makeDefinition(type, build, payloadCheck, new Map());
}

/** A frozen definition of `type` that reads the older types of `upcasts`. */
function makeDefinition(
  type: string,
  build: (payload: unknown, options?: CreateEventOptions) => DomainEvent,
  payloadCheck: (payload: unknown) => void,
  upcasts: UpcastTable,
): SchemalessEventDefinition<string> {
  const definition: SchemalessEventDefinition<string> = Object.freeze({
    type,
    create: (payload: unknown, createOptions?: CreateEventOptions) =>
      seal(build(payload, createOptions), definition),
    is: (value: unknown): value is DomainEvent => {
      // Never throws: a hostile value or a throwing schema is just "no".
      try {
        if (
          envelopeIssues(value).length ||
          (value as DomainEvent).eventType !== type
        ) return false;
        payloadCheck((value as DomainEvent).payload);
        return true;
      } catch {
        return false;
      }
    },
    // Types only: the same definition.
    withPayload: <TPayload extends JsonObject>() =>
      definition as unknown as UpcastableEventDefinition<string, TPayload>,
    upcastFrom: (older: unknown, upcast: unknown) =>
      makeDefinition(
        type,
        build,
        payloadCheck,
        extendTable(type, upcasts, older, upcast),
      ),
  });
  setUpcastTable(definition, upcasts);
  // How the dispatcher checks an event this definition did not make.
  addDefinition(definition, payloadCheck);
  return definition;
}

/**
 * The schema of `options` as one function, read once: a type guard works as
 * a Standard Schema whose output is its input. Some Standard Schemas
 * (arktype's) are callable too: `~standard` comes first. The function's
 * throw is an InvalidEventError; its result is returned as it is.
 */
function readSchema(
  options: DefineEventOptions<JsonObject, unknown> | undefined,
  name: string,
): ((payload: JsonObject) => unknown) | undefined {
  let schema;
  let standard: StandardSchemaV1Props | undefined;
  let validate;
  try {
    schema = options?.schema;
    if (typeof schema == "function" && !("~standard" in schema)) {
      const guard = schema;
      validate = (payload: unknown) =>
        guard(payload) ? { value: payload } : { issues: [] };
    } else if (schema !== undefined) {
      standard = (schema as StandardSchemaV1)?.["~standard"];
      validate = standard?.validate;
      if (standard?.version !== 1) validate = undefined;
    }
  } catch (error) {
    throw unreadable(error, "options.schema");
  }
  if (schema === undefined) return undefined;
  if (typeof validate != "function") {
    throw invalid(
      "options.schema",
      "a type guard or a Standard Schema v1",
      describeValue(schema),
    );
  }
  const run = validate;
  return (payload) => {
    try {
      return run.call(standard, payload);
    } catch (error) {
      throw invalid(
        "payload",
        name + " to return",
        "a throw: " + describeError(error),
        { cause: error },
      );
    }
  };
}

/**
 * The value a Standard Schema's `result` holds.
 *
 * @throws {InvalidEventError} With the schema's issues; or, when `result` is
 * a Promise or not a Standard Schema result (reading it included), one that
 * says so.
 */
function readResult(result: unknown, name: string, payload: unknown): unknown {
  const malformed = (got: string, cause?: unknown) =>
    invalid("payload", name + " to return a result", got, { cause });
  if (typeof result != "object" || !result) {
    throw malformed(describeValue(result));
  }
  let issues: EventIssue[] | undefined;
  try {
    const { then, issues: found } = result as Record<string, unknown>;
    if (typeof then == "function") {
      // Refused, so its rejection is nobody's to handle.
      Promise.resolve(result).catch(() => {});
      issues = [
        issue("payload", name + " to validate synchronously", "a Promise"),
      ];
    } else if (Array.isArray(found)) issues = Array.from(found, readIssue);
    else if (found === undefined && "value" in result) {
      return (result as { value: unknown }).value;
    }
  } catch (error) {
    throw malformed("an invalid result", error);
  }
  if (!issues) throw malformed("an invalid result");
  throw issues.length
    ? new InvalidEventError(issues)
    : invalid("payload", `a payload ${name} accepts`, describeValue(payload));
}

/**
 * One Standard Schema issue, its path under `payload`.
 *
 * @throws {TypeError} Unless it has a string `message` and, if any, a `path`
 * that is an array of keys or of objects holding one.
 */
function readIssue(found: unknown): EventIssue {
  const { message, path = [] } = found as Record<string, unknown>;
  const keys = Array.isArray(path)
    ? Array.from(path, (segment) => segment?.key ?? segment)
    : [null];
  if (
    typeof message != "string" ||
    !keys.every((key) => ["string", "number", "symbol"].includes(typeof key))
  ) throw new TypeError("not a Standard Schema issue");
  return { path: formatPath("payload", keys), message };
}
