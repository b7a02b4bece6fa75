/**
 * Ambient event context: run a request's code inside
 * {@linkcode withEventContext} and every event created in it, by
 * `createEvent` or a definition's `create`, however deep in domain code,
 * gets the request's correlation id and metadata without threading them by
 * hand.
 *
 * This is the one entry of the package that imports a `node:` module:
 * `node:async_hooks`' `AsyncLocalStorage`, which Deno, Bun, Node and
 * Cloudflare Workers (with the `nodejs_compat` flag) provide. The core
 * (`@seedwork/domain-events`) stays web-only and works without it.
 *
 * @example A request's correlation id reaches the events its code creates
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { withEventContext } from "@seedwork/domain-events/context";
 * import assert from "node:assert/strict";
 *
 * function placeOrder() {
 *   return createEvent("order.placed", { orderId: "o_1" }); // no ids threaded
 * }
 *
 * const event = await withEventContext(
 *   { correlationId: "req-42", metadata: { tenant: "acme" } },
 *   async () => placeOrder(),
 * );
 * assert.equal(event.correlationId, "req-42");
 * assert.deepEqual(event.metadata, { tenant: "acme" });
 * ```
 *
 * @module
 */
export * from "./src/context/with_event_context.ts";
