// Helpers and fixtures shared by the tests: one copy each.
import assert from "node:assert/strict";
import { type EventIssue, InvalidEventError } from "../mod.ts";

/** The seven fields of an event, in the order DESIGN.md writes them. */
export const FIELDS = [
  "eventId",
  "eventType",
  "occurredAt",
  "correlationId",
  "causationId",
  "payload",
  "metadata",
] as const;

/** One mebibyte: parseEvent's default length limit. */
export const MIB: number = 1024 * 1024;

/** Asserts that `fn` throws an InvalidEventError with exactly these issues. */
export function assertInvalid(fn: () => unknown, issues: EventIssue[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidEventError, String(error));
    assert.deepEqual(error.issues, issues);
    return true;
  });
}

/** Asserts that `value` and every object inside it are frozen. */
export function assertDeepFrozen(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  assert.ok(Object.isFrozen(value));
  for (const item of Object.values(value)) assertDeepFrozen(item);
}

/**
 * The promise rejections left unhandled while `run` runs and for 20 ms
 * after, on Deno and browsers (the unhandledrejection event) or on Node
 * and Bun (the process's unhandledRejection event).
 */
export async function unhandledRejectionsDuring(
  run: () => Promise<void>,
): Promise<unknown[]> {
  const reasons: unknown[] = [];
  const globals = globalThis as {
    addEventListener?: (type: string, listener: (event: Event) => void) => void;
    removeEventListener?: (
      type: string,
      listener: (event: Event) => void,
    ) => void;
    process?: {
      on(type: string, listener: (reason: unknown) => void): void;
      off(type: string, listener: (reason: unknown) => void): void;
    };
  };
  const onEvent = (event: Event) => {
    event.preventDefault();
    reasons.push((event as PromiseRejectionEvent).reason);
  };
  const onReason = (reason: unknown) => reasons.push(reason);
  const web = typeof globals.addEventListener == "function";
  if (web) globals.addEventListener?.("unhandledrejection", onEvent);
  else globals.process?.on("unhandledRejection", onReason);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    if (web) globals.removeEventListener?.("unhandledrejection", onEvent);
    else globals.process?.off("unhandledRejection", onReason);
  }
  return reasons;
}
