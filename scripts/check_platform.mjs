// The library itself (mod.ts and src/) may use only the web platform and
// ECMAScript: no `Deno`, `Bun`, `process`, `require`, `Buffer` and no `node:`
// imports. Comments are skipped (the JSDoc examples import node:assert on
// purpose: they are documentation, run by `deno test --doc`); code and
// string literals are searched.
// Usage: node scripts/check_platform.mjs [files or folders...]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const targets = process.argv.slice(2);
if (targets.length === 0) targets.push("mod.ts", "testing.ts", "src");

/** Identifiers that are not web platform globals. */
const CODE =
  /(?:(?<![\w$.])|(?<=\b(?:globalThis|self|window)\s*\.\s*))(Deno|Bun|process|require|Buffer)(?![\w$])/g;
/** String literals: `node:` specifiers, and global names looked up by string. */
const STRING = /^(node:.*|Deno|Bun|process|require|Buffer)$/s;

function listFiles(path) {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((name) => /\.(ts|tsx|js|mjs|mts)$/.test(name))
    .sort();
}

/**
 * Splits TypeScript source into code and string literals, dropping comments.
 * Yields { kind: "code" | "string", text, line }.
 */
function* tokens(source) {
  let i = 0;
  let line = 1;
  let code = "";
  let codeLine = 1;
  let last = ""; // last significant code character, to tell regex from division
  const braces = []; // for each open template `${`, the brace depth at its start
  let depth = 0;
  const emit = (text) => {
    if (!code) codeLine = line;
    code += text;
  };
  const flush = function* () {
    if (code) yield { kind: "code", text: code, line: codeLine };
    code = "";
  };
  const advance = (n) => {
    for (let k = 0; k < n; k++) if (source[i + k] === "\n") line++;
    i += n;
  };
  const readTemplate = function* () {
    // at the character after ` or after the } closing a ${...}
    let text = "";
    const start = line;
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        text += source.slice(i, i + 2);
        advance(2);
      } else if (c === "`") {
        advance(1);
        yield { kind: "string", text, line: start };
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        advance(2);
        yield { kind: "string", text, line: start };
        braces.push(depth);
        depth++;
        return;
      } else {
        text += c;
        advance(1);
      }
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const comment = source.slice(i, end === -1 ? source.length : end + 2);
      emit(" "); // keep line numbers: the comment's newlines stay in the code
      code += comment.replace(/[^\n]/g, "");
      advance(comment.length);
    } else if (c === '"' || c === "'") {
      yield* flush();
      const start = line;
      let text = "";
      advance(1);
      while (i < source.length && source[i] !== c && source[i] !== "\n") {
        if (source[i] === "\\") {
          text += source.slice(i, i + 2);
          advance(2);
        } else {
          text += source[i];
          advance(1);
        }
      }
      advance(1);
      yield { kind: "string", text, line: start };
      codeLine = line;
      last = "a";
    } else if (c === "`") {
      yield* flush();
      advance(1);
      yield* readTemplate();
      codeLine = line;
      last = "a";
    } else if (
      c === "/" && (last === "" || /[(,=:[!&|?{};+\-*%<>~^]/.test(last))
    ) {
      // a regular expression literal: skip it whole
      emit(" ");
      let inClass = false;
      advance(1);
      while (i < source.length && source[i] !== "\n") {
        const r = source[i];
        if (r === "\\") {
          advance(2);
          continue;
        }
        advance(1);
        if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
      }
      while (/[a-z]/.test(source[i] ?? "")) advance(1);
      emit(" ");
      last = "a";
    } else {
      if (c === "{") depth++;
      if (c === "}") {
        depth--;
        if (braces.length > 0 && braces[braces.length - 1] === depth) {
          braces.pop();
          advance(1);
          yield* flush();
          yield* readTemplate();
          codeLine = line;
          last = "a";
          continue;
        }
      }
      emit(c);
      if (!/\s/.test(c)) last = /[\w$)\]]/.test(c) ? "a" : c;
      // keywords after which a `/` starts a regular expression
      if (/[\w$]/.test(c) && !/[\w$]/.test(next ?? "")) {
        const word = /[\w$]+$/.exec(code)?.[0];
        if (
          /^(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/
            .test(word)
        ) {
          last = "(";
        }
      }
      advance(1);
    }
  }
  yield* flush();
}

const problems = [];
let checked = 0;
for (const target of targets) {
  for (const file of listFiles(target)) {
    checked++;
    const source = readFileSync(join(root, file), "utf8");
    for (const token of tokens(source)) {
      if (token.kind === "string") {
        if (STRING.test(token.text)) {
          problems.push(`${file}:${token.line}: string "${token.text}"`);
        }
        continue;
      }
      for (const match of token.text.matchAll(CODE)) {
        const before = token.text.slice(0, match.index);
        const at = token.line + (before.match(/\n/g)?.length ?? 0);
        problems.push(`${file}:${at}: ${match[1]}`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(
    `platform: FAIL, ${problems.length} use(s) of non-web runtime APIs:`,
  );
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(
  `platform: ${checked} files (${
    targets.join(", ")
  }) use only the web platform and ECMAScript ` +
    "(no Deno, Bun, process, require, Buffer, node: imports)",
);
