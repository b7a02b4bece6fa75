// The clock behind occurredAt: the current time in Date#toISOString() form.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { currentTimestamp } from "../src/event/_clock.ts";

describe("currentTimestamp", () => {
  it("returns the current time as Date#toISOString() writes it", () => {
    const before = Date.now();
    const timestamp = currentTimestamp();
    const after = Date.now();
    assert.equal(new Date(timestamp).toISOString(), timestamp);
    const time = Date.parse(timestamp);
    assert.ok(before <= time && time <= after);
  });

  it("follows the time from one millisecond to the next", async () => {
    const first = currentTimestamp();
    const start = Date.now();
    while (Date.now() === start) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const second = currentTimestamp();
    assert.ok(second > first, `${second} > ${first}`);
    assert.ok(Date.parse(second) >= start + 1);
  });
});
