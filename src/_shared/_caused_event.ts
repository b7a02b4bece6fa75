import { checkArgument } from "./_arguments.ts";
import { isRecord } from "./_json.ts";
import { createEvent } from "../event/create_event.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import type {
  CreateEventOptions,
  DomainEvent,
  JsonObject,
} from "../event/types.ts";

/** What a context's `publish` is given first: an event type, or a definition. */
// deno-lint-ignore no-explicit-any
export type PublishTarget = string | EventDefinition<string, any>;

/**
 * Creates an event caused by `cause` (its correlation, causation = its id):
 * what `publish` does first in a handler's context and in an outbox
 * listener's. `options` are publish's, over `base` if given; `causedBy` is
 * always `cause`; `generateEventId`, if given, makes the id when neither
 * gives one.
 *
 * @throws {TypeError} When `options` is given but is not an object.
 * @throws {InvalidEventError} When the type, payload or options are not valid.
 */
export function createCausedEvent(
  cause: DomainEvent,
  target: PublishTarget,
  payload: unknown,
  options: unknown,
  base?: CreateEventOptions,
  generateEventId?: () => string,
): DomainEvent {
  checkArgument(
    options === undefined || isRecord(options),
    "options",
    "an object",
    options,
  );
  const createOptions: CreateEventOptions = {
    ...base,
    ...options as CreateEventOptions | undefined,
    causedBy: cause,
  };
  if (generateEventId && createOptions.eventId === undefined) {
    createOptions.eventId = generateEventId();
  }
  return typeof target == "string"
    ? createEvent(target, payload as JsonObject | undefined, createOptions)
    : target.create(payload, createOptions);
}
