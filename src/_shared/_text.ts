import { describeValue } from "./_messages.ts";

/** The longest error text recorded on a publication, in UTF-16 code units. */
export const MAX_ERROR_TEXT = 8192;

/**
 * A NUL, or a lone surrogate: with the `u` flag a pair is one code point, so
 * only a surrogate alone is of the category Cs.
 */
const UNSTORABLE = /\0|\p{Cs}/gu;

/**
 * `text` as PostgreSQL's `text` type stores it: each NUL and each lone
 * surrogate becomes U+FFFD. With `max`, text past it is cut and the cut
 * said, the whole staying within `max` code units.
 */
export function storableText(text: string, max = Infinity): string {
  if (text.length > max) {
    const keep = max - 48;
    const cut = `\n… (${text.length - keep} characters cut)`;
    return text.slice(0, keep).replace(UNSTORABLE, "\ufffd") + cut;
  }
  return text.replace(UNSTORABLE, "\ufffd");
}

/** Whether `text` holds a NUL or a lone surrogate. */
export function isUnstorable(text: string): boolean {
  return storableText(text) !== text;
}

/**
 * A listener's failure as storable text of at most `max` code units
 * ({@linkcode MAX_ERROR_TEXT} by default): an Error's stack (or name and
 * message), anything else through `String`. Nothing it holds can make this
 * throw: a throwing getter or `toString` gives a description instead.
 */
export function errorText(error: unknown, max = MAX_ERROR_TEXT): string {
  let text: string;
  try {
    text = error instanceof Error
      ? String(error.stack ?? `${error.name}: ${error.message}`)
      : String(error);
  } catch {
    text = `a thrown value that cannot be turned into text (${
      describeValue(error)
    })`;
  }
  return storableText(text, max);
}
