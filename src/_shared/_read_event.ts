import {
  type AnyEventDefinition,
  isEventDefinition,
} from "./_event_definition.ts";
import { readFields, seal } from "./_envelope.ts";
import { type EventIssue, InvalidEventError } from "../event/errors.ts";
import { invalid, unreadable } from "./_issues.ts";
import { isRecord, readJson } from "./_json.ts";
import { copyJsonObject, type JsonCopyOptions } from "./_json_copy.ts";
import { describeValue } from "./_messages.ts";
import type { DomainEvent } from "../event/types.ts";
import { readAs, upcastTable } from "./_upcasts.ts";

/** The options of `parseEvent` and `fromCloudEvent`, read once and checked. */
export interface ReadOptions {
  /** The definitions to match, by type; none to match none. */
  definitions?: Map<string, AnyEventDefinition>;
  maxDepth?: number;
  maxLength: number;
}

/** The options of a read given none: JSON text of at most 2^20 characters. */
const DEFAULTS: ReadOptions = { maxLength: 2 ** 20 };

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
  if (options === undefined) return DEFAULTS;
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
    list = definition !== undefined
      ? [definition]
      : Array.isArray(definitions)
      ? [...definitions]
      : undefined;
    types = list?.map((item) =>
      isEventDefinition(item) ? item.type : undefined
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
  const read: ReadOptions = {
    maxLength: (maxLength as number) ?? DEFAULTS.maxLength,
  };
  if (maxDepth !== undefined) read.maxDepth = maxDepth as number;
  const refuse = (got: string): never => {
    throw new TypeError(
      caller +
        (definition === undefined
          ? ": options.definitions: expected event definitions of different types, got "
          : ": options.definition: expected an event definition, got ") +
        got,
    );
  };
  if (definitions !== undefined) {
    if (definition !== undefined) {
      throw new TypeError(
        caller +
          ": expected options.definition or options.definitions, got both",
      );
    }
    if (!list) refuse(describeValue(definitions));
  }
  if (list) {
    const byType = read.definitions = new Map();
    types.forEach((type, index) => {
      if (typeof type != "string") refuse(describeValue(list[index]));
      if (byType.has(type)) refuse(`"${type}" twice`);
      byType.set(type, list[index]);
    });
    // The older types the definitions read by upcasting, unless listed.
    const upcastFrom = new Map<string, AnyEventDefinition>();
    for (const definition of byType.values()) {
      for (const older of upcastTable(definition).keys()) {
        if (byType.has(older)) continue;
        if (upcastFrom.has(older)) {
          refuse(`two definitions that both read "${older}"`);
        }
        upcastFrom.set(older, definition);
      }
    }
    for (const [older, definition] of upcastFrom) byType.set(older, definition);
  }
  return read;
}

/**
 * Reads an event as `parseEvent` does, with its options read.
 *
 * @throws {InvalidEventError} When the input is not a valid event.
 */
export function readEvent(input: unknown, options: ReadOptions): DomainEvent {
  const { definitions, maxDepth, maxLength } = options;
  const issues: EventIssue[] = [];
  const fields = readFields(readJson(input, maxLength), issues);
  const limits: JsonCopyOptions = {
    maxDepth,
    maxChars: maxLength,
    parsed: typeof input == "string",
  };
  for (const field of ["payload", "metadata"]) {
    try {
      fields[field] = copyJsonObject(fields[field], field, limits);
    } catch (error) {
      issues.push(...(error as InvalidEventError).issues);
    }
  }
  if (issues.length) throw new InvalidEventError(issues);
  const event = fields as unknown as DomainEvent;
  fields["eventId"] = event.eventId.toLowerCase();
  if (!definitions) return seal(event);
  const definition = definitions.get(event.eventType);
  if (!definition) {
    const types = [...definitions.keys()].map((type) => `"${type}"`);
    const listed = types.slice(0, 10).join(", ");
    throw invalid(
      "eventType",
      types.length == 1 ? listed : "one of " + (listed || "no types") +
        (types.length > 10 ? ` and ${types.length - 10} more` : ""),
      describeValue(event.eventType),
    );
  }
  return readAs(definition, event);
}
