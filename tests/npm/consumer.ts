// A consumer of the npm package, as a Node or Bun project writes it: the
// tarball of `deno task build:npm` installed by npm, every entry imported by
// its package name. tests/npm/run.ts type-checks it with tsconfig.json
// (module nodenext, verbatimModuleSyntax, strict) and runs it on Node 22 and
// 24 and on Bun; it prints `consumer: ok` last, or throws.
import {
  createEvent,
  defineEvent,
  type DomainEvent,
  formatCausationTree,
  InProcessEventDispatcher,
  parseEvent,
} from "@seedwork/domain-events";
import {
  fromCloudEvent,
  toCloudEvent,
} from "@seedwork/domain-events/cloudevents";
import { captureEvents } from "@seedwork/domain-events/testing";
import { withEventContext } from "@seedwork/domain-events/context";
import { PostgresOutbox } from "@seedwork/domain-events/postgres";
import { PGlite } from "@electric-sql/pglite";
import assert from "node:assert/strict";

type Invite = { email: string };
const InviteCreated = defineEvent("invite.created").withPayload<Invite>();
const InviteEmailSent = defineEvent("invite.email_sent").withPayload<
  { to: string }
>();

const dispatcher = new InProcessEventDispatcher();
dispatcher.register(InviteCreated, async (event, { publish }) => {
  await publish(InviteEmailSent, { to: event.payload.email });
});
const capture = captureEvents(dispatcher);
await withEventContext(
  { correlationId: "req-42" },
  () => dispatcher.dispatch(InviteCreated.create({ email: "ada@example.com" })),
);
capture.stop();
const sent: DomainEvent<"invite.email_sent", { to: string }> = capture.ofType(
  InviteEmailSent,
)[0]!;
assert.equal(sent.payload.to, "ada@example.com");
assert.equal(sent.correlationId, "req-42");
const tree = formatCausationTree(capture.events).replace(/\(\w{8}\)/g, "(…)");
assert.deepEqual(tree.split("\n"), [
  "correlation req-42",
  "└─ invite.created (…)",
  "   └─ invite.email_sent (…)",
]);

const placed = createEvent("order.placed", { total: 12.5 });
const cloudEvent = JSON.stringify(toCloudEvent(placed, { source: "/orders" }));
assert.deepEqual(fromCloudEvent(cloudEvent), placed);
assert.deepEqual(parseEvent(JSON.stringify(placed)), placed);

const db = new PGlite();
const outbox = new PostgresOutbox(db);
await outbox.migrate();
const welcomed: string[] = [];
outbox.register(InviteCreated, "send-welcome-email", (event) => {
  welcomed.push(event.payload.email);
});
await db.transaction(async (tx) => {
  await outbox.store(tx, [InviteCreated.create({ email: "bob@example.com" })]);
});
const { completed, failed } = await outbox.processPending();
assert.deepEqual([completed, failed], [1, 0]);
assert.deepEqual(welcomed, ["bob@example.com"]);
await db.close();

console.log("consumer: ok");
