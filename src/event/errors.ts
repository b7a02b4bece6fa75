import { describeError } from "../_shared/_messages.ts";
import type { DomainEvent } from "./types.ts";

/** The first line of what `error` says, at most `max` characters. */
function firstLine(error: unknown, max: number): string {
  const line = describeError(error).split("\n", 1)[0] as string;
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}

/**
 * Follows nested dispatches (a HandlerError, or a DispatchError of one) from
 * `cause` down to the root cause: how many levels, and the innermost
 * HandlerError on the way.
 */
function rootCause(
  cause: unknown,
): { root: unknown; levels: number; nested: HandlerError | undefined } {
  let root = cause;
  let nested: HandlerError | undefined;
  let levels = 0;
  const seen = new Set<unknown>();
  try {
    for (;;) {
      const next = root instanceof DispatchError && root.errors.length == 1
        ? root.errors[0]
        : root;
      // A cause chain that loops back stops where it comes round.
      if (!(next instanceof HandlerError) || seen.has(next)) break;
      seen.add(next);
      nested = next;
      root = next.cause;
      levels++;
    }
  } catch {
    // A cause whose Proxy traps throw: the walk stops there.
  }
  return { root, levels, nested };
}

/** One failure of a DispatchError: the handler, its root cause, how deep. */
function summary(error: HandlerError): string {
  const { root, levels } = rootCause(error.cause);
  return `${error.handlerName}: ${firstLine(root, 120)}` +
    (levels ? ` (${levels} dispatch(es) down)` : "");
}

/** `"type" (id)`: an event, as the messages name it. */
function named(event: DomainEvent): string {
  return `"${event.eventType}" (${event.eventId})`;
}

/**
 * The base class of the errors this library throws about events and
 * handlers; `code` tells them apart without `instanceof`. (A dispatch in
 * `"collect"` mode rejects with {@linkcode DispatchError}, an `AggregateError`
 * that has a `code` too; wrong arguments to the API, such as dispatcher
 * options, throw a `TypeError`.)
 *
 * @example Usage
 * ```ts
 * import { createEvent, DomainEventError } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => createEvent(""), DomainEventError);
 * ```
 */
export class DomainEventError extends Error {
  /** A stable, machine-readable code, e.g. `"INVALID_EVENT"`. */
  declare readonly code: string;
  /** The class's name, for `String(error)` and stack traces. */
  override name = "DomainEventError";
  /**
   * Set when `dispatchAll` stopped at this error: the events after the one
   * that failed, in order, which were not dispatched.
   */
  declare readonly notDispatched?: readonly DomainEvent[];

  /**
   * Creates a library error.
   *
   * @param code The machine-readable code.
   * @param message What was expected and what was found.
   * @param options The standard error options, for `cause`.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * One problem found in an event or its input: where, and what.
 *
 * @example Usage
 * ```ts
 * import type { EventIssue } from "@seedwork/domain-events";
 *
 * const issue: EventIssue = { path: "payload.seats", message: "expected a finite number, got NaN" };
 * ```
 */
export interface EventIssue {
  /** Where the problem is, e.g. `payload.items[2].price`; `""` for the input itself. */
  readonly path: string;
  /** What was expected and what was found. */
  readonly message: string;
}

/**
 * Thrown when an event, its payload, its options or a serialized event is not
 * valid. `issues` names every problem found with its path.
 *
 * @example Usage
 * ```ts
 * import { createEvent, InvalidEventError } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * try {
 *   createEvent("order.placed", { total: NaN });
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert(error instanceof InvalidEventError);
 *   assert.equal(error.code, "INVALID_EVENT");
 *   assert.deepEqual(error.issues, [
 *     { path: "payload.total", message: "expected a finite number, got NaN" },
 *   ]);
 * }
 * ```
 */
export class InvalidEventError extends DomainEventError {
  /** Every problem found, each with its path. */
  declare readonly issues: readonly EventIssue[];
  /** Always `"InvalidEventError"`. */
  override name = "InvalidEventError";

  /**
   * Creates the error from its issues.
   *
   * @param issues The problems found, at least one.
   * @param options The standard error options, for `cause`.
   */
  constructor(issues: readonly EventIssue[], options?: ErrorOptions) {
    super(
      "INVALID_EVENT",
      issues.map((issue) =>
        issue.path ? `${issue.path}: ${issue.message}` : issue.message
      ).join("; "),
      options,
    );
    this.issues = Object.freeze(
      issues.map(({ path, message }) => Object.freeze({ path, message })),
    );
  }
}

/**
 * A handler (or a middleware around it) failed on an event. `cause` holds what
 * it threw or rejected with.
 *
 * When the failure comes from a nested dispatch (an event the handler
 * published failed in turn), `cause` is that dispatch's error, and the
 * message names the root cause once, with how many dispatches down it
 * happened, instead of repeating every level.
 *
 * @example Usage
 * ```ts
 * import { createEvent, HandlerError, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher();
 * dispatcher.register("invite.created", function sendEmail() {
 *   throw new Error("SMTP down");
 * });
 * const event = createEvent("invite.created");
 * await assert.rejects(dispatcher.dispatch(event), (error) => {
 *   assert(error instanceof HandlerError);
 *   assert.equal(error.handlerName, "sendEmail");
 *   assert.equal(error.event, event);
 *   assert.equal((error.cause as Error).message, "SMTP down");
 *   return true;
 * });
 * ```
 */
export class HandlerError extends DomainEventError {
  /** The event the handler was called with. */
  declare readonly event: DomainEvent;
  /** The handler's name: its function name, its class name, or `"anonymous"`. */
  declare readonly handlerName: string;
  /** Always `"HandlerError"`. */
  override name = "HandlerError";
  /** What the handler threw or rejected with. */
  declare readonly cause: unknown;

  /**
   * Wraps a handler's failure.
   *
   * @param event The event being handled.
   * @param handlerName The failing handler's name.
   * @param cause What the handler threw or rejected with.
   */
  constructor(event: DomainEvent, handlerName: string, cause: unknown) {
    const { root, levels, nested } = rootCause(cause);
    super(
      "HANDLER_FAILED",
      `Handler "${handlerName}" failed on ${named(event)}: ${
        firstLine(root, 200)
      }` + (nested
        ? ` (${levels} dispatch(es) down, in handler "${nested.handlerName}" on ${
          named(nested.event)
        })`
        : ""),
      { cause },
    );
    this.event = event;
    this.handlerName = handlerName;
  }
}

/**
 * Thrown by `context.publish` and `context.dispatch` when a chain of events
 * caused by events goes deeper than the dispatcher's `maxDepth`: an
 * `A → B → A` loop fails loudly instead of running forever.
 *
 * @example Usage
 * ```ts
 * import { MaxDepthExceededError } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const error = new MaxDepthExceededError("ping", 2);
 * assert.equal(error.code, "MAX_DEPTH_EXCEEDED");
 * assert.equal(error.maxDepth, 2);
 * ```
 */
export class MaxDepthExceededError extends DomainEventError {
  /** The type of the event that would have gone too deep. */
  declare readonly eventType: string;
  /** The dispatcher's limit. */
  declare readonly maxDepth: number;
  /** Always `"MaxDepthExceededError"`. */
  override name = "MaxDepthExceededError";

  /**
   * Creates the error.
   *
   * @param eventType The type of the event that was refused.
   * @param maxDepth The depth limit that it would have passed.
   */
  constructor(eventType: string, maxDepth: number) {
    super(
      "MAX_DEPTH_EXCEEDED",
      `expected at most ${maxDepth} levels of causation, got "${eventType}" deeper (a loop?)`,
    );
    this.eventType = eventType;
    this.maxDepth = maxDepth;
  }
}

/**
 * Rejected by a dispatch in `"collect"` mode when handlers failed: an
 * `AggregateError` whose `errors` are the {@linkcode HandlerError}s, in the
 * order the handlers were registered. Its message names the first three
 * failures with the first line of each cause. `dispatchAll` in `"collect"`
 * mode rejects with one for all its events' failures, in order (`event` is
 * then the first event that failed).
 *
 * @example Usage
 * ```ts
 * import { createEvent, DispatchError, InProcessEventDispatcher } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new InProcessEventDispatcher({ errorMode: "collect" });
 * dispatcher.register("invite.created", function a() { throw new Error("a"); });
 * dispatcher.register("invite.created", function b() { throw new Error("b"); });
 * await assert.rejects(dispatcher.dispatch(createEvent("invite.created")), (error) => {
 *   assert(error instanceof DispatchError);
 *   assert.deepEqual(error.errors.map((e) => e.handlerName), ["a", "b"]);
 *   return true;
 * });
 * ```
 */
export class DispatchError extends AggregateError {
  /** Always `"DISPATCH_FAILED"`. */
  readonly code: string = "DISPATCH_FAILED";
  /** The event whose handlers failed. */
  declare readonly event: DomainEvent;
  /** Always `"DispatchError"`. */
  override name = "DispatchError";
  /** One {@linkcode HandlerError} for each failed handler. */
  declare readonly errors: HandlerError[];
  /** As {@linkcode DomainEventError.notDispatched}. */
  declare readonly notDispatched?: readonly DomainEvent[];

  /**
   * Collects handler failures.
   *
   * @param event The event whose handlers failed.
   * @param errors The failures, at least one.
   */
  constructor(event: DomainEvent, errors: HandlerError[]) {
    const events = new Set(errors.map((error) => error.event)).size;
    const shown = errors.slice(0, 3).map(summary);
    if (errors.length > 3) shown.push(`and ${errors.length - 3} more`);
    super(
      errors,
      `${errors.length} handler(s) failed on ${
        events > 1 ? `${events} events` : named(event)
      }: ${shown.join("; ")}`,
    );
    this.event = event;
  }
}
