import {
  type AnyEventDefinition,
  isEventDefinition,
} from "./_event_definition.ts";
import { InvalidEventError } from "../event/errors.ts";
import { invalid } from "./_issues.ts";
import { describeError, describeValue } from "./_messages.ts";
import type { CreateEventOptions, DomainEvent } from "../event/types.ts";

/** One step of an upcast: check the payload with `definition`, then `upcast` it. */
interface UpcastStep {
  readonly definition: AnyEventDefinition;
  readonly upcast: (payload: never) => unknown;
}

/** From an older event type, the steps that lead to the definition's own type. */
export type UpcastTable = ReadonlyMap<string, readonly UpcastStep[]>;

const NO_UPCASTS: UpcastTable = new Map();
const tables = new WeakMap<object, UpcastTable>();

/** The older types `definition` reads, with the steps from each. */
export function upcastTable(definition: object): UpcastTable {
  return tables.get(definition) ?? NO_UPCASTS;
}

/** Records the upcast table of a definition `defineEvent` made. */
export function setUpcastTable(definition: object, table: UpcastTable): void {
  if (table.size) tables.set(definition, table);
}

/**
 * `table` (of a definition of `type`) with `older`'s type read through
 * `upcast`, and every type `older` reads itself through `older`.
 *
 * @throws {TypeError} When `older` is not a definition or `upcast` not a
 * function, or when a type would be read twice or the chain would come back
 * to `type` (a cycle).
 */
export function extendTable(
  type: string,
  table: UpcastTable,
  older: unknown,
  upcast: unknown,
): UpcastTable {
  if (!isEventDefinition(older)) {
    throw new TypeError(
      `upcastFrom: expected an event definition, got ${describeValue(older)}`,
    );
  }
  if (typeof upcast != "function") {
    throw new TypeError(
      `upcastFrom: expected an upcast function, got ${describeValue(upcast)}`,
    );
  }
  const extended = new Map(table);
  const add = (from: string, steps: readonly UpcastStep[]): void => {
    if (from === type) {
      throw new TypeError(
        `upcastFrom: "${type}" cannot read events of its own type (a cycle)`,
      );
    }
    if (extended.has(from)) {
      throw new TypeError(`upcastFrom: "${type}" reads "${from}" already`);
    }
    extended.set(from, steps);
  };
  const step: UpcastStep = {
    definition: older,
    upcast: upcast as UpcastStep["upcast"],
  };
  add(older.type, [step]);
  for (const [from, steps] of upcastTable(older)) {
    add(from, [...steps, step]);
  }
  return extended;
}

/** `error`, an InvalidEventError, with `prefix` before each issue's message. */
function within(error: unknown, prefix: string): unknown {
  return error instanceof InvalidEventError
    ? new InvalidEventError(
      error.issues.map(({ path, message }) => ({
        path,
        message: prefix + message,
      })),
      { cause: error },
    )
    : error;
}

/**
 * Makes `event` (valid, of `definition`'s type or of a type it reads) an
 * event of `definition`: its `create` checks the payload. An older event is
 * upcast first: each older payload is checked by its definition, then
 * upcast. The envelope is kept; for an upcast event, metadata's
 * `upcastfrom` records the type it was stored as.
 *
 * @throws {InvalidEventError} When a schema refuses a payload or an upcast
 * throws, naming the types of the step.
 */
export function readAs(
  definition: AnyEventDefinition,
  event: DomainEvent,
): DomainEvent {
  const steps = upcastTable(definition).get(event.eventType);
  // The event's eventId, occurredAt, ids and metadata are create's options.
  if (!steps) {
    return definition.create.call(
      definition,
      event.payload,
      event as CreateEventOptions,
    );
  }
  // readEvent's event has these seven fields: the rest is the envelope.
  const { eventType, payload: stored, ...envelope } = event;
  const { metadata } = envelope;
  let payload: unknown = stored;
  let from = eventType;
  steps.forEach(({ definition: older, upcast }, index) => {
    const target = steps[index + 1]?.definition.type ?? definition.type;
    let checked;
    try {
      checked = older.create(payload, envelope).payload;
    } catch (error) {
      // The stored payload, or what the upcast before this step returned.
      throw within(
        error,
        index
          ? `after upcasting "${from}" to "${older.type}": `
          : `upcasting "${older.type}" to "${target}": `,
      );
    }
    from = older.type;
    try {
      payload = upcast(checked as never);
    } catch (error) {
      throw invalid(
        "payload",
        `the upcast from "${older.type}" to "${target}" to return a payload`,
        "a throw: " + describeError(error),
        { cause: error },
      );
    }
  });
  try {
    return definition.create(payload, {
      ...envelope,
      metadata: { ...metadata, upcastfrom: eventType },
    });
  } catch (error) {
    throw within(error, `after upcasting "${from}" to "${definition.type}": `);
  }
}
