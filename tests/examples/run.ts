/**
 * `deno task test:examples`: the examples that need a PostgreSQL server, run
 * against a real one (tests/_servers/postgres.ts starts it on a free loopback
 * port and stops it, also on failure). Each must exit 0 and print exactly the
 * lines expected below, in order; docs/outbox.md shows parts of both. The
 * NATS relay and consumer of examples/nats/ run as processes on a real
 * nats-server (nats_examples.ts).
 * Ends with `examples: N passed, N failed`.
 *
 * @module
 */
import { startPostgres } from "../_servers/postgres.ts";
import { runNatsExamples } from "./nats_examples.ts";

const EXAMPLES: { file: string; expected: RegExp[] }[] = [
  {
    // a pool, migrate, BEGIN/store/COMMIT, a rollback, a worker stopped by
    // SIGTERM, the causation tree read back from the outbox's tables
    file: "examples/outbox_pg.ts",
    expected: [
      /^placed: the order and its event committed together$/,
      /^placed again: "duplicate key value .*", rolled back: 0 event of it stored$/,
      /^worker: stopped on SIGTERM$/,
      /^correlation req-ord_\w{8}$/,
      /^└─ order\.placed \(\w{8}\)$/,
      /^ {3}└─ stock\.reserved \(\w{8}\)$/,
    ],
  },
  {
    // postgres.js through the adapter of docs/outbox.md
    file: "examples/outbox_postgresjs.ts",
    expected: [
      /^rolled back: duplicate key value .*; its event stored: 0$/,
      /^relay: 2 completed, 1 reservation$/,
      /^correlation ord_\w{8}$/,
      /^└─ order\.placed \(\w{8}\)$/,
      /^ {3}└─ stock\.reserved \(\w{8}\)$/,
    ],
  },
];

const server = await startPostgres();
let passed = 0;
let failed = 0;
try {
  for (const { file, expected } of EXAMPLES) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      env: { DATABASE_URL: server.url },
      stdin: "null",
    }).output();
    const lines = new TextDecoder().decode(stdout).trimEnd().split("\n");
    const mismatch = expected.findIndex((pattern, i) =>
      !pattern.test(lines[i] ?? "")
    );
    const ok = code === 0 && lines.length === expected.length &&
      mismatch === -1;
    console.log(`${ok ? "ok  " : "FAIL"} ${file}`);
    console.log(lines.map((line) => `     ${line}`).join("\n"));
    if (ok) passed++;
    else {
      failed++;
      if (code !== 0) console.log(`     exited with ${code}`);
      if (mismatch !== -1) {
        console.log(
          `     line ${mismatch + 1}: expected ${expected[mismatch]}`,
        );
      }
      console.log(new TextDecoder().decode(stderr));
    }
  }
  // examples/nats/: the relay and the consumer as processes, on a real
  // nats-server; docs/beyond-one-process.md and the README show parts of both
  const natsExpected = [
    /^welcome_emails: ada@example\.com$/,
    /^examples\/nats\/relay\.ts: exit 0 on SIGTERM$/,
    /^examples\/nats\/consumer\.ts: exit 0 on SIGTERM$/,
  ];
  const natsLines = await runNatsExamples(server.url);
  const natsOk = natsLines.length === natsExpected.length &&
    natsExpected.every((pattern, i) => pattern.test(natsLines[i]!));
  console.log(`${natsOk ? "ok  " : "FAIL"} examples/nats/`);
  console.log(natsLines.map((line) => `     ${line}`).join("\n"));
  if (natsOk) passed++;
  else failed++;
} finally {
  await server.stop();
}
console.log(`examples: ${passed} passed, ${failed} failed`);
if (failed > 0) Deno.exit(1);
