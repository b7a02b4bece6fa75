/**
 * What the bench files share: the payloads, the naive event factory every
 * baseline uses, and the batch size.
 *
 * Every contender of the dispatch groups runs {@linkcode BATCH} operations
 * per bench iteration, inside an async bench function, sync emitters
 * included: `deno bench` awaits an async bench function once per
 * iteration, and that fixed cost would otherwise dominate a ~100 ns
 * operation and flatten every ratio towards 1.
 *
 * @module
 */

/**
 * Given `-- --quick` (the `bench:check` task), every bench runs a handful of
 * iterations: a proof that the benches work, not a measurement.
 */
export const QUICK: boolean = Deno.args.includes("--quick");

/** `Deno.bench`, with few iterations under {@linkcode QUICK}. */
export function bench(definition: Deno.BenchDefinition): void {
  Deno.bench(QUICK ? { ...definition, n: 1, warmup: 1 } : definition);
}

/** Operations per iteration of an async bench (dispatches, emits, chains). */
export const BATCH = 100;

/** A typical payload: three fields. */
export const PAYLOAD_3 = {
  inviteId: "inv_01J9Z3Q8X4",
  email: "ada@example.com",
  seats: 3,
};

/** A larger payload: twenty fields, two levels of nested objects and arrays. */
export const PAYLOAD_20 = {
  orderId: "ord_01J9Z3Q8X4",
  customerId: "cus_8KX2",
  status: "placed",
  currency: "EUR",
  total: 129.9,
  subtotal: 109.9,
  tax: 20,
  discount: 0,
  coupon: null,
  gift: false,
  notes: "Leave at the door",
  channel: "web",
  locale: "fr-FR",
  createdBy: "user_42",
  tags: ["priority", "new-customer", "promo"],
  shipping: {
    method: "express",
    cost: 9.9,
    address: {
      line1: "1 Rue de Rivoli",
      city: "Paris",
      postcode: "75001",
      country: "FR",
    },
  },
  billing: { sameAsShipping: true, vatId: null },
  items: [
    { sku: "SKU-1", name: "Keyboard", quantity: 1, price: 79.9 },
    { sku: "SKU-2", name: "Mouse", quantity: 1, price: 30 },
  ],
  metrics: { cartAgeSeconds: 421, pageViews: 12, returning: false },
  consent: { marketing: true, analytics: false },
};

/** The fields of a naive event: what a user writes without a library. */
export interface NaiveEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

const EMPTY = Object.freeze({});

/**
 * The baseline of the issue: a fresh UUID, `new Date().toISOString()`, a
 * shallow copy of the payload, two shallow freezes. No validation, no deep
 * copy, no deep freeze.
 */
export function naiveEvent(
  eventType: string,
  payload: Record<string, unknown>,
  causedBy?: NaiveEvent,
): NaiveEvent {
  return Object.freeze({
    eventId: crypto.randomUUID(),
    eventType,
    occurredAt: new Date().toISOString(),
    correlationId: causedBy ? causedBy.correlationId ?? causedBy.eventId : null,
    causationId: causedBy ? causedBy.eventId : null,
    payload: Object.freeze({ ...payload }),
    metadata: EMPTY,
  });
}

/** Freezes a JSON value at every level, in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * The closest a user gets to createEvent's guarantees without validation:
 * `structuredClone` of the payload, then a recursive freeze.
 */
export function naiveDeepEvent(
  eventType: string,
  payload: Record<string, unknown>,
): NaiveEvent {
  return Object.freeze({
    eventId: crypto.randomUUID(),
    eventType,
    occurredAt: new Date().toISOString(),
    correlationId: null,
    causationId: null,
    payload: deepFreeze(structuredClone(payload)),
    metadata: EMPTY,
  });
}

/** A counter the handlers bump, so that no call can be optimized away. */
export const sink = { count: 0 };

/** The handler every contender calls: one increment. */
export function bump(): void {
  sink.count++;
}
