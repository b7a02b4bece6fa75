import { checkArgument } from "../_shared/_arguments.ts";

/** NATS subject tokens: no whitespace, no wildcard, none empty. */
const SUBJECT_TOKENS = /^[^\s*>.]+(\.[^\s*>.]+)*$/;

/** Throws a TypeError unless `value` is a subject prefix such as `"events"`. */
export function checkSubjectPrefix(value: unknown): string {
  checkArgument(
    typeof value == "string" && SUBJECT_TOKENS.test(value),
    "subjectPrefix",
    'NATS subject tokens without wildcards or whitespace, e.g. "events"',
    value,
  );
  return value as string;
}

/** Throws a TypeError unless `value` is a stream or consumer name. */
export function checkName(value: unknown, name: string): string {
  // JetStream names: no whitespace, dots, wildcards or path separators.
  checkArgument(
    typeof value == "string" && /^[^\s.*>/\\]{1,255}$/.test(value),
    name,
    "a JetStream name (1 to 255 characters, no whitespace, '.', '*', '>', '/' or '\\')",
    value,
  );
  return value as string;
}
