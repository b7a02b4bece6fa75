import {
  formatCausationTree,
  type FormatCausationTreeOptions,
} from "../trace/causation_tree.ts";
import type { EventDefinition } from "../event/event_definition.ts";
import type { InProcessEventDispatcher } from "../dispatch/dispatcher.ts";
import type { Disposal } from "../dispatch/handler.ts";
import type { DomainEvent, JsonObject } from "../event/types.ts";
import { makeDisposable } from "../_shared/_disposable.ts";

/**
 * What {@linkcode captureEvents} needs of a dispatcher: `observe`, as
 * {@linkcode InProcessEventDispatcher} has it.
 *
 * @example Usage
 * ```ts
 * import { InProcessEventDispatcher } from "@seedwork/domain-events";
 * import type { CapturableDispatcher } from "@seedwork/domain-events/testing";
 *
 * const dispatcher: CapturableDispatcher = new InProcessEventDispatcher();
 * ```
 */
export type CapturableDispatcher = Pick<InProcessEventDispatcher, "observe">;

/**
 * The events a dispatcher has seen since {@linkcode captureEvents} started,
 * and ways to look at them. Its functions need no `this`, so they can be
 * destructured.
 *
 * @example Usage
 * ```ts
 * import { createEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import { captureEvents, type EventCapture } from "@seedwork/domain-events/testing";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher();
 * const capture: EventCapture = captureEvents(dispatcher);
 * await dispatcher.dispatch(createEvent("invite.created"));
 * assert.deepEqual(capture.types(), ["invite.created"]);
 * ```
 */
export interface EventCapture extends Disposal {
  /**
   * Every event seen, each once (by `eventId`), in the order their
   * dispatches started: a cause comes before the events it caused. A new
   * array on every read.
   */
  readonly events: readonly DomainEvent[];
  /**
   * The events of one type, in order, typed by the definition.
   *
   * @param definition The event definition.
   * @returns The events whose `eventType` is the definition's type (the
   *   schema is not run again: where the definition is registered, the
   *   dispatcher checked them already).
   */
  ofType<TType extends string, TPayload extends JsonObject>(
    definition: EventDefinition<TType, TPayload>,
  ): DomainEvent<TType, TPayload>[];
  /**
   * The events of one type, in order.
   *
   * @param type The event type, e.g. `"invite.created"`.
   * @returns The events whose `eventType` is `type`.
   */
  ofType<TType extends string>(type: TType): DomainEvent<TType>[];
  /**
   * The `eventType` of every event, in order: easy to compare with an
   * expected list.
   *
   * @returns One type per captured event.
   */
  types(): string[];
  /**
   * Draws the captured events with {@linkcode formatCausationTree}.
   *
   * @param options `format`: `"text"` (default) or `"mermaid"`.
   * @returns The drawing.
   */
  tree(options?: FormatCausationTreeOptions): string;
  /** Forgets the events captured so far; capturing goes on. */
  clear(): void;
  /**
   * Stops capturing: the events captured so far stay. Calling it again is
   * harmless; `using` calls it at the end of the block.
   */
  stop(): void;
}

/**
 * Captures every event a dispatcher sees from now on, nested ones included
 * (those that handlers publish or dispatch through their context), for
 * tests to query and assert on with their own assertion library.
 *
 * It is an observer ({@linkcode InProcessEventDispatcher.observe}): it sees
 * each event a dispatch accepts before its handlers run, handled or not,
 * registers no handler (so `onUnhandled` is still called) and no
 * middleware, and `stop()` removes it. A capture started while an event is
 * being dispatched sees what that event causes from then on, not the event
 * itself.
 *
 * Events the dispatcher refuses before any handler runs (not an event,
 * deeper than `maxDepth`, refused by its type's definition) are not
 * captured; events whose handlers fail are.
 *
 * @param dispatcher The dispatcher to watch.
 * @returns The capture: {@linkcode EventCapture.events},
 *   {@linkcode EventCapture.ofType}, {@linkcode EventCapture.tree}, ...
 *
 * @example Nested events, by type and as a tree
 * ```ts
 * import { defineEvent, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import { captureEvents } from "@seedwork/domain-events/testing";
 * import assert from "node:assert/strict";
 *
 * const InviteCreated = defineEvent<"invite.created", { email: string }>("invite.created");
 * const InviteEmailSent = defineEvent<"invite.email_sent", { to: string }>("invite.email_sent");
 * const dispatcher = new InProcessEventDispatcher();
 * dispatcher.register(InviteCreated, async (event, context) => {
 *   await context.publish(InviteEmailSent, { to: event.payload.email });
 * });
 *
 * const capture = captureEvents(dispatcher); // or `using capture = ...` (Deno, Bun, Node 24)
 * const created = InviteCreated.create({ email: "ada@example.com" });
 * await dispatcher.dispatch(created);
 * capture.stop();
 *
 * assert.deepEqual(capture.types(), ["invite.created", "invite.email_sent"]);
 * const [sent] = capture.ofType(InviteEmailSent);
 * assert.equal(sent?.payload.to, "ada@example.com");
 * assert.equal(sent?.causationId, created.eventId);
 * assert.match(capture.tree(), /└─ invite\.created .*\n   └─ invite\.email_sent /);
 * ```
 */
export function captureEvents(dispatcher: CapturableDispatcher): EventCapture {
  const captured: DomainEvent[] = [];
  const seen = new Set<string>();
  const stop = dispatcher.observe(function captureEvents(event) {
    if (!seen.has(event.eventId)) {
      seen.add(event.eventId);
      captured.push(event);
    }
  });
  const capture: EventCapture = {
    get events(): readonly DomainEvent[] {
      return [...captured];
    },
    ofType: ((typeOrDefinition: string | { type: string }) => {
      const type = typeof typeOrDefinition === "string"
        ? typeOrDefinition
        : typeOrDefinition.type;
      return captured.filter((event) => event.eventType === type);
    }) as EventCapture["ofType"],
    types: () => captured.map((event) => event.eventType),
    tree: (options) => formatCausationTree(captured, options),
    clear: () => {
      captured.length = 0;
      seen.clear();
    },
    stop: () => stop(),
  } as EventCapture;
  return makeDisposable(capture, stop);
}
