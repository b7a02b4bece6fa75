// formatCausationTree: one tree per correlation, children under their cause
// in occurrence order, as text and as Mermaid.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  EventRecorder,
  formatCausationTree,
  InProcessEventDispatcher,
  InvalidEventError,
} from "../mod.ts";
import type { CreateEventOptions, DomainEvent } from "../mod.ts";

/** An event with a readable fixed id (`digit` × 8 first) at `ms` past midnight. */
function at(
  type: string,
  digit: string,
  ms: number,
  options: CreateEventOptions = {},
): DomainEvent {
  return createEvent(type, {}, {
    eventId: `${digit.repeat(8)}-0000-4000-8000-000000000000`,
    occurredAt: new Date(Date.UTC(2030, 0, 1, 0, 0, 0, ms)),
    ...options,
  });
}

// Two flows that interleave in time, given in shuffled order.
const a1 = at("invite.created", "1", 0, { correlationId: "req-1" });
const a2 = at("order.placed", "6", 1);
const b1 = at("invite.email_sent", "2", 2, { causedBy: a1 });
const b2 = at("stock.reserved", "7", 3, { causedBy: a2 });
const e2 = at("payment.requested", "8", 3, { causedBy: a2 }); // same time as b2
const c1 = at("mail.delivered", "3", 4, { causedBy: b1 });
const d1 = at("audit.logged", "4", 5, { causedBy: a1 });
const orphan = at("invite.reminded", "5", 6, {
  correlationId: "req-1",
  causationId: "ffffffff-0000-4000-8000-000000000000", // not in the set
});
const shuffled = [c1, e2, b2, a2, d1, orphan, b1, a1];

describe("formatCausationTree as text", () => {
  it("draws one tree per correlation, children under their cause in occurrence order", () => {
    assert.equal(
      formatCausationTree(shuffled),
      [
        "correlation req-1",
        "├─ invite.created (11111111)",
        "│  ├─ invite.email_sent (22222222)",
        "│  │  └─ mail.delivered (33333333)",
        "│  └─ audit.logged (44444444)",
        "└─ invite.reminded (55555555)",
        "",
        "correlation 66666666-0000-4000-8000-000000000000",
        "└─ order.placed (66666666)",
        "   ├─ payment.requested (88888888)",
        "   └─ stock.reserved (77777777)",
      ].join("\n"),
    );
  });

  it("makes an event whose cause is missing a root, and orders ties by input order", () => {
    assert.equal(
      formatCausationTree([b2, e2, c1]),
      [
        "correlation 66666666-0000-4000-8000-000000000000",
        "├─ stock.reserved (77777777)",
        "└─ payment.requested (88888888)",
        "",
        "correlation req-1",
        "└─ mail.delivered (33333333)",
      ].join("\n"),
    );
  });

  it("draws a repeated event once and leaves out events caused by each other", () => {
    const x = at("x", "a", 0, {
      correlationId: "loop",
      causationId: "bbbbbbbb-0000-4000-8000-000000000000",
    });
    const y = at("y", "b", 1, {
      correlationId: "loop",
      causationId: "aaaaaaaa-0000-4000-8000-000000000000",
    });
    const self = at("self", "c", 2, {
      correlationId: "loop",
      causationId: "cccccccc-0000-4000-8000-000000000000",
    });
    assert.equal(
      formatCausationTree([a1, b1, a1, x, y, self, b1]),
      [
        "correlation req-1",
        "└─ invite.created (11111111)",
        "   └─ invite.email_sent (22222222)",
      ].join("\n"),
    );
  });

  it("accepts any iterable and returns an empty string for no events", () => {
    assert.equal(formatCausationTree([]), "");
    assert.equal(
      formatCausationTree(new Set([a2])),
      "correlation 66666666-0000-4000-8000-000000000000\n└─ order.placed (66666666)",
    );
  });

  it("refuses what is not a domain event", () => {
    assert.throws(
      () => formatCausationTree([a1, { ...b1 } as DomainEvent]),
      InvalidEventError,
    );
  });
});

describe("formatCausationTree on a long chain", () => {
  // 10,000 events, each caused by the one before: deeper than any call stack
  // a recursive drawing would need.
  let last: DomainEvent = createEvent("chain.step", {}, {
    correlationId: "long",
  });
  const chain = [last];
  for (let step = 1; step < 10_000; step++) {
    chain.push(last = createEvent("chain.step", {}, { causedBy: last }));
  }

  it("draws every event as text, each one level under its cause", () => {
    // The text indents each level by three spaces, so its size grows with
    // the square of the depth: 2,000 levels keep it to 6 MB.
    const prefix = chain.slice(0, 2_000);
    const lines = formatCausationTree(prefix).split("\n");
    assert.equal(lines.length, 2_001);
    assert.equal(lines[0], "correlation long");
    assert.equal(
      lines[2_000],
      " ".repeat(3 * 1_999) +
        `└─ chain.step (${prefix.at(-1)!.eventId.slice(0, 8)})`,
    );
  });

  it("draws every event and edge in Mermaid", () => {
    const lines = formatCausationTree(chain, { format: "mermaid" }).split("\n");
    assert.equal(lines.filter((line) => line.includes(" --> ")).length, 9_999);
    assert.equal(
      lines.filter((line) => /^ {4}e\d+\[/.test(line)).length,
      10_000,
    );
  });
});

describe("formatCausationTree as Mermaid", () => {
  it("writes a flowchart with a subgraph per correlation and an edge per cause", () => {
    assert.equal(
      formatCausationTree(shuffled, { format: "mermaid" }),
      [
        "flowchart TD",
        '  subgraph c0["correlation req-1"]',
        '    e0["invite.created (11111111)"]',
        '    e2["invite.email_sent (22222222)"]',
        "    e0 --> e2",
        '    e5["mail.delivered (33333333)"]',
        "    e2 --> e5",
        '    e6["audit.logged (44444444)"]',
        "    e0 --> e6",
        '    e7["invite.reminded (55555555)"]',
        "  end",
        '  subgraph c1["correlation 66666666-0000-4000-8000-000000000000"]',
        '    e1["order.placed (66666666)"]',
        '    e3["payment.requested (88888888)"]',
        "    e1 --> e3",
        '    e4["stock.reserved (77777777)"]',
        "    e1 --> e4",
        "  end",
      ].join("\n"),
    );
  });

  it("escapes what could break a label", () => {
    const odd = at('a"b#c<d>&`[x]', "9", 0, { correlationId: 'c"1' });
    assert.equal(
      formatCausationTree([odd], { format: "mermaid" }),
      [
        "flowchart TD",
        '  subgraph c0["correlation c#34;1"]',
        '    e0["a#34;b#35;c#60;d#62;#38;#96;#91;x#93; (99999999)"]',
        "  end",
      ].join("\n"),
    );
    assert.equal(
      formatCausationTree([], { format: "mermaid" }),
      "flowchart TD",
    );
  });
});

describe("formatCausationTree on a real dispatch", () => {
  it("separates two flows dispatched at the same time", async () => {
    const recorder = new EventRecorder();
    const dispatcher = new InProcessEventDispatcher({
      concurrency: "parallel",
    });
    dispatcher.registerAny((event) => recorder.record(event));
    dispatcher.register("invite.created", async (_event, { publish }) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      await publish("invite.email_sent");
      await publish("invite.audited");
    });
    dispatcher.register("invite.email_sent", async (_event, { publish }) => {
      await publish("mail.queued");
    });
    const first = createEvent("invite.created", {}, { correlationId: "req-1" });
    const second = createEvent("invite.created", {}, {
      correlationId: "req-2",
    });
    await Promise.all([
      dispatcher.dispatch(first),
      dispatcher.dispatch(second),
    ]);

    const events = recorder.pullEvents();
    assert.equal(events.length, 8);
    const text = formatCausationTree(events).replace(/\([0-9a-f]{8}\)/g, "(…)");
    const tree = (id: string) =>
      [
        `correlation ${id}`,
        "└─ invite.created (…)",
        "   ├─ invite.email_sent (…)",
        "   │  └─ mail.queued (…)",
        "   └─ invite.audited (…)",
      ].join("\n");
    assert.equal(text, `${tree("req-1")}\n\n${tree("req-2")}`);
  });
});
