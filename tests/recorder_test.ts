// EventRecorder: records in order, refuses non-events, pulls and empties.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  EventRecorder,
  InvalidEventError,
} from "../mod.ts";
import type { DomainEvent } from "../mod.ts";

describe("EventRecorder", () => {
  it("starts empty", () => {
    const recorder = new EventRecorder();
    assert.equal(recorder.size, 0);
    assert.deepEqual(recorder.peekEvents(), []);
    assert.deepEqual(recorder.pullEvents(), []);
  });

  it("keeps events in the order recorded, duplicates included", () => {
    const recorder = new EventRecorder();
    const [a, b, c] = [createEvent("a"), createEvent("b"), createEvent("c")];
    recorder.record(b);
    recorder.record(a);
    recorder.record(c);
    recorder.record(a);
    assert.equal(recorder.size, 4);
    assert.deepEqual(recorder.peekEvents(), [b, a, c, a]);
  });

  it("pullEvents returns the events in order and empties the recorder", () => {
    const recorder = new EventRecorder();
    const [a, b] = [createEvent("a"), createEvent("b")];
    recorder.record(a);
    recorder.record(b);
    const pulled = recorder.pullEvents();
    assert.deepEqual(pulled, [a, b]);
    assert.equal(recorder.size, 0);
    assert.deepEqual(recorder.pullEvents(), []);
    // the pulled array is the caller's: recording again does not touch it
    recorder.record(a);
    assert.deepEqual(pulled, [a, b]);
    assert.deepEqual(recorder.pullEvents(), [a]);
  });

  it("peekEvents returns a copy and leaves the events in place", () => {
    const recorder = new EventRecorder();
    const a = createEvent("a");
    recorder.record(a);
    const peeked = recorder.peekEvents();
    peeked.push(createEvent("b"));
    peeked.length = 0;
    assert.deepEqual(recorder.peekEvents(), [a]);
    assert.equal(recorder.size, 1);
  });

  it("refuses what is not a domain event, recording nothing", () => {
    const recorder = new EventRecorder();
    const event = createEvent("a");
    for (
      const value of [undefined, null, 42, "a", { eventType: "a" }, {
        ...event,
      }]
    ) {
      assert.throws(
        () => recorder.record(value as DomainEvent),
        InvalidEventError,
      );
    }
    assert.equal(recorder.size, 0);
  });

  it("can be typed to an aggregate's events", () => {
    const Accepted = defineEvent<"invite.accepted", { inviteId: string }>(
      "invite.accepted",
    );
    const recorder = new EventRecorder<ReturnType<typeof Accepted.create>>();
    recorder.record(Accepted.create({ inviteId: "inv_1" }));
    const wrongType = () => {
      // @ts-expect-error: another event type does not fit (checked by the type checker only)
      recorder.record(createEvent("x"));
    };
    void wrongType;
    const [event] = recorder.pullEvents();
    const inviteId: string | undefined = event?.payload.inviteId;
    assert.equal(inviteId, "inv_1");
  });
});
