// Every README block a Node 22 user would run parses on Node 22: no `using`
// declarations, which Node 22 cannot parse (issue #10, item 8). (The blocks
// themselves run under `deno task test`.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

describe("README code blocks", () => {
  it("declare nothing with `using`", async () => {
    const readme = await readFile(
      new URL("../README.md", import.meta.url),
      "utf8",
    );
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((
      match,
    ) => match[1] as string);
    assert(blocks.length > 5);
    for (const block of blocks) {
      assert.doesNotMatch(block, /^\s*(await\s+)?using\s+[\w$]+\s*=/m);
    }
  });
});
