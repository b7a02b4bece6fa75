import type { EventDefinition } from "../event/event_definition.ts";

/** An event definition of any type and payload. */
// deno-lint-ignore no-explicit-any
export type AnyEventDefinition = EventDefinition<string, any, any>;

/**
 * Whether `value` is an event definition: a string `type` and a `create`
 * function, as `defineEvent` makes and a hand-written one has. Reads `type`,
 * then `create`, once each; a getter's throw goes through.
 */
export function isEventDefinition(value: unknown): value is AnyEventDefinition {
  return typeof (value as AnyEventDefinition | null)?.type == "string" &&
    typeof (value as AnyEventDefinition).create == "function";
}
