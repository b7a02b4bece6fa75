/**
 * `deno task test:orms`: the outbox inside the transactions of the ORMs and
 * query builders of docs/orms.md, each from npm at the version deno.json
 * pins, against a real PostgreSQL server (tests/_servers/postgres.ts starts it
 * on a free loopback port and stops it, also on failure) and, for Drizzle's
 * PGlite driver, PGlite. Each program under examples/orms/ asserts, per tool:
 * an order row and its event stored in one transaction of that tool, a
 * rolled-back transaction storing neither, and the relay running a listener
 * whose `context.tx` writes go through the same tool; then prints one line.
 * Ends with `orms: N passed, N failed`.
 *
 * @module
 */
import { runProgramChecks } from "../_servers/programs.ts";

const PROGRAMS: { file: string; expected: string[] }[] = [
  { file: "examples/orms/drizzle.ts", expected: ["node-postgres", "pglite"] },
  { file: "examples/orms/kysely.ts", expected: ["kysely"] },
  { file: "examples/orms/typeorm.ts", expected: ["typeorm"] },
  { file: "examples/orms/mikro_orm.ts", expected: ["mikro-orm"] },
];
const LINE =
  /^([\w-]+)(?: \(([\w-]+)\))?: committed 1 order \+ 1 event; rolled back 0 \+ 0; relay: 1 reservation through \1$/;

await runProgramChecks(
  "orms",
  PROGRAMS.map(({ file, expected }) => ({
    name: file,
    mismatch: (lines) => {
      const said = lines.map((line) => LINE.exec(line)).map((match) =>
        match?.[2] ?? match?.[1]
      );
      return said.join() === expected.join()
        ? undefined
        : `expected lines for ${expected.join(", ")}`;
    },
  })),
);
