import { assertDomainEvent } from "./guards.ts";
import type { DomainEvent } from "./types.ts";

/**
 * Collects the events an aggregate raises during a command, so the
 * application can save, pull and dispatch them after the commit.
 *
 * @typeParam TEvent The events it records.
 *
 * @example An aggregate that records its events
 * ```ts
 * import { createEvent, EventRecorder, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * class Invite {
 *   readonly events: EventRecorder = new EventRecorder();
 *   accept(): void {
 *     this.events.record(createEvent("invite.accepted"));
 *   }
 * }
 * const invite = new Invite();
 * invite.accept();
 * assert.equal(invite.events.size, 1);
 *
 * // after the commit:
 * await new InProcessEventDispatcher().dispatchAll(invite.events.pullEvents());
 * assert.equal(invite.events.size, 0);
 * ```
 */
export class EventRecorder<TEvent extends DomainEvent = DomainEvent> {
  #events: TEvent[] = [];

  /**
   * Records an event, after the ones recorded before.
   *
   * @param event The event.
   * @throws {InvalidEventError} When `event` is not a domain event.
   */
  record(event: TEvent): void {
    assertDomainEvent(event);
    this.#events.push(event);
  }

  /**
   * Takes the recorded events, in the order recorded, and empties the
   * recorder.
   *
   * @returns The events; the array is the caller's.
   */
  pullEvents(): TEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /**
   * Lists the recorded events, in order, without removing them.
   *
   * @returns A copy of the list.
   */
  peekEvents(): TEvent[] {
    return [...this.#events];
  }

  /** How many events are recorded. */
  get size(): number {
    return this.#events.length;
  }
}
