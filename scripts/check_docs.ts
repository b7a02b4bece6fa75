/**
 * `deno task check:docs`: the Markdown of README.md, CONTRIBUTING.md and docs/
 * as users read it. Fails on
 * - an inline code span broken across lines (a reader copying it gets a line
 *   break in the middle of a command or an identifier);
 * - a ```ts ignore block (one `deno test --doc` does not run) that does not
 *   start with `// From examples/NAME.ts`, or whose lines are not all in that
 *   file, in order (`// ...` lines stand for what is left out). The examples
 *   themselves are type-checked by check:types and run by CI.
 *
 * @module
 */

type Finding = { file: string; line: number; message: string };

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** Inline code spans with a line break inside, outside fenced blocks. */
export function brokenCodeSpans(text: string): number[] {
  const found: number[] = [];
  const prose = text.replace(
    /^(```|~~~)[^\n]*\n[^]*?^\1[^\n]*$/gm,
    (block) => block.replace(/[^\n]/g, " "),
  );
  // CommonMark: a span opens with a run of n backticks and closes at the
  // next run of exactly n; an opening run with no closing one is text.
  const runs = [...prose.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    const close = runs.findIndex((run, j) =>
      j > i && run[0].length === open[0].length
    );
    if (close === -1) continue;
    const end = runs[close]!.index!;
    const content = prose.slice(open.index!, end);
    if (/\n[ \t]*\n/.test(content)) continue; // a span ends with its paragraph
    if (content.includes("\n")) {
      found.push(lineOf(prose, open.index!));
    }
    i = close;
  }
  return found;
}

/** Problems of the ```ts ignore blocks of one Markdown text. */
export async function ignoredBlocks(
  text: string,
  readExample: (path: string) => Promise<string | undefined>,
): Promise<{ line: number; message: string }[]> {
  const problems: { line: number; message: string }[] = [];
  const blocks = /^```ts ignore[^\n]*\n([^]*?)^```$/gm;
  for (const match of text.matchAll(blocks)) {
    const line = lineOf(text, match.index!);
    const lines = match[1]!.split("\n").map((l) => l.trim()).filter(Boolean);
    const source = /^\/\/ From (examples\/[\w/.-]+\.ts)\b/.exec(lines[0] ?? "");
    if (!source) {
      problems.push({
        line,
        message:
          "a ```ts ignore block must start with `// From examples/NAME.ts` (or be made runnable: ```ts)",
      });
      continue;
    }
    const example = await readExample(source[1]!);
    if (example === undefined) {
      problems.push({ line, message: `${source[1]} does not exist` });
      continue;
    }
    const exampleLines = example.split("\n").map((l) => l.trim());
    let at = 0;
    for (const wanted of lines.slice(1)) {
      if (wanted === "// ...") continue;
      const found = exampleLines.indexOf(wanted, at);
      if (found === -1) {
        problems.push({
          line,
          message: `not in ${source[1]} (in this order): ${wanted}`,
        });
        break;
      }
      at = found + 1;
    }
  }
  return problems;
}

if (import.meta.main) {
  const files = ["README.md", "CONTRIBUTING.md"];
  for (const entry of Deno.readDirSync("docs")) {
    if (entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  const findings: Finding[] = [];
  const readExample = (path: string) =>
    Deno.readTextFile(path).catch(() => undefined);
  for (const file of files.sort()) {
    const text = await Deno.readTextFile(file);
    for (const line of brokenCodeSpans(text)) {
      findings.push({ file, line, message: "code span broken across lines" });
    }
    for (const problem of await ignoredBlocks(text, readExample)) {
      findings.push({ file, ...problem });
    }
  }
  for (const { file, line, message } of findings) {
    console.log(`${file}:${line}: ${message}`);
  }
  console.log(`check:docs: ${files.length} files, ${findings.length} problems`);
  if (findings.length > 0) Deno.exit(1);
}
