/** The seven fields of an event, in the order DESIGN.md writes them. */
export const FIELDS = [
  "eventId",
  "eventType",
  "occurredAt",
  "correlationId",
  "causationId",
  "payload",
  "metadata",
] as const;

/** One mebibyte: parseEvent's default length limit. */
export const MIB: number = 1024 * 1024;
