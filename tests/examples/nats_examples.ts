/**
 * Runs examples/nats/relay.ts and examples/nats/consumer.ts as the processes
 * they are, against a real nats-server and the given PostgreSQL server: an
 * invite stored by a third party (this module, through the outbox) must reach
 * the consumer's `welcome_emails` table once, then SIGTERM stops both with
 * exit code 0. Returns what it saw, one line each, for tests/examples/run.ts.
 *
 * @module
 */
import pg from "pg";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { startNats } from "../_servers/nats.ts";

const EXAMPLES = ["examples/nats/relay.ts", "examples/nats/consumer.ts"];

export async function runNatsExamples(databaseUrl: string): Promise<string[]> {
  const nats = await startNats();
  const env = { DATABASE_URL: databaseUrl, NATS_URL: nats.url };
  const children = EXAMPLES.map((file) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn()
  );
  const db = new pg.Pool({ connectionString: databaseUrl });
  const lines: string[] = [];
  try {
    const outbox = new PostgresOutbox(db);
    outbox.registerAny("nats-relay", () => {}); // run by the relay process
    await outbox.migrate();
    const client = await db.connect();
    try {
      await client.query("BEGIN");
      await outbox.store(client, [
        createEvent("invite.created", { email: "ada@example.com" }),
      ]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const deadline = Date.now() + 60_000;
    let emails: string[] = [];
    while (Date.now() < deadline) {
      const result = await db.query(
        "SELECT email FROM welcome_emails",
      ).catch(() => ({ rows: [] as { email: string }[] }));
      emails = result.rows.map((row: { email: string }) => row.email);
      if (emails.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // a duplicate would land now
    const { rows } = await db.query("SELECT email FROM welcome_emails");
    lines.push(
      `welcome_emails: ${
        rows.map((row: { email: string }) => row.email).join(", ")
      }`,
    );
  } finally {
    for (const child of children) child.kill("SIGTERM");
    for (const [i, child] of children.entries()) {
      lines.push(
        `${EXAMPLES[i]}: exit ${(await child.status).code} on SIGTERM`,
      );
    }
    await db.end();
    await nats.stop();
  }
  return lines;
}
