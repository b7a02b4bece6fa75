import { buildEvent } from "./_build_event.ts";
import { addDefinition } from "../_shared/_definition_check.ts";
import { checkGenerateEventId } from "../_shared/_generate_event_id.ts";
import {
  extendTable,
  setUpcastTable,
  type UpcastTable,
} from "../_shared/_upcasts.ts";
import { checkField, envelopeIssues, seal } from "../_shared/_envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import { formatPath, invalid, issue, unreadable } from "../_shared/_issues.ts";
import { EMPTY_OBJECT } from "../_shared/_json.ts";
import { copyJsonObject } from "../_shared/_json_copy.ts";
import { describeError, describeValue } from "../_shared/_messages.ts";
import type {
  StandardSchemaV1,
  StandardSchemaV1Props,
} from "./standard_schema.ts";
import type {
  DefineEventOptions,
  SchemalessEventDefinition,
  UpcastableEventDefinition,
} from "./event_definition.ts";
import type { CreateEventOptions, DomainEvent, JsonObject } from "./types.ts";

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
  checkGenerateEventId(generateEventId);
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
