import type { EventDefinition } from "./define_event.ts";
import { readFields, seal } from "./envelope.ts";
import { type EventIssue, InvalidEventError } from "./errors.ts";
import {
  copyJsonObject,
  describeValue,
  invalid,
  isRecord,
  readJson,
  unreadable,
} from "./json.ts";
import type { CreateEventOptions, DomainEvent } from "./types.ts";

/** Any event definition. */
// deno-lint-ignore no-explicit-any
type AnyDefinition = EventDefinition<string, any, any>;

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
  TDefinition extends AnyDefinition | undefined = undefined,
> {
  /** When given, the event's type must be the definition's, and its schema must accept the payload. */
  definition?: TDefinition;
  /**
   * When given, the event's type must be one of these definitions' types
   * (each type at most once), and that definition's schema must accept the
   * payload. Not together with `definition`.
   */
  definitions?: readonly (TDefinition & AnyDefinition)[];
  /**
   * How deep the payload and metadata may nest. With a `definition`, the
   * event is then made by its `create`, which applies the default of 64
   * again: a larger value has no effect there.
   *
   * @default {64}
   */
  maxDepth?: number;
  /**
   * The longest input read, in characters: the JSON string's length, or, for
   * an already parsed value, the length of its strings and keys.
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
  TDefinition extends AnyDefinition | undefined,
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
 * @param options A definition to match, and the depth and length limits.
 * @returns The validated, frozen event.
 * @throws {InvalidEventError} When the input is not a valid event, naming each problem's path.
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
 */
export function parseEvent<
  TDefinition extends AnyDefinition | undefined = undefined,
>(
  input: unknown,
  options: ParseEventOptions<TDefinition> = {},
): ParsedEvent<TDefinition> {
  return readEvent(input, readOptions(options, "parseEvent")) as ParsedEvent<
    TDefinition
  >;
}

/** The options of {@linkcode parseEvent}, read once and checked. */
export interface ReadOptions {
  /** The definitions to match, by type; none to match none. */
  definitions?: Map<string, AnyDefinition>;
  maxDepth?: number;
  maxLength: number;
}

/**
 * Reads and checks the options of `parseEvent` or `fromCloudEvent` (its
 * `caller`), each once.
 *
 * @throws {InvalidEventError} When the options are not an object or cannot be
 * read, or a limit is not a number.
 * @throws {TypeError} When `definitions` is not an array of definitions of
 * different types, or is given with `definition`.
 */
export function readOptions(options: unknown, caller: string): ReadOptions {
  let definition, definitions, maxDepth, maxLength;
  let list: unknown[] | undefined;
  let types: unknown[] = [];
  try {
    if (!isRecord(options)) {
      throw invalid("options", "an object", describeValue(options));
    }
    ({ definition, definitions, maxDepth, maxLength } = options as Record<
      string,
      unknown
    >);
    if (definition !== undefined) list = [definition];
    else if (Array.isArray(definitions)) list = [...definitions];
    // A definition is told by its create function; its type is checked below.
    types = list?.map((item) =>
      typeof (item as AnyDefinition | null)?.create == "function"
        ? (item as AnyDefinition).type
        : undefined
    ) ?? [];
  } catch (error) {
    throw unreadable(error, "options");
  }
  for (
    const [name, limit] of [["maxDepth", maxDepth], ["maxLength", maxLength]]
  ) {
    if (limit !== undefined && typeof limit != "number") {
      throw invalid("options." + name, "a number", describeValue(limit));
    }
  }
  const read: ReadOptions = { maxLength: (maxLength as number) ?? 2 ** 20 };
  if (maxDepth !== undefined) read.maxDepth = maxDepth as number;
  const refuse = (option: string, expected: string, got: string): never => {
    throw new TypeError(
      `${caller}: ${option}: expected ${expected}, got ${got}`,
    );
  };
  if (definitions !== undefined) {
    if (definition !== undefined) {
      refuse("options", "definition or definitions", "both");
    }
    if (!list) {
      refuse(
        "options.definitions",
        "an array of event definitions",
        describeValue(definitions),
      );
    }
  }
  if (list) {
    const byType = read.definitions = new Map();
    types.forEach((type, index) => {
      const option = definition === undefined
        ? `options.definitions[${index}]`
        : "options.definition";
      if (typeof type != "string") {
        refuse(option, "an event definition", describeValue(list[index]));
      }
      if (byType.has(type)) {
        refuse(option, "a type no other definition has", `"${type}" again`);
      }
      byType.set(type, list[index]);
    });
  }
  return read;
}

/**
 * Reads an event as {@linkcode parseEvent} does, with its options read.
 *
 * @throws {InvalidEventError} When the input is not a valid event.
 */
export function readEvent(input: unknown, options: ReadOptions): DomainEvent {
  const { definitions, maxDepth, maxLength } = options;
  const issues: EventIssue[] = [];
  const fields = readFields(readJson(input, maxLength), issues);
  for (const field of ["payload", "metadata"]) {
    try {
      fields[field] = copyJsonObject(fields[field], field, maxDepth, maxLength);
    } catch (error) {
      issues.push(...(error as InvalidEventError).issues);
    }
  }
  if (issues.length) throw new InvalidEventError(issues);
  const event = fields as unknown as DomainEvent;
  fields.eventId = event.eventId.toLowerCase();
  if (!definitions) return seal(event);
  const definition = definitions.get(event.eventType);
  if (!definition) {
    const types = [...definitions.keys()].map((type) => `"${type}"`);
    throw invalid(
      "eventType",
      types.length == 1
        ? types[0]!
        : "one of " + (types.slice(0, 10).join(", ") || "no types") +
          (types.length > 10 ? ` and ${types.length - 10} more` : ""),
      describeValue(event.eventType),
    );
  }
  // The event's eventId, occurredAt, ids and metadata are create's options.
  return definition.create.call(
    definition,
    event.payload,
    event as CreateEventOptions,
  );
}
