/**
 * The demo: a team invitation flow, from the aggregate that records what
 * happened to the handlers that react to it, ending with the causation tree
 * of everything that happened.
 *
 * Run it with `deno task demo` (or `npx --yes deno@2.9.6 task demo`).
 *
 * @module
 */
import {
  defineEvent,
  type DomainEvent,
  EventRecorder,
  formatCausationTree,
  type HandlerError,
  InProcessEventDispatcher,
} from "../mod.ts";

// 1. The events, defined once with their payload types and a schema.
const InviteCreated = defineEvent("invite.created", {
  schema: (value): value is { inviteId: string; email: string; team: string } =>
    typeof value === "object" && value !== null &&
    ["inviteId", "email", "team"].every((key) =>
      typeof (value as Record<string, unknown>)[key] === "string"
    ),
});
const InviteAccepted = defineEvent<"invite.accepted", { inviteId: string }>(
  "invite.accepted",
);
const InviteEmailSent = defineEvent<
  "invite.email_sent",
  { inviteId: string; to: string }
>("invite.email_sent");
const MemberJoined = defineEvent<
  "member.joined",
  { team: string; email: string }
>(
  "member.joined",
);
const WelcomeEmailSent = defineEvent<"welcome.email_sent", { to: string }>(
  "welcome.email_sent",
);

// 2. The aggregate records events while it handles a command; it dispatches nothing.
class Invite {
  readonly #events = new EventRecorder();
  readonly #id: string;
  readonly #email: string;
  readonly #team: string;
  #accepted = false;

  private constructor(id: string, email: string, team: string) {
    this.#id = id;
    this.#email = email;
    this.#team = team;
  }

  static create(
    id: string,
    email: string,
    team: string,
    requestId: string,
  ): Invite {
    const invite = new Invite(id, email, team);
    invite.#events.record(
      InviteCreated.create({ inviteId: id, email, team }, {
        correlationId: requestId,
      }),
    );
    return invite;
  }

  accept(requestId: string): void {
    if (this.#accepted) {
      throw new Error(`Invite ${this.#id} is already accepted`);
    }
    this.#accepted = true;
    this.#events.record(
      InviteAccepted.create({ inviteId: this.#id }, {
        correlationId: requestId,
        metadata: { email: this.#email, team: this.#team },
      }),
    );
  }

  pullEvents(): DomainEvent[] {
    return this.#events.pullEvents();
  }
}

// 3. The dispatcher, its handlers and a logging middleware.
const failures: HandlerError[] = [];
const dispatcher = new InProcessEventDispatcher({
  errorMode: "isolate",
  onHandlerError: (error) => failures.push(error),
});
const everything: DomainEvent[] = [];
const activityLog: string[] = [];
const emailsSent: string[] = []; // one line per email: which, to whom, why
const cache = new Map<string, string>();

dispatcher.use(async (event, next, { handlerName, depth }) => {
  if (!everything.includes(event)) everything.push(event); // in the order dispatches start
  console.log(`${"  ".repeat(depth)}→ ${event.eventType} · ${handlerName}`);
  await next();
});

dispatcher.register(
  InviteCreated,
  async function sendInviteEmail(event, context) {
    // A real app calls its mailer here.
    emailsSent.push(
      `invite email to ${event.payload.email} (invite.created, ${event.correlationId})`,
    );
    await context.publish(InviteEmailSent, {
      inviteId: event.payload.inviteId,
      to: event.payload.email,
    });
  },
);
dispatcher.register(InviteCreated, function refreshInviteCache(event) {
  cache.set(event.payload.inviteId, "pending");
});
// A staged failure: this handler always throws, to show that in "isolate"
// mode a failing handler stops no other one and is reported, not lost.
dispatcher.register(InviteEmailSent, function notifySlack() {
  throw new Error("Slack webhook timed out");
});
dispatcher.register(InviteAccepted, async function addMember(event, context) {
  cache.set(event.payload.inviteId, "accepted");
  await context.publish(MemberJoined, {
    team: String(event.metadata.team),
    email: String(event.metadata.email),
  });
});
dispatcher.register(
  MemberJoined,
  async function sendWelcomeEmail(event, context) {
    emailsSent.push(
      `welcome email to ${event.payload.email} (member.joined, ${event.correlationId})`,
    );
    await context.publish(WelcomeEmailSent, { to: event.payload.email });
  },
);
dispatcher.registerAny(function logActivity(event) {
  activityLog.push(`${event.occurredAt} ${event.eventType}`);
});

// 4. The application service: run the command, commit, then dispatch what was recorded.
const saved = new Map<string, Invite>();
async function commitAndDispatch(id: string, invite: Invite): Promise<void> {
  saved.set(id, invite); // the simulated commit: events go out only after it
  await dispatcher.dispatchAll(invite.pullEvents());
}

console.log("POST /invites (request req-7f3a)");
const invite = Invite.create(
  "inv_42",
  "ada@example.com",
  "compilers",
  "req-7f3a",
);
await commitAndDispatch("inv_42", invite);

console.log("\nPOST /invites/inv_42/accept (request req-9b1c)");
invite.accept("req-9b1c");
await commitAndDispatch("inv_42", invite);

console.log(`\nEmails sent: ${emailsSent.length}, one per request:`);
for (const email of emailsSent) console.log(`  ${email}`);
console.log(`Activity log entries: ${activityLog.length}`);
console.log(`Cache: ${JSON.stringify(Object.fromEntries(cache))}`);
console.log(
  `Handler failures reported (errorMode "isolate"): ${failures.length}, ` +
    "staged: notifySlack always throws; the other handlers ran",
);
for (const failure of failures) console.log(`  ${failure.message}`);

console.log(
  "\nThe events with their ids (causationId = the eventId of the cause):",
);
for (const event of everything) {
  console.log(
    [
      event.eventType.padEnd(18),
      `eventId ${event.eventId.slice(0, 8)}`,
      `causationId ${event.causationId?.slice(0, 8) ?? "null    "}`,
      `correlationId ${event.correlationId}`,
    ].join("  "),
  );
}

console.log("\nWhat happened, by correlation and cause:");
console.log(formatCausationTree(everything));
