/**
 * `deno task test:examples`: the examples that need a PostgreSQL server, run
 * against a real one (tests/_servers/postgres.ts starts it on a free loopback
 * port and stops it, also on failure). Each must exit 0 and print exactly the
 * lines expected below, in order (tests/_servers/programs.ts runs them);
 * docs/outbox.md shows parts of both. The
 * NATS relay and consumer of examples/nats/ run as processes on a real
 * nats-server (nats_examples.ts).
 * Ends with `examples: N passed, N failed`.
 *
 * @module
 */
import { matchesLines, runProgramChecks } from "../_servers/programs.ts";
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

await runProgramChecks("examples", [
  ...EXAMPLES.map(({ file, expected }) => ({
    name: file,
    mismatch: matchesLines(expected),
  })),
  {
    // examples/nats/: the relay and the consumer as processes, on a real
    // nats-server; docs/beyond-one-process.md and the README show parts of both
    name: "examples/nats/",
    run: async (databaseUrl) => ({
      code: 0,
      lines: await runNatsExamples(databaseUrl),
      stderr: "",
    }),
    mismatch: matchesLines([
      /^welcome_emails: ada@example\.com$/,
      /^examples\/nats\/relay\.ts: exit 0 on SIGTERM$/,
      /^examples\/nats\/consumer\.ts: exit 0 on SIGTERM$/,
    ]),
  },
]);
