/** A UUID: 32 hexadecimal digits in groups of 8-4-4-4-12, in either case. */
export const UUID_PATTERN = /^[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}$/i;
