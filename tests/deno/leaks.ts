// Heap check (issue #7): 1,000,000 events created and dispatched through
// publish chains, then 200,000 register/unregister pairs; the heap after a
// forced GC must grow by less than 2 MB over each phase and over both.
//
//   deno task test:leaks
//   (deno run --v8-flags=--expose-gc tests/deno/leaks.ts)
//
// Not a *_test.ts file on purpose: `deno task test` runs without
// --expose-gc and must not pick it up. Without gc() it fails, loudly; it
// never skips. `--plant-leak` keeps 1 event in 100 alive, to show that the
// check does fail on a leak (it must exit 1).
import {
  createEvent,
  type DomainEvent,
  type HandlerError,
  InProcessEventDispatcher,
} from "../../mod.ts";

const LIMIT = 2 * 1024 * 1024;
const ROOTS = 250_000; // each a chain of 4 events: 1,000,000 events
const CHAIN = ["order.placed", "order.paid", "order.packed", "order.shipped"];
const PAIRS = 200_000;
const BATCH = 1_000; // dispatches in flight at once
const plantLeak = Deno.args.includes("--plant-leak");

const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc !== "function") {
  console.error(
    "leaks: FAIL, gc() is not exposed: run it with --v8-flags=--expose-gc " +
      "(deno task test:leaks)",
  );
  Deno.exit(1);
}

async function heap(): Promise<number> {
  for (let round = 0; round < 8; round++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return Deno.memoryUsage().heapUsed;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(3)} MiB`;

// Three long-lived dispatchers, in turn: every error mode and both
// concurrency modes, middleware, any-handlers, and failures to report.
let handled = 0;
let failuresReported = 0;
let failuresRejected = 0;
const planted: DomainEvent[] = [];

function chainDispatcher(
  options: ConstructorParameters<typeof InProcessEventDispatcher>[0],
  failLast: boolean,
): InProcessEventDispatcher {
  const dispatcher = new InProcessEventDispatcher(options);
  dispatcher.use(async (_event, next) => {
    await next();
  });
  CHAIN.forEach((type, index) => {
    const next = CHAIN[index + 1];
    dispatcher.register(type, async (event, { publish }) => {
      handled++;
      if (plantLeak && handled % 100 === 0) planted.push(event);
      if (next) await publish(next, { step: index + 1 });
      else if (failLast) throw new Error("shipping failed");
    });
  });
  dispatcher.registerAny(() => {});
  return dispatcher;
}

const dispatchers = [
  chainDispatcher({}, false),
  chainDispatcher({ concurrency: "parallel", errorMode: "collect" }, true),
  chainDispatcher({
    concurrency: "parallel",
    errorMode: "isolate",
    onHandlerError: (_error: HandlerError) => {
      failuresReported++;
    },
  }, true),
];
const registrations = dispatchers.map((d) => d.handlerCount());

async function dispatchRoots(count: number): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(start + BATCH, count); i++) {
      const dispatcher = dispatchers[i % 3] as InProcessEventDispatcher;
      batch.push(dispatcher.dispatch(createEvent(CHAIN[0] as string, { i })));
    }
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === "rejected") failuresRejected++;
    }
  }
}

function registerPairs(count: number): void {
  for (let i = 0; i < count; i++) {
    const dispatcher = dispatchers[i % 3] as InProcessEventDispatcher;
    // A fresh closure each time; half of them on a type of their own, so
    // the registry's keys come and go too.
    const handler = () => void i;
    const type = i % 2 ? `pair.${i}` : CHAIN[i % 4] as string;
    switch (i % 4) {
      case 0:
        dispatcher.register(type, handler)();
        break;
      case 1: {
        dispatcher.register(type, handler);
        if (!dispatcher.unregister(type, handler)) throw new Error("missing");
        break;
      }
      case 2: {
        const off = dispatcher.register(type, handler);
        off[Symbol.dispose]();
        off();
        break;
      }
      default:
        dispatcher.registerAny(handler)();
    }
  }
}

// Warm up every path (JIT, hidden classes, the registry Map) and let the
// heap reach its steady size before the baseline is taken, after 400,000
// events: what grows from there on is what the events and pairs leave.
const cold = await heap();
await dispatchRoots(100_000);
registerPairs(20_000);
handled = failuresReported = failuresRejected = 0;

const start = await heap();
let time = performance.now();
await dispatchRoots(ROOTS);
const eventsMs = performance.now() - time;
const afterEvents = await heap();
time = performance.now();
registerPairs(PAIRS);
const pairsMs = performance.now() - time;
const afterPairs = await heap();

const checks: [string, boolean][] = [
  [`${CHAIN.length * ROOTS} events handled`, handled === CHAIN.length * ROOTS],
  [
    "every failure reported once (collect: rejected, isolate: onHandlerError)",
    failuresRejected === Math.floor((ROOTS + 1) / 3) &&
    failuresReported === Math.floor(ROOTS / 3),
  ],
  [
    "as many registrations as before the pairs",
    dispatchers.every((d, i) => d.handlerCount() === registrations[i]),
  ],
  ["heap growth over the events < 2 MiB", afterEvents - start < LIMIT],
  ["heap growth over the pairs < 2 MiB", afterPairs - afterEvents < LIMIT],
  ["heap growth over both < 2 MiB", afterPairs - start < LIMIT],
];

console.log(
  [
    `leaks: ${handled.toLocaleString("en")} events in ${
      ROOTS.toLocaleString("en")
    } chains of ${CHAIN.length}, ${BATCH} in flight, in ${
      (eventsMs / 1000).toFixed(1)
    } s (${Math.round(handled / eventsMs * 1000).toLocaleString("en")}/s)`,
    `leaks: ${PAIRS.toLocaleString("en")} register/unregister pairs in ${
      (pairsMs / 1000).toFixed(2)
    } s`,
    `leaks: heap after GC ${mib(cold)} cold, ${mib(start)} warm -> ${
      mib(afterEvents)
    } (events ${mib(afterEvents - start)}) -> ${mib(afterPairs)} (pairs ${
      mib(afterPairs - afterEvents)
    }); ` +
    `total growth ${mib(afterPairs - start)}, limit ${mib(LIMIT)}`,
    ...checks.map(([name, ok]) => `leaks: ${ok ? "ok  " : "FAIL"} ${name}`),
    plantLeak ? `leaks: (planted ${planted.length} events on purpose)` : "",
  ].filter(Boolean).join("\n"),
);
if (checks.some(([, ok]) => !ok)) Deno.exit(1);
