// The hostile values a listener may throw, for the outbox's fault tests (on
// PGlite and on a real server): each must end as a recorded attempt with
// storable, bounded text, never as a stalled row or a rejected batch.
import { UNINSPECTABLE } from "./_helpers.ts";

/** [what it is, a function that makes it], for a listener to throw. */
export const HOSTILE: readonly [string, () => unknown][] = [
  ["an Error with NUL", () => new Error("x\u0000y")],
  ["a lone surrogate", () => new Error("x\ud800y\udc00z")],
  ["a 10 MB message", () => new Error("m".repeat(10 * 1024 * 1024))],
  ["a string with NUL", () => "nul\u0000"],
  ["a throwing toString", () => ({
    toString() {
      throw new Error("toString");
    },
  })],
  [
    "a throwing stack getter",
    () =>
      Object.defineProperty(new Error("x"), "stack", {
        get() {
          throw new Error("stack getter");
        },
      }),
  ],
  ["a symbol", () => Symbol("s\u0000")],
  ["undefined", () => undefined],
  ["a proxy", UNINSPECTABLE[0] as () => unknown],
  ["an uninspectable message", UNINSPECTABLE[1] as () => unknown],
];
