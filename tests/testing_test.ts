// The ./testing entry: captureEvents records what a dispatcher sees, nested
// events included, and answers queries about it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  defineEvent,
  type DomainEvent,
  formatCausationTree,
  type HandlerContext,
  InProcessEventDispatcher,
  InvalidEventError,
} from "../mod.ts";
import { captureEvents } from "../testing.ts";

const InviteCreated = defineEvent<"invite.created", { email: string }>(
  "invite.created",
);
const InviteEmailSent = defineEvent<"invite.email_sent", { to: string }>(
  "invite.email_sent",
);
const AuditLogged = defineEvent<"audit.logged", { what: string }>(
  "audit.logged",
);

/** invite.created → invite.email_sent → audit.logged, and invite.created → audit.logged. */
function inviteFlow(
  options: ConstructorParameters<typeof InProcessEventDispatcher>[0] = {},
): InProcessEventDispatcher {
  const dispatcher = new InProcessEventDispatcher(options);
  dispatcher.register(InviteCreated, async function sendEmail(event, context) {
    await context.publish(InviteEmailSent, { to: event.payload.email });
  });
  dispatcher.register(InviteCreated, async function audit(_event, context) {
    await context.publish(AuditLogged, { what: "invite" });
  });
  dispatcher.register(
    InviteEmailSent,
    async function auditEmail(_event, context) {
      await context.publish(AuditLogged, { what: "email" });
    },
  );
  return dispatcher;
}

describe("captureEvents", () => {
  it("captures top-level and nested events, each cause before what it caused", async () => {
    const dispatcher = inviteFlow();
    const capture = captureEvents(dispatcher);
    const created = InviteCreated.create({ email: "ada@example.com" });
    await dispatcher.dispatch(created);

    assert.deepEqual(capture.types(), [
      "invite.created",
      "invite.email_sent",
      "audit.logged",
      "audit.logged",
    ]);
    const [first, sent, emailAudit, inviteAudit] = capture.events;
    assert.equal(first, created);
    assert.equal(sent?.causationId, created.eventId);
    assert.equal(emailAudit?.causationId, sent?.eventId);
    assert.equal(inviteAudit?.causationId, created.eventId);
    for (const event of capture.events) {
      assert.equal(event.correlationId ?? event.eventId, created.eventId);
    }
  });

  it("captures in dispatch order with parallel handlers too", async () => {
    const dispatcher = inviteFlow({ concurrency: "parallel" });
    const capture = captureEvents(dispatcher);
    await dispatcher.dispatch(
      InviteCreated.create({ email: "ada@example.com" }),
    );
    assert.equal(capture.types()[0], "invite.created");
    assert.deepEqual(capture.types().toSorted(), [
      "audit.logged",
      "audit.logged",
      "invite.created",
      "invite.email_sent",
    ]);
  });

  it("captures events with no handler of their own, and events dispatched by hand", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let built: DomainEvent | undefined;
    dispatcher.register("a", async (event, context: HandlerContext) => {
      built = createEvent("b", {}, { causedBy: event });
      await context.dispatch(built);
    });
    const capture = captureEvents(dispatcher);
    const lonely = createEvent("nobody.listens");
    await dispatcher.dispatchAll([lonely, createEvent("a")]);
    assert.deepEqual(capture.types(), ["nobody.listens", "a", "b"]);
    assert.equal(capture.events[2], built);
  });

  it("captures events whose handlers fail, up to the failure", async () => {
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register("a", async (_event, context) => {
      await context.publish("b");
      throw new Error("boom");
    });
    dispatcher.register("a", async (_event, context) => {
      await context.publish("never");
    });
    const capture = captureEvents(dispatcher);
    await assert.rejects(dispatcher.dispatch(createEvent("a")));
    assert.deepEqual(capture.types(), ["a", "b"]);
  });

  it("does not capture what the dispatcher refuses before any handler runs", async () => {
    const dispatcher = new InProcessEventDispatcher({ maxDepth: 2 });
    let handled = 0;
    dispatcher.register("ping", async (_event, context) => {
      handled++;
      await context.publish("ping");
    });
    const capture = captureEvents(dispatcher);
    await assert.rejects(
      dispatcher.dispatch(createEvent("ping")),
      /levels of causation, got "ping" deeper \(a loop\?\)/,
    );
    await assert.rejects(
      dispatcher.dispatch({} as DomainEvent),
      InvalidEventError,
    );
    // The ping refused for its depth reached no handler: it is not captured.
    assert.ok(handled >= 2);
    assert.equal(capture.events.length, handled);
  });

  it("captures an event once, however often it is dispatched", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const capture = captureEvents(dispatcher);
    const event = createEvent("a");
    await dispatcher.dispatch(event);
    await dispatcher.dispatch(event);
    assert.deepEqual(capture.events, [event]);
  });

  it("returns a new array on every read of events", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const capture = captureEvents(dispatcher);
    await dispatcher.dispatch(createEvent("a"));
    const events = capture.events as DomainEvent[];
    events.pop();
    assert.notEqual(capture.events, capture.events);
    assert.equal(capture.events.length, 1);
  });

  it("selects by definition, typed, or by type string", async () => {
    const dispatcher = inviteFlow();
    const capture = captureEvents(dispatcher);
    await dispatcher.dispatch(
      InviteCreated.create({ email: "ada@example.com" }),
    );
    const sent = capture.ofType(InviteEmailSent);
    const to: string = sent[0]?.payload.to ?? "";
    assert.equal(to, "ada@example.com");
    const audits = capture.ofType("audit.logged");
    const type: "audit.logged" | undefined = audits[0]?.eventType;
    assert.equal(type, "audit.logged");
    assert.deepEqual(audits.map((event) => event.payload.what), [
      "email",
      "invite",
    ]);
    assert.deepEqual(capture.ofType("nothing"), []);
  });

  it("draws what it captured as formatCausationTree does, in text and Mermaid", async () => {
    const dispatcher = inviteFlow();
    const capture = captureEvents(dispatcher);
    const created = InviteCreated.create({ email: "ada@example.com" }, {
      correlationId: "req-1",
    });
    await dispatcher.dispatch(created);
    assert.equal(capture.tree(), formatCausationTree(capture.events));
    assert.equal(
      capture.tree({ format: "mermaid" }),
      formatCausationTree(capture.events, { format: "mermaid" }),
    );
    const lines = capture.tree().split("\n");
    assert.equal(lines[0], "correlation req-1");
    assert.equal(
      lines[1],
      `└─ invite.created (${created.eventId.slice(0, 8)})`,
    );
    assert.equal(lines.length, 5);
  });

  it("forgets on clear and goes on capturing", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const capture = captureEvents(dispatcher);
    const event = createEvent("a");
    await dispatcher.dispatch(event);
    capture.clear();
    assert.deepEqual(capture.events, []);
    await dispatcher.dispatch(createEvent("b"));
    await dispatcher.dispatch(event);
    assert.deepEqual(capture.types(), ["b", "a"]);
  });

  it("stops capturing on stop and on dispose, keeping what it has, harmlessly twice", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const capture = captureEvents(dispatcher);
    assert.equal(dispatcher.handlerCount(), 0); // an observer, not a handler
    await dispatcher.dispatch(createEvent("a"));
    capture.stop();
    capture.stop();
    await dispatcher.dispatch(createEvent("b"));
    assert.deepEqual(capture.types(), ["a"]);

    const disposed = captureEvents(dispatcher);
    (disposed as unknown as Record<symbol, () => void>)[
      Symbol.dispose as symbol
    ]!();
    await dispatcher.dispatch(createEvent("c"));
    assert.deepEqual(disposed.events, []);
  });

  it("captures unhandled events, and onUnhandled is still called", async () => {
    const unhandled: string[] = [];
    const dispatcher = new InProcessEventDispatcher({
      onUnhandled: (event) => unhandled.push(event.eventType),
    });
    const capture = captureEvents(dispatcher);
    await dispatcher.dispatch(createEvent("a"));
    capture.stop();
    await dispatcher.dispatch(createEvent("b"));
    assert.deepEqual(capture.types(), ["a"]);
    assert.deepEqual(unhandled, ["a", "b"]);
  });

  it("works with its functions destructured, and side by side with another capture", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const { types, ofType, stop } = captureEvents(dispatcher);
    await dispatcher.dispatch(createEvent("a"));
    const second = captureEvents(dispatcher);
    await dispatcher.dispatch(createEvent("b"));
    stop();
    await dispatcher.dispatch(createEvent("c"));
    assert.deepEqual(types(), ["a", "b"]);
    assert.equal(ofType("a").length, 1);
    assert.deepEqual(second.types(), ["b", "c"]);
  });

  it("leaves handlers, their results and middleware as they were", async () => {
    const dispatcher = new InProcessEventDispatcher();
    const calls: string[] = [];
    dispatcher.use((event, next, { handlerName }) => {
      calls.push(`${handlerName} ${event.eventType}`);
      return next();
    });
    dispatcher.register("a", function syncHandler() {
      calls.push("handled");
    });
    const capture = captureEvents(dispatcher);
    await dispatcher.dispatch(createEvent("a"));
    assert.deepEqual(calls, ["syncHandler a", "handled"]);
    assert.deepEqual(capture.types(), ["a"]);
    dispatcher.register("b", () => {
      throw new Error("still fails");
    });
    await assert.rejects(dispatcher.dispatch(createEvent("b")), /still fails/);
    assert.deepEqual(capture.types(), ["a", "b"]);
  });

  it("leaves nothing behind once stopped, however many captures start and stop", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let active = 0;
    const observe = dispatcher.observe.bind(dispatcher);
    dispatcher.observe = (observer) => {
      active++;
      const off = observe(observer);
      return Object.assign(() => {
        active--;
        off();
      }, { [Symbol.dispose]: off });
    };
    dispatcher.register("a", () => {});
    for (let i = 0; i < 1000; i++) {
      const capture = captureEvents(dispatcher);
      await dispatcher.dispatch(createEvent("a"));
      assert.equal(capture.events.length, 1);
      capture.stop();
    }
    const overlapping = Array.from(
      { length: 1000 },
      () => captureEvents(dispatcher),
    );
    assert.equal(active, 1000);
    for (const capture of overlapping) capture.stop();
    assert.equal(active, 0);
    assert.equal(dispatcher.handlerCount(), 1);
  });

  it("never records an event already being dispatched when the capture started, only what it causes", async () => {
    const dispatcher = new InProcessEventDispatcher();
    let release = () => {};
    const gate = new Promise<void>((resolve) => release = resolve);
    dispatcher.register("slow", async (_event, { publish }) => {
      await gate;
      await publish("slow.child");
    });
    dispatcher.register("slow", function afterwards() {});
    // Not `using`: Node 22 does not parse it.
    const earlier = captureEvents(dispatcher);
    const inFlight = dispatcher.dispatch(createEvent("slow"));
    const later = captureEvents(dispatcher);
    release();
    await inFlight;
    earlier.stop();
    later.stop();
    assert.deepEqual(earlier.types(), ["slow", "slow.child"]);
    assert.deepEqual(later.types(), ["slow.child"]);
  });
});
