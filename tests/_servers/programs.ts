/**
 * Runs programs against a throwaway PostgreSQL server and checks what they
 * print: the loop of `deno task test:examples` and `deno task test:orms`.
 * Prints `ok`/`FAIL` per program with its output, the reason of a failure
 * and its stderr, then `<suite>: N passed, N failed`, and exits 1 when one
 * failed. The server is stopped also on failure.
 *
 * @module
 */
import { startPostgres } from "./postgres.ts";

/** What a program printed, and how it ended. */
export interface ProgramOutput {
  /** Exit code; 0 for a check that is not one process. */
  readonly code: number;
  /** Its stdout, line by line, trailing white space cut. */
  readonly lines: string[];
  /** Its stderr, shown when it failed. */
  readonly stderr: string;
}

/** One program (or several, as one check) and what it must print. */
export interface ProgramCheck {
  /** The name printed after `ok` or `FAIL`. */
  readonly name: string;
  /** Runs it; by default `deno run -A <name>` with `DATABASE_URL` set. */
  readonly run?: (databaseUrl: string) => Promise<ProgramOutput>;
  /** Why `lines` are not what it must print, or undefined when they are. */
  readonly mismatch: (lines: string[]) => string | undefined;
}

/** `deno run -A <file>` with `DATABASE_URL` set and no stdin. */
export async function runDeno(
  file: string,
  databaseUrl: string,
): Promise<ProgramOutput> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", file],
    env: { DATABASE_URL: databaseUrl },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code,
    lines: text.decode(stdout).trimEnd().split("\n"),
    stderr: text.decode(stderr),
  };
}

/** A check that `lines` are exactly one line per pattern, in order. */
export function matchesLines(
  expected: RegExp[],
): (lines: string[]) => string | undefined {
  return (lines) => {
    const wrong = expected.findIndex((pattern, i) =>
      !pattern.test(lines[i] ?? "")
    );
    if (wrong !== -1) return `line ${wrong + 1}: expected ${expected[wrong]}`;
    if (lines.length !== expected.length) {
      return `${lines.length} lines, expected ${expected.length}`;
    }
    return undefined;
  };
}

/** Starts PostgreSQL, runs every check, reports, stops it; exits 1 on a failure. */
export async function runProgramChecks(
  suite: string,
  checks: ProgramCheck[],
): Promise<void> {
  const server = await startPostgres();
  let passed = 0;
  let failed = 0;
  try {
    for (const { name, run, mismatch } of checks) {
      const { code, lines, stderr } = run
        ? await run(server.url)
        : await runDeno(name, server.url);
      const wrong = mismatch(lines);
      const ok = code === 0 && wrong === undefined;
      console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
      console.log(lines.map((line) => `     ${line}`).join("\n"));
      if (ok) {
        passed++;
        continue;
      }
      failed++;
      if (code !== 0) console.log(`     exited with ${code}`);
      if (wrong !== undefined) console.log(`     ${wrong}`);
      if (stderr) console.log(stderr);
    }
  } finally {
    await server.stop();
  }
  console.log(`${suite}: ${passed} passed, ${failed} failed`);
  if (failed > 0) Deno.exit(1);
}
