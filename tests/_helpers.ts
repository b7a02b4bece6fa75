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

type Listener = (event: Event) => void;
const host = globalThis as unknown as {
  addEventListener?: (type: string, listener: Listener) => void;
  removeEventListener?: (type: string, listener: Listener) => void;
  process?: {
    on?: (type: string, listener: (reason: unknown) => void) => void;
    off?: (type: string, listener: (reason: unknown) => void) => void;
  };
};

/**
 * Runs `run`, then waits 20 ms, and returns every promise rejection that
 * went unhandled meanwhile, heard through the web event (Deno, browsers)
 * and the process event (Node, Bun). Belt and braces: the three test
 * runners also fail on an unhandled rejection by themselves (tried by hand
 * with a deliberate one: Deno and Node fail the running test, Bun the next
 * one), even with these listeners installed.
 */
export async function unhandledRejectionsDuring(
  run: () => Promise<void>,
): Promise<unknown[]> {
  const reasons = new Set<unknown>();
  const onEvent: Listener = (event) => {
    event.preventDefault();
    reasons.add((event as Event & { reason?: unknown }).reason);
  };
  const onProcess = (reason: unknown) => {
    reasons.add(reason);
  };
  host.addEventListener?.("unhandledrejection", onEvent);
  host.process?.on?.("unhandledRejection", onProcess);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    host.removeEventListener?.("unhandledrejection", onEvent);
    host.process?.off?.("unhandledRejection", onProcess);
  }
  return [...reasons];
}

/** Asserts that no promise rejection goes unhandled while `run` runs. */
export async function assertNoUnhandledRejection(
  run: () => Promise<void>,
): Promise<void> {
  assert.deepEqual(await unhandledRejectionsDuring(run), []);
}

/**
 * Thrown values that resist inspection: every inspection of the first throws
 * (`instanceof` included); the second's message getter throws.
 */
export const UNINSPECTABLE: readonly (() => unknown)[] = [
  () =>
    new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap getPrototypeOf");
      },
    }),
  () =>
    Object.defineProperty(new Error("x"), "message", {
      get() {
        throw new Error("message getter");
      },
    }),
];
