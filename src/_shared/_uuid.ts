/** 32 hexadecimal digits in groups of 8-4-4-4-12, in either case. */
const UUID = /^[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}$/i;

/** Whether `value` is a UUID string (any version, either case). */
export function isUuid(value: unknown): value is string {
  return typeof value == "string" && UUID.test(value);
}
