import { AsyncLocalStorage } from "node:async_hooks";
import { checkArgument } from "../_shared/_arguments.ts";
import {
  type AmbientEventContext,
  setAmbientContext,
} from "../_shared/_ambient.ts";
import { checkField } from "../_shared/_envelope.ts";
import { invalid, unreadable } from "../_shared/_issues.ts";
import { EMPTY_OBJECT, isRecord } from "../_shared/_json.ts";
import { copyJsonObject } from "../_shared/_json_copy.ts";
import { describeValue } from "../_shared/_messages.ts";
import type { DeepReadonly, JsonObject } from "../event/types.ts";

/**
 * What {@linkcode withEventContext} sets for the events created inside it.
 *
 * @example Usage
 * ```ts
 * import type { EventContextInit } from "@seedwork/domain-events/context";
 *
 * const init: EventContextInit = { correlationId: "req-42", metadata: { tenant: "acme" } };
 * ```
 */
export interface EventContextInit {
  /**
   * The correlation id of events created without `correlationId` or
   * `causedBy`: 1 to 128 visible ASCII characters (a request id, a W3C trace
   * id, a UUID).
   *
   * @default {the enclosing context's, or null}
   */
  correlationId?: string | null;
  /**
   * The metadata of events created without `metadata`: copied and frozen
   * once, here.
   *
   * @default {the enclosing context's, or {}}
   */
  metadata?: JsonObject;
}

/**
 * The context in force: what events created now get.
 *
 * @example Usage
 * ```ts
 * import { getEventContext, withEventContext, type EventContext } from "@seedwork/domain-events/context";
 *
 * withEventContext({ correlationId: "req-42" }, () => {
 *   const context: EventContext | undefined = getEventContext();
 *   console.log(context?.correlationId); // "req-42"
 * });
 * ```
 */
export interface EventContext {
  /** The correlation id events created without one get; `null` for none. */
  readonly correlationId: string | null;
  /** The metadata events created without any get, deeply frozen. */
  readonly metadata: DeepReadonly<JsonObject>;
}

const storage = new AsyncLocalStorage<AmbientEventContext>();
setAmbientContext(() => storage.getStore());

/**
 * Runs `fn` so that every event created inside it, in the same call or in
 * anything it awaits, gets `correlationId` and `metadata` unless the event
 * is given its own (`correlationId`, `causedBy` or `metadata` in the
 * options: given metadata replaces the context's, it is not merged).
 * Events a handler publishes through its context keep the correlation of
 * the event that caused them.
 *
 * Contexts nest: an inner one keeps what it does not set of the outer one.
 * Parallel contexts never see each other's values. Reading events back
 * (`parseEvent`, `fromCloudEvent`) is not affected.
 *
 * @typeParam T What `fn` returns (a promise for async code).
 * @param init The correlation id and metadata.
 * @param fn The code to run inside the context.
 * @returns What `fn` returns.
 * @throws {InvalidEventError} When the correlation id or the metadata is not valid (`fn` is not called).
 * @throws {TypeError} When `fn` is not a function.
 *
 * @example Parallel requests keep their own correlation
 * ```ts
 * import { createEvent } from "@seedwork/domain-events";
 * import { withEventContext } from "@seedwork/domain-events/context";
 * import assert from "node:assert/strict";
 *
 * const handle = (requestId: string) =>
 *   withEventContext({ correlationId: requestId }, async () => {
 *     await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
 *     return createEvent("request.handled").correlationId;
 *   });
 * assert.deepEqual(await Promise.all([handle("a"), handle("b")]), ["a", "b"]);
 * ```
 */
export function withEventContext<T>(init: EventContextInit, fn: () => T): T {
  checkArgument(typeof fn == "function", "fn", "a function", fn);
  const outer = storage.getStore();
  let correlationId: unknown;
  let metadata: unknown;
  try {
    if (!isRecord(init)) {
      throw invalid("context", "an object", describeValue(init));
    }
    ({ correlationId, metadata } = init);
  } catch (error) {
    throw unreadable(error, "context");
  }
  if (correlationId === undefined) correlationId = outer?.correlationId ?? null;
  else {checkField(
      "correlationId",
      correlationId,
      undefined,
      "context.correlationId",
    );}
  const context: AmbientEventContext = {
    correlationId: correlationId as string | null,
    metadata: metadata === undefined
      ? outer?.metadata ?? EMPTY_OBJECT
      : copyJsonObject(metadata, "context.metadata"),
  };
  return storage.run(Object.freeze(context), fn);
}

/**
 * The context in force where it is called.
 *
 * @returns The {@linkcode EventContext}, or `undefined` outside every
 *   {@linkcode withEventContext}.
 *
 * @example Usage
 * ```ts
 * import { getEventContext, withEventContext } from "@seedwork/domain-events/context";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getEventContext(), undefined);
 * withEventContext({ correlationId: "req-42" }, () => {
 *   assert.equal(getEventContext()?.correlationId, "req-42");
 * });
 * ```
 */
export function getEventContext(): EventContext | undefined {
  return storage.getStore();
}
