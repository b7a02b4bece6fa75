/** Random bits come from this pool, refilled in bulk. */
// Pure: a bundle that does not call uuidv7 drops it.
const pool = /* @__PURE__ */ new Uint32Array(256);
let poolIndex = 256;

function random32(): number {
  if (poolIndex === pool.length) {
    crypto.getRandomValues(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++] as number;
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}

let lastMillis = -1;
/** The 12-bit `rand_a` field, used as a counter within one millisecond. */
let counter = 0;

/**
 * Makes an RFC 9562 version-7 UUID: 48 bits of Unix time in milliseconds, a
 * 12-bit counter, then 62 random bits. Ids made by one process increase, so
 * they sort by creation time, as strings and in a database index.
 *
 * Each new millisecond starts the counter at a random value below 2048;
 * each further id in the same millisecond, or after the clock stepped back,
 * adds one. Past 4095 the timestamp moves one millisecond ahead of the
 * clock (RFC 9562, section 6.2, method 1). Uses only `crypto.getRandomValues`
 * and `Date.now`, so it runs on every runtime.
 *
 * @returns A lower-case UUID such as `"019ade6e-1c52-7a3e-9f1c-3b6a0c2d4e5f"`.
 *
 * @example Ids that sort by creation time
 * ```ts
 * import { createEvent, uuidv7 } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const first = uuidv7();
 * const second = uuidv7();
 * assert.match(first, /^[\da-f]{8}-[\da-f]{4}-7[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/);
 * assert(first < second);
 *
 * const event = createEvent("invite.created", {}, { eventId: uuidv7() });
 * assert.equal(event.eventId.charAt(14), "7");
 * ```
 */
export function uuidv7(): string {
  const now = Date.now();
  if (now > lastMillis) {
    lastMillis = now;
    counter = random32() >>> 21; // 11 random bits: room to count up
  } else if (++counter > 0xfff) {
    lastMillis++;
    counter = 0;
  }
  const time = hex(lastMillis, 12);
  const random = random32();
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(counter, 3)}-${
    hex(0x8000 | (random >>> 18), 4)
  }-${hex(random & 0xffff, 4)}${hex(random32(), 8)}`;
}
