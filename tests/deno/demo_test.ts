import { describe, it } from "node:test";
import assert from "node:assert/strict";

describe("deno task demo", () => {
  it("runs the invite flow and ends with the causation tree of both requests", async () => {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        new URL("../../examples/invite_flow.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(code, 0);
    const output = new TextDecoder().decode(stdout).replace(
      /\(\w{8}\)/g,
      "(…)",
    );
    const tree = output.slice(
      output.indexOf("What happened, by correlation and cause:"),
    );
    assert.match(
      tree,
      /correlation req-7f3a\n└─ invite\.created \(…\)\n {3}└─ invite\.email_sent \(…\)\n/,
    );
    assert.match(
      tree,
      /correlation req-9b1c\n└─ invite\.accepted \(…\)\n {3}└─ member\.joined \(…\)\n {6}└─ welcome\.email_sent \(…\)\n/,
    );
    assert.ok(
      output.trimEnd().endsWith("      └─ welcome.email_sent (…)"),
      "the demo ends with the causation tree",
    );
    assert.match(
      output,
      /Emails sent: 2, one per request:\n {2}invite email to ada@example\.com \(invite\.created, req-7f3a\)\n {2}welcome email to ada@example\.com \(member\.joined, req-9b1c\)\n/,
    );
    assert.match(
      output,
      /Handler failures reported \(errorMode "isolate"\): 1, staged: notifySlack always throws/,
    );
    assert.match(
      output,
      /Handler "notifySlack" failed on "invite\.email_sent"/,
    );
  });
});
