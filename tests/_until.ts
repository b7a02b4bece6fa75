// Waiting for a condition a test cannot be told of (a row written by another
// process, a LISTEN seen by the server): one poll loop for every suite.

/**
 * Resolves once `done()` holds, checking every 5 ms; rejects after
 * `timeoutMs` naming `what`.
 */
export async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
