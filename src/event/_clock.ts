let lastMillis = NaN;
let lastTimestamp = "";

/**
 * The current time as `Date#toISOString()` writes it. Formatting costs more
 * than the rest of creating an event, and many events share one millisecond,
 * so the string of the last millisecond is reused.
 */
export function currentTimestamp(): string {
  const millis = Date.now();
  if (millis !== lastMillis) {
    lastTimestamp = new Date(millis).toISOString();
    lastMillis = millis;
  }
  return lastTimestamp;
}
