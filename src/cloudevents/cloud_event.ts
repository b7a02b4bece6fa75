import type { EventDefinition } from "../event/event_definition.ts";
import { assertDomainEvent } from "../event/guards.ts";
import { checkInput, formatPath, unreadable } from "../_shared/_issues.ts";
import { readJson } from "../_shared/_json.ts";
import { copyJsonObject } from "../_shared/_json_copy.ts";
import { readEvent, readOptions } from "../_shared/_read_event.ts";
import type { ParsedEvent, ParseEventOptions } from "../parse/parse_event.ts";
import type { DeepReadonly, DomainEvent, JsonObject } from "../event/types.ts";

/**
 * An event in the CloudEvents 1.0 JSON format, as {@linkcode toCloudEvent}
 * writes it: `JSON.stringify` it to send it.
 *
 * @typeParam TType The event type.
 * @typeParam TPayload The payload's shape, carried as `data`.
 *
 * @example Usage
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { toCloudEvent, type CloudEvent } from "@seedwork/domain-events/cloudevents";
 * import assert from "node:assert/strict";
 *
 * const cloudEvent: CloudEvent<"invite.created", { email: string }> = toCloudEvent(
 *   createEvent("invite.created", { email: "ada@example.com" }),
 *   { source: "/invites" },
 * );
 * assert.equal(cloudEvent.data.email, "ada@example.com");
 * ```
 */
export interface CloudEvent<
  TType extends string = string,
  TPayload extends JsonObject = JsonObject,
> {
  /** Always `"1.0"`. */
  readonly specversion: "1.0";
  /** The event's `eventId`. */
  readonly id: string;
  /** Where the event happened, as given to {@linkcode toCloudEvent}. */
  readonly source: string;
  /** The event's `eventType`. */
  readonly type: TType;
  /** The event's `occurredAt`. */
  readonly time: string;
  /** Always `"application/json"`. */
  readonly datacontenttype: "application/json";
  /** The event's `correlationId`; absent when it is `null`. */
  readonly correlationid?: string;
  /** The event's `causationId`; absent when it is `null`. */
  readonly causationid?: string;
  /** The event's payload. */
  readonly data: DeepReadonly<TPayload>;
  /** One extension attribute for each metadata key. */
  readonly [attribute: string]: unknown;
}

/**
 * Options for {@linkcode toCloudEvent}.
 *
 * @example Usage
 * ```ts
 * import type { ToCloudEventOptions } from "@seedwork/domain-events/cloudevents";
 *
 * const options: ToCloudEventOptions = { source: "https://example.com/invites" };
 * ```
 */
export interface ToCloudEventOptions {
  /**
   * The CloudEvents `source`: a non-empty URI-reference without whitespace
   * naming where the event happened, e.g. `"https://example.com/invites"` or
   * `"/invites"`.
   */
  source: string;
}

/**
 * Turns an event into the CloudEvents 1.0 JSON format, so that it can leave
 * the process (an outbox, a queue, a webhook) and come back with
 * {@linkcode fromCloudEvent}, unchanged.
 *
 * `eventId`, `eventType`, `occurredAt` and `payload` become `id`, `type`,
 * `time` and `data` (with `datacontenttype` `"application/json"`);
 * `correlationId` and `causationId` become the `correlationid` and
 * `causationid` attributes of the CloudEvents correlation extension, left
 * out when `null`. Each metadata key becomes an extension attribute of the
 * same name, so brokers can route on it. Nothing is dropped: metadata that
 * an attribute cannot carry is refused.
 *
 * @typeParam TType The event type.
 * @typeParam TPayload The payload's shape.
 * @param event The event.
 * @param options The `source` of the CloudEvent.
 * @returns A new plain object; its `data` is the event's frozen payload.
 * @throws {InvalidEventError} When `event` is not an event, `source` is not a non-empty string without whitespace, or a metadata key is not a CloudEvents attribute name (`a` to `z` and `0` to `9`, not one of the attributes above) or its value is not a string without control characters, a boolean or a 32-bit integer; or when the options cannot be read.
 *
 * @example Round trip through JSON
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { fromCloudEvent, toCloudEvent } from "@seedwork/domain-events/cloudevents";
 * import assert from "node:assert/strict";
 *
 * const created = createEvent("invite.created", { email: "ada@example.com" }, {
 *   correlationId: "req-42",
 *   metadata: { tenant: "acme" },
 * });
 * const cloudEvent = toCloudEvent(created, { source: "/invites" });
 * assert.equal(cloudEvent.specversion, "1.0");
 * assert.equal(cloudEvent.correlationid, "req-42");
 * assert.equal(cloudEvent.tenant, "acme");
 *
 * assert.deepEqual(fromCloudEvent(JSON.stringify(cloudEvent)), created);
 * ```
 *
 * @example Metadata that is not an attribute name is refused
 * ```ts
 * import { createEvent, InvalidEventError } from "@seedwork/domain-events";
 * import { toCloudEvent } from "@seedwork/domain-events/cloudevents";
 * import assert from "node:assert/strict";
 *
 * const event = createEvent("invite.created", {}, { metadata: { tenantId: "acme" } });
 * assert.throws(() => toCloudEvent(event, { source: "/invites" }), InvalidEventError);
 * ```
 */
export function toCloudEvent<TType extends string, TPayload extends JsonObject>(
  event: DomainEvent<TType, TPayload>,
  options: ToCloudEventOptions,
): CloudEvent<TType, TPayload> {
  assertDomainEvent(event);
  let source: unknown;
  try {
    source = options?.source;
  } catch (error) {
    throw unreadable(error, "options");
  }
  checkSource(source);
  const cloudEvent: Record<string, unknown> = {
    specversion: "1.0",
    id: event.eventId,
    source,
    type: event.eventType,
    time: event.occurredAt,
    datacontenttype: "application/json",
    correlationid: event.correlationId,
    causationid: event.causationId,
    data: event.payload,
  };
  copyAttributes(event.metadata, cloudEvent, "metadata");
  // Only the two ids can be null here: they are left out, as the
  // correlation extension wants.
  for (const key in cloudEvent) {
    if (cloudEvent[key] === null) delete cloudEvent[key];
  }
  return cloudEvent as unknown as CloudEvent<TType, TPayload>;
}

/**
 * Reads an event back from a CloudEvent in the JSON format, given as a JSON
 * string or an already parsed object, and validates it as
 * {@linkcode parseEvent} does (it is the same validator).
 *
 * The mapping is the reverse of {@linkcode toCloudEvent}: `id`, `type`,
 * `time`, `correlationid`, `causationid` and `data` become `eventId`,
 * `eventType`, `occurredAt`, `correlationId`, `causationId` and `payload`
 * (issues name these fields), so `id` must be a UUID and `time` must be in
 * `Date#toISOString()` form, as the event model requires. `source` must be
 * present but is not kept. A missing `data` is an empty payload; `data`
 * must otherwise be a JSON object. Every other attribute (`subject`,
 * extensions) becomes a metadata key; one that is `null` counts as absent,
 * as the JSON format says.
 *
 * @typeParam TDefinition The definition the event must match, if any.
 * @param input A JSON string, or a value such as `JSON.parse` returns.
 * @param options A definition to match, and the depth and length limits, as for {@linkcode parseEvent}.
 * @returns The validated, frozen event.
 * @throws {InvalidEventError} When `input` is not JSON or not an object, `specversion` is not `"1.0"`, `source` is not a non-empty string without whitespace, `datacontenttype` is not a JSON media type (subtype `json` or ending in `+json`), an attribute is not an extension attribute (`data_base64`, with binary data, is not supported), or the event is not valid, or the options are not (as for {@linkcode parseEvent}).
 * @throws {TypeError} As {@linkcode parseEvent} does, for `definitions`.
 *
 * @example Reading a CloudEvent
 * ```ts
 * import { fromCloudEvent } from "@seedwork/domain-events/cloudevents";
 * import assert from "node:assert/strict";
 *
 * const event = fromCloudEvent({
 *   specversion: "1.0",
 *   id: "5b7c2f5e-8a8e-4e39-9f43-8e4a8f0c1d2b",
 *   source: "https://example.com/invites",
 *   type: "invite.created",
 *   time: "2024-01-14T10:30:00.000Z",
 *   correlationid: "req-42",
 *   tenant: "acme",
 *   data: { email: "ada@example.com" },
 * });
 * assert.equal(event.eventType, "invite.created");
 * assert.equal(event.correlationId, "req-42");
 * assert.equal(event.causationId, null);
 * assert.deepEqual(event.metadata, { tenant: "acme" });
 * ```
 */
export function fromCloudEvent<
  // deno-lint-ignore no-explicit-any
  TDefinition extends EventDefinition<string, any, any> | undefined = undefined,
>(
  input: unknown,
  options?: ParseEventOptions<TDefinition>,
): ParsedEvent<TDefinition> {
  const read = readOptions(options, "fromCloudEvent");
  const {
    specversion,
    source,
    datacontenttype,
    id,
    type,
    time,
    correlationid = null,
    causationid = null,
    data = {},
    ...extensions
  } = copyJsonObject(readJson(input, read.maxLength), "", {
    // The CloudEvent wraps the payload: one level more than parseEvent's.
    maxDepth: (read.maxDepth ?? 64) + 1,
    maxChars: read.maxLength,
  });
  checkInput(specversion === "1.0", "specversion", '"1.0"', specversion);
  checkSource(source);
  checkInput(
    datacontenttype == null ||
      typeof datacontenttype == "string" &&
        /^[^/;]+\/([^;]*\+)?json\s*(;|$)/i.test(datacontenttype),
    "datacontenttype",
    "a JSON media type",
    datacontenttype,
  );
  const metadata: JsonObject = {};
  copyAttributes(extensions, metadata, "");
  return readEvent({
    eventId: id,
    eventType: type,
    occurredAt: time,
    correlationId: correlationid,
    causationId: causationid,
    payload: data,
    metadata,
  }, read) as ParsedEvent<TDefinition>;
}

function checkSource(source: unknown): void {
  checkInput(
    typeof source === "string" && /^\S+$/.test(source),
    "source",
    "a URI-reference",
    source,
  );
}

/**
 * Copies extension attributes from metadata to a CloudEvent (`path` is
 * `"metadata"`) or back (`path` is `""`), refusing what an attribute cannot
 * carry or what would replace another attribute. A `null` attribute counts
 * as absent; `null` metadata has no attribute to go to.
 */
function copyAttributes(
  from: DeepReadonly<JsonObject>,
  to: Record<string, unknown>,
  path: string,
): void {
  for (const [key, value] of Object.entries(from)) {
    if (value !== null || path) {
      const at = formatPath(path, [key]);
      checkInput(
        /^[a-z\d]+$/.test(key),
        at,
        "an attribute name of a-z and 0-9 only",
        key,
      );
      checkInput(
        !Object.hasOwn(to, key),
        at,
        "a name no other attribute has",
        key,
      );
      checkInput(
        typeof value == "boolean" ||
          typeof value == "number" && (value | 0) === value ||
          typeof value == "string" && !/\p{Cc}/u.test(value),
        at,
        "a string, boolean or int32 value",
        value,
      );
      to[key] = value;
    }
  }
}
