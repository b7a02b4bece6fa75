// deno-lint-ignore-file require-await -- every contender runs in an async bench function on purpose (see dispatch_bench.ts)
/**
 * Dispatching as a running service does it, beside the warm loop of
 * dispatch_bench.ts: four event types, each with its own handler function
 * (the call sites see several functions), in long windows of
 * {@linkcode WINDOW} dispatches; and the same after a full garbage collection
 * (`gc()`, which `deno task bench` exposes with `--v8-flags=--expose-gc`).
 * The baseline awaits an async function that calls the event's handler, so
 * it meets the same handler functions.
 *
 * @module
 */
import {
  createEvent,
  type DomainEvent,
  InProcessEventDispatcher,
} from "../mod.ts";
import { bench, PAYLOAD_3 } from "./_shared.ts";

const WINDOW = 1_000;
const STEADY = `dispatch, 4 types and handlers (${WINDOW} per iteration)`;
const AFTER_GC = `dispatch after a full GC (${WINDOW} per iteration)`;

const counts = { a: 0, b: 0, c: 0, d: 0 };
const HANDLERS: readonly ((event: DomainEvent) => void)[] = [
  () => {
    counts.a++;
  },
  () => {
    counts.b++;
  },
  () => {
    counts.c += 1;
  },
  (event) => {
    if (event.eventType) counts.d++;
  },
];
const EVENTS = HANDLERS.map((_, index) =>
  createEvent(`service.event_${index}`, PAYLOAD_3)
);
const gc = (globalThis as { gc?: () => void }).gc;

/** Benches `dispatch` over every event, round robin, in each group. */
function contender(
  name: string,
  dispatch: (event: DomainEvent, index: number) => unknown,
  baseline = false,
): void {
  const window = async () => {
    for (let i = 0; i < WINDOW; i++) await dispatch(EVENTS[i & 3]!, i & 3);
  };
  bench({ name, group: STEADY, baseline, fn: window });
  bench({
    name,
    group: AFTER_GC,
    baseline,
    fn: async (b) => {
      if (!gc) throw new Error("run with --v8-flags=--expose-gc");
      gc();
      b.start();
      await window();
      b.end();
    },
  });
}

const callHandler = async (event: DomainEvent, index: number) => {
  HANDLERS[index]!(event);
};
contender("await async function (the limit)", callHandler, true);

const dispatcher = new InProcessEventDispatcher();
for (const [index, handler] of HANDLERS.entries()) {
  dispatcher.register(EVENTS[index]!.eventType, handler);
}
contender(
  "InProcessEventDispatcher, await dispatch",
  (event) => dispatcher.dispatch(event),
);
