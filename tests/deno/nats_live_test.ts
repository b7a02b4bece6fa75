// The ./nats fixes on a real nats-server and a real client: each scenario
// runs in a child process (_nats_live.ts), since deno test runs without
// network access. The cluster, outages and SIGKILLs: test:integration.
import { describe, it } from "node:test";
import assert from "node:assert/strict";

/** Runs one scenario of _nats_live.ts and returns what it printed. */
async function live(scenario: "relay" | "consumer") {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_nats_live.ts", import.meta.url).pathname,
      scenario,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(code, 0);
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The two consumer scenarios, run once by the first test that asks. */
let consumerScenarios: ReturnType<typeof live> | undefined;
const consumers = () => consumerScenarios ??= live("consumer");

describe("./nats on a real nats-server", () => {
  it("natsRelay publishes while up, and fails at once naming a connection closed or disconnected before the relay was made", async () => {
    const outcome = await live("relay");
    assert.equal(outcome.up, "published");
    // Without the state at start: "JetStream did not acknowledge … within
    // 5000 ms" (closed), and a wait of timeoutMs on every run for the whole
    // outage (disconnected).
    assert.match(outcome.closed, /the NATS connection is closed; event /);
    assert.match(
      outcome.disconnected,
      /the NATS connection is disconnected since before \d{4}-.+Z \(the client is reconnecting\); event /,
    );
  });

  it("consumeEvents naks a failed dispatch whose retryDelayMs throws after the default delay, and handles the rest of its batch", async () => {
    // Ledger: the effects table the handler writes. Were the throw to escape
    // (as a failed pull), the two healthy events, fetched in the same batch,
    // would wait for the 5-minute ack wait: no effect, no ack, and the
    // broken one would not come back within the scenario's 20 s.
    const { counts, deliveries, errors, effects } =
      (await consumers()).retryDelayMs;
    assert.deepEqual(effects, ["o_1", "o_2"]);
    assert.deepEqual(counts, { acked: 2, retried: 2, terminated: 0 });
    assert.equal(
      deliveries.filter((id: string) => id == "o_broken").length,
      2,
      "the nak brought it back",
    );
    assert.equal(errors.length, 4);
    assert.match(errors[0], /^HandlerError: Handler "book" failed/);
    assert.match(
      errors[1],
      /^Error: consumeEvents: retryDelayMs failed on delivery 1 of event .+ \(delay table missing\); nak'ed after the default 1000 ms$/,
    );
  });

  it("consumeEvents with an onError that throws: each report goes to console.error, the failed dispatch is nak'ed, and the rest of its batch handled", async () => {
    // Ledger: the effects table the handler writes, its deliveries, and the
    // console.error lines. Were onError's throw to escape (its first report
    // is o_broken's failed dispatch), o_broken would not be nak'ed (no second
    // delivery within the 5-minute ack wait), o_1 and o_2, fetched in the
    // same batch, would wait for it too (no effect), and the throw from the
    // pull's own report would end consumeEvents with a rejection: the child
    // would exit 1.
    const { counts, deliveries, errors, logged, effects } =
      (await consumers()).onError;
    assert.deepEqual(effects, ["o_1", "o_2"]);
    assert.deepEqual(counts, { acked: 2, retried: 2, terminated: 0 });
    assert.equal(
      deliveries.filter((id: string) => id == "o_broken").length,
      2,
      "the nak brought it back",
    );
    // onError was given both failed dispatches, and threw on each: both
    // reports reached console.error, each followed by why.
    assert.equal(errors.length, 2);
    assert.deepEqual(logged.length, 4);
    for (const index of [0, 2]) {
      assert.match(logged[index], /^HandlerError: Handler "book" failed/);
      assert.match(
        logged[index + 1],
        /^Error: consumeEvents: onError threw \(the log shipper is down\) on the error logged just before/,
      );
    }
  });
});
