// The checks of `deno task test:browser`, run by headless Chromium against the
// browser bundles of the entries (mod.js, cloudevents.js, testing.js) and of
// zod. Each check reports its outcome to the page's server (POST /report) and
// writes it into the page; tests/browser/run.ts fails unless every check it
// expects reported and passed.
import {
  createEvent,
  defineEvent,
  formatCausationTree,
  HandlerError,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "./mod.js";
import { fromCloudEvent, toCloudEvent } from "./cloudevents.js";
import { captureEvents } from "./testing.js";
import { z } from "./zod.js";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

function thrown(run) {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw, nothing was thrown");
}

const InviteCreated = defineEvent("invite.created", {
  schema: z.object({ email: z.email(), seats: z.number().int().default(1) }),
});
const InviteEmailSent = defineEvent("invite.email_sent").withPayload();

const checks = {
  platform() {
    check(typeof window === "object" && typeof document === "object", "DOM");
    check(typeof process === "undefined", "no Node globals in a page");
  },

  create() {
    const event = createEvent("user.registered", { tags: ["a"] }, {
      correlationId: "req-1",
    });
    check(isDomainEvent(event), "createEvent makes a domain event");
    check(/^[0-9a-f-]{36}$/.test(event.eventId), `eventId ${event.eventId}`);
    check(event.correlationId === "req-1", "correlationId kept");
    check(Object.isFrozen(event.payload.tags), "frozen to the last level");
    const error = thrown(() => createEvent("x", { n: NaN }));
    check(error instanceof InvalidEventError, `NaN refused: ${error}`);
    check(error.message.includes("payload.n"), error.message);
  },

  defineWithSchema() {
    const event = InviteCreated.create({ email: "ada@example.com" });
    check(event.payload.seats === 1, "zod's default is in the payload");
    check(InviteCreated.is(event), "the definition recognizes its event");
    const error = thrown(() => InviteCreated.create({ email: "nope" }));
    check(error instanceof InvalidEventError, `schema refused: ${error}`);
  },

  async publishChain() {
    const dispatcher = new InProcessEventDispatcher();
    const seen = [];
    dispatcher.register(InviteCreated, async (event, { publish, depth }) => {
      seen.push(`${event.eventType}@${depth}`);
      const sent = await publish(InviteEmailSent, { to: event.payload.email });
      check(sent.causationId === event.eventId, "the published event's cause");
    });
    dispatcher.register(InviteEmailSent, async (event, { depth }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(`${event.eventType}@${depth}:${event.payload.to}`);
    });
    await dispatcher.dispatch(InviteCreated.create({ email: "ada@x.org" }));
    const expected = "invite.created@0,invite.email_sent@1:ada@x.org";
    check(seen.join() === expected, `handlers ran: ${seen.join()}`);
  },

  async timeoutsAndAbort() {
    const dispatcher = new InProcessEventDispatcher({ handlerTimeoutMs: 20 });
    dispatcher.register("slow", function neverSettles() {
      return new Promise(() => {});
    });
    const timedOut = await rejection(dispatcher.dispatch(createEvent("slow")));
    check(timedOut instanceof HandlerError, `a HandlerError: ${timedOut}`);
    check(timedOut.cause?.name === "TimeoutError", `cause ${timedOut.cause}`);

    const controller = new AbortController();
    const reason = new Error("user left the page");
    const aborted = dispatcher.dispatch(createEvent("slow"), {
      signal: controller.signal,
    });
    controller.abort(reason);
    check((await rejection(aborted)) === reason, "rejects with signal.reason");
  },

  parse() {
    const event = InviteCreated.create({ email: "ada@example.com" });
    const json = JSON.stringify(event);
    const back = parseEvent(json, { definition: InviteCreated });
    check(JSON.stringify(back) === json, "the same event comes back");
    check(Object.isFrozen(back.payload), "and it is frozen");
    const error = thrown(() => parseEvent('{"eventId":"x"}'));
    check(/eventId: expected a UUID/.test(error.message), error.message);
  },

  cloudEvents() {
    const event = InviteCreated.create({ email: "ada@example.com" });
    const cloudEvent = toCloudEvent(event, { source: "/invites" });
    check(cloudEvent.specversion === "1.0", "CloudEvents 1.0");
    check(cloudEvent.type === "invite.created", `type ${cloudEvent.type}`);
    const back = fromCloudEvent(JSON.stringify(cloudEvent));
    check(JSON.stringify(back) === JSON.stringify(event), "read back whole");
  },

  async causationTree() {
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register("invite.created", async (_event, { publish }) => {
      await publish("invite.email_sent");
    });
    const capture = captureEvents(dispatcher);
    const root = createEvent("invite.created", {}, { correlationId: "req-42" });
    await dispatcher.dispatch(root);
    capture.stop();
    const tree = formatCausationTree(capture.events).replace(
      /\(\w{8}\)/g,
      "(…)",
    );
    const expected = [
      "correlation req-42",
      "└─ invite.created (…)",
      "   └─ invite.email_sent (…)",
    ].join("\n");
    check(tree === expected, `tree:\n${tree}`);
  },

  async structuredCloneRefused() {
    const event = createEvent("invite.created", { email: "ada@example.com" });
    const copy = structuredClone(event);
    check(!isDomainEvent(copy), "a structuredClone copy is not frozen");
    const dispatcher = new InProcessEventDispatcher();
    dispatcher.register("invite.created", () => {});
    const error = await rejection(dispatcher.dispatch(copy));
    check(error instanceof InvalidEventError, `dispatch refused: ${error}`);
    check(isDomainEvent(parseEvent(copy)), "parseEvent makes it an event");
  },
};

async function report(outcome) {
  document.getElementById("result").textContent = JSON.stringify(outcome);
  await fetch("/report", { method: "POST", body: JSON.stringify(outcome) });
}

for (const [name, run] of Object.entries(checks)) {
  try {
    await run();
    await report({ name, ok: true });
  } catch (error) {
    await report({ name, ok: false, message: String(error?.stack ?? error) });
  }
}
await report({ name: "done", ok: true });
