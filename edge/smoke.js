// Smoke test of the bundled library (dist/mod.js) inside Cloudflare's workerd,
// with the web platform only (no nodejs_compat): create an event, define one
// with a guard, dispatch with a publish chain, parse an event back. `workerd
// test` runs each export's `test`; a throw fails it. The full suite runs on
// Deno, Bun and Node; this proves the same code loads and works on the edge.
import {
  createEvent,
  defineEvent,
  InProcessEventDispatcher,
  InvalidEventError,
  isDomainEvent,
  parseEvent,
} from "./mod.js";

function check(condition, message) {
  if (!condition) throw new Error(`edge smoke test: ${message}`);
}

function refuses(run, path, message) {
  try {
    run();
  } catch (error) {
    check(error instanceof InvalidEventError, `${message}: got ${error}`);
    check(error.message.includes(path), `${message}: ${error.message}`);
    return;
  }
  throw new Error(`edge smoke test: ${message}: nothing thrown`);
}

const isInvite = (payload) =>
  typeof payload?.email === "string" && payload.email.includes("@");
const InviteCreated = defineEvent("invite.created", { schema: isInvite });
const InviteEmailSent = defineEvent("invite.email_sent");

export const platform = {
  test() {
    check(typeof process === "undefined", "no Node globals (nodejs_compat)");
    check(typeof crypto.randomUUID === "function", "web crypto is there");
  },
};

export const create = {
  test() {
    const event = createEvent("user.registered", { tags: ["a"] }, {
      correlationId: "req-1",
    });
    check(isDomainEvent(event), "createEvent makes a domain event");
    check(/^[0-9a-f-]{36}$/.test(event.eventId), `eventId ${event.eventId}`);
    check(event.occurredAt === new Date(event.occurredAt).toISOString(), "ISO");
    check(event.correlationId === "req-1", "correlationId kept");
    check(Object.isFrozen(event.payload.tags), "frozen to the last level");
    refuses(() => createEvent("x", { n: NaN }), "payload.n", "NaN refused");
  },
};

export const define = {
  test() {
    const event = InviteCreated.create({ email: "ada@example.com" });
    check(InviteCreated.is(event), "the definition recognizes its event");
    check(!InviteCreated.is(createEvent("other")), "and no other type");
    refuses(() => InviteCreated.create({ email: "nope" }), "payload", "guard");
  },
};

export const dispatch = {
  async test() {
    const dispatcher = new InProcessEventDispatcher();
    const seen = [];
    dispatcher.register(InviteCreated, async (event, context) => {
      seen.push(`${event.eventType}@${context.depth}`);
      const sent = await context.publish(InviteEmailSent, {
        to: event.payload.email,
      });
      check(sent.causationId === event.eventId, "published event's cause");
      check(sent.correlationId === event.eventId, "chain's correlation id");
    });
    dispatcher.register(InviteEmailSent, async (event, context) => {
      await Promise.resolve();
      seen.push(`${event.eventType}@${context.depth}:${event.payload.to}`);
    });
    await dispatcher.dispatch(InviteCreated.create({ email: "ada@x.org" }));
    const expected = "invite.created@0,invite.email_sent@1:ada@x.org";
    check(seen.join() === expected, `handlers ran: ${seen.join()}`);

    dispatcher.register(InviteEmailSent, () => {
      throw new Error("smtp down");
    });
    const failed = await dispatcher
      .dispatch(InviteEmailSent.create({ to: "b@x.org" }))
      .then(() => undefined, (error) => error);
    check(failed?.cause?.message === "smtp down", `failure reached: ${failed}`);
  },
};

export const parse = {
  test() {
    const event = InviteCreated.create({ email: "ada@example.com" }, {
      metadata: { source: "edge" },
    });
    const json = JSON.stringify(event);
    const back = parseEvent(json, { definition: InviteCreated });
    check(JSON.stringify(back) === json, "the same event comes back");
    check(Object.isFrozen(back.metadata), "and it is frozen");
    check(InviteCreated.is(back), "and typed by its definition");
    const bad = json.replace("ada@example.com", "nope");
    refuses(
      () => parseEvent(bad, { definition: InviteCreated }),
      "payload",
      "",
    );
    refuses(() => parseEvent('{"eventType":1}'), "eventId", "bad envelope");
  },
};
