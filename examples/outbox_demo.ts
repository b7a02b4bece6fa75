/**
 * The outbox demo, on PGlite (PostgreSQL compiled to WebAssembly, from npm):
 * a child process saves an invite with its event in one transaction and is
 * killed with SIGKILL right after the COMMIT, before any listener ran (a
 * crash between COMMIT and dispatch); then a new process opens the same
 * database and its relay delivers everything, a follow-up event included;
 * the causation tree shows what ran.
 *
 * Run it with `deno task demo:outbox`. The database lives in a temporary
 * directory, which the killed child and the new process share.
 *
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { defineEvent, formatCausationTree, parseEvent } from "../mod.ts";
import { PostgresOutbox } from "../postgres.ts";

const InviteCreated = defineEvent<
  "invite.created",
  { inviteId: string; email: string; team: string }
>("invite.created");
const InviteEmailSent = defineEvent<"invite.email_sent", { to: string }>(
  "invite.email_sent",
);

let smtpUp = false; // the mail server is down on the first try

/** The same durable listeners in every process, under stable ids. */
function createOutbox(db: PGlite): PostgresOutbox {
  const outbox = new PostgresOutbox(db, { retryDelayMs: 0 });
  outbox.register(
    InviteCreated,
    "send-invite-email",
    async (event, { tx, publish, attempt }) => {
      if (!smtpUp) {
        smtpUp = true;
        console.log(`  send-invite-email: SMTP timeout (attempt ${attempt})`);
        throw new Error("SMTP timeout");
      }
      console.log(
        `  send-invite-email: to ${event.payload.email} (attempt ${attempt})`,
      );
      await tx.query("INSERT INTO sent_emails (invite_id) VALUES ($1)", [
        event.payload.inviteId,
      ]);
      await publish(InviteEmailSent, { to: event.payload.email });
    },
  );
  outbox.register(
    InviteEmailSent,
    "mark-invite-sent",
    async (event, { tx }) => {
      console.log(`  mark-invite-sent: ${event.payload.to}`);
      await tx.query("UPDATE invites SET status = 'sent' WHERE email = $1", [
        event.payload.to,
      ]);
    },
  );
  outbox.registerAny("audit-log", async (event, { tx }) => {
    console.log(`  audit-log: ${event.eventType}`);
    await tx.query("INSERT INTO audit (event_id) VALUES ($1)", [event.eventId]);
  });
  return outbox;
}

/** The child: the command, then it waits to be killed. */
async function command(dataDir: string): Promise<never> {
  const db = new PGlite(dataDir);
  const outbox = createOutbox(db);
  await outbox.migrate();
  await db.exec(`
    CREATE TABLE invites (id text PRIMARY KEY, email text, status text);
    CREATE TABLE sent_emails (invite_id text);
    CREATE TABLE audit (event_id uuid);
  `);
  await db.transaction(async (tx) => {
    await tx.query(
      "INSERT INTO invites VALUES ('inv_1', 'ada@example.com', 'created')",
    );
    await outbox.store(tx, [
      InviteCreated.create(
        { inviteId: "inv_1", email: "ada@example.com", team: "core" },
        { correlationId: "req-7f3a" },
      ),
    ]);
  });
  console.log("committed");
  return await new Promise<never>(() => {}); // no relay ever runs here
}

if (Deno.args[0] === "command") await command(Deno.args[1] as string);

const dataDir = await Deno.makeTempDir({ prefix: "outbox-demo-" });
try {
  console.log(
    "1. The command, in a child process: save the invite and its event in one transaction",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      import.meta.filename as string,
      "command",
      dataDir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("committed")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the child ended before committing");
    said += value;
  }
  child.kill("SIGKILL");
  const { signal } = await child.status;
  await lines.cancel();
  console.log(
    `   committed; the child (pid ${child.pid}) is killed with ${signal} before any listener ran`,
  );

  console.log("2. After the restart: a new process, the same database");
  const db = new PGlite(dataDir);
  const outbox = createOutbox(db);
  await outbox.migrate();
  const pending = await db.query<{ listener_id: string }>(
    `SELECT listener_id FROM ${outbox.tables.publications} WHERE status = 'pending' ORDER BY id`,
  );
  console.log(
    `   pending: ${pending.rows.map((row) => row.listener_id).join(", ")}`,
  );
  for (let round = 1;; round++) {
    const result = await outbox.processPending();
    if (!result.completed && !result.retried && !result.failed) break;
    console.log(`   relay round ${round}: ${JSON.stringify(result)}`);
  }

  const { rows } = await db.query<{ body: string }>(
    `SELECT body::text AS body FROM ${outbox.tables.events} ORDER BY occurred_at`,
  );
  const invite = await db.query<{ status: string }>(
    "SELECT status FROM invites WHERE id = 'inv_1'",
  );
  const emails = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM sent_emails",
  );
  console.log(
    `3. The invite is ${invite.rows[0]?.status}, ${
      emails.rows[0]?.n
    } email sent; what ran, by correlation and cause:`,
  );
  console.log(formatCausationTree(rows.map((row) => parseEvent(row.body))));
  await db.close();
} finally {
  await Deno.remove(dataDir, { recursive: true });
}
