// uuidv7: RFC 9562 version-7 ids, increasing within one process.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEvent, defineEvent, uuidv7 } from "../mod.ts";

const UUID_V7 =
  /^[\da-f]{8}-[\da-f]{4}-7[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/;

/** The Unix milliseconds an id carries in its first 48 bits. */
function millisOf(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * A fixed time ahead of every id made so far: the generator keeps its last
 * millisecond, so a clock set behind it would only test stepping back.
 */
let ahead = 0;
function later(): number {
  return ahead = Math.max(ahead, Date.now()) + 1000;
}

/** Runs `fn` with `Date.now` answering `clock()`. */
function withClock<T>(clock: () => number, fn: () => T): T {
  const realNow = Date.now;
  Date.now = clock;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

/** Asserts that every id is well formed and greater than the one before. */
function assertIncreasing(ids: readonly string[]): void {
  let previous = "";
  for (const [index, id] of ids.entries()) {
    if (!UUID_V7.test(id)) assert.fail(`id ${index} is malformed: ${id}`);
    if (!(id > previous)) assert.fail(`id ${index}: ${id} <= ${previous}`);
    previous = id;
  }
}

describe("uuidv7", () => {
  it("makes 1,000,000 well-formed ids, each greater than the one before, none repeated", () => {
    const ids = Array.from({ length: 1_000_000 }, uuidv7);
    assertIncreasing(ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("carries the current time in its first 48 bits", () => {
    const before = Date.now();
    const millis = millisOf(uuidv7());
    const after = Date.now();
    assert.ok(
      before <= millis && millis <= after,
      `${before} <= ${millis} <= ${after}`,
    );
  });

  it("keeps increasing when the clock stands still or steps back", () => {
    const time = later();
    const still = withClock(() => time, () => [uuidv7(), uuidv7()]);
    const back = withClock(() => time - 500, uuidv7);
    assertIncreasing([...still, back]);
    assert.equal(millisOf(back), time);
  });

  it("moves the timestamp ahead once 4,096 ids share a millisecond", () => {
    const frozen = later();
    const ids = withClock(
      () => frozen,
      () => Array.from({ length: 10_000 }, uuidv7),
    );
    assertIncreasing(ids);
    const last = millisOf(ids.at(-1)!);
    assert.ok(
      frozen + 2 <= last && last <= frozen + 5,
      `${last - frozen} ms ahead`,
    );
    // The clock catches up: the next millisecond it reads is used again.
    const caughtUp = withClock(() => last + 1, uuidv7);
    assert.equal(millisOf(caughtUp), last + 1);
  });

  it("starts each millisecond at a random counter below 2048", () => {
    let millis = later();
    const starts = new Set<number>();
    for (let index = 0; index < 50; index++) {
      const id = withClock(() => ++millis, uuidv7);
      assert.equal(millisOf(id), millis);
      const start = parseInt(id.slice(15, 18), 16);
      assert.ok(start < 2048, id);
      starts.add(start);
    }
    assert.ok(starts.size > 40, `only ${starts.size} distinct starts`);
  });

  it("is a valid eventId for createEvent", () => {
    const id = uuidv7();
    assert.equal(createEvent("a", {}, { eventId: id }).eventId, id);
  });
});

describe("uuidv7 as a definition's generateEventId", () => {
  it("gives the events create makes version-7 ids, unless one is given", () => {
    const InviteCreated = defineEvent("invite.created", {
      generateEventId: uuidv7,
    });
    const [first, second] = [
      InviteCreated.create({}),
      InviteCreated.create({}),
    ];
    assert.match(first.eventId, UUID_V7);
    assert.ok(first.eventId < second.eventId);
    const given = crypto.randomUUID();
    assert.equal(InviteCreated.create({}, { eventId: given }).eventId, given);
  });

  it("checks what the generator returns, and refuses a generator that is not a function", () => {
    const Broken = defineEvent("invite.created", {
      generateEventId: () => "not-a-uuid",
    });
    assert.throws(() => Broken.create({}), {
      name: "InvalidEventError",
      message: 'generateEventId(): expected a UUID, got "not-a-uuid"',
    });
    assert.throws(
      () => defineEvent("a", { generateEventId: "uuid" as never }),
      {
        name: "TypeError",
        message: 'generateEventId: expected a function, got "uuid"',
      },
    );
  });
});
