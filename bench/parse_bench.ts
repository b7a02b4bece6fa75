/**
 * Group 5, reading an event back. Each iteration reads one typical event: a
 * 3-field payload, a correlation and a causation id, one metadata field.
 *
 * - `JSON.parse + deep freeze` (baseline): what a user writes without a
 *   library; nothing is checked.
 * - `parseEvent(json)`: parses, checks every envelope field and every
 *   payload and metadata value, copies and deep-freezes them.
 * - `parseEvent(value)`: the same from an already parsed object (e.g. a
 *   message broker's decoded body).
 * - `JSON.parse` alone, for scale.
 *
 * @module
 */
import { createEvent, parseEvent } from "../mod.ts";
import { bench, deepFreeze, PAYLOAD_3 } from "./_shared.ts";

const ROOT = createEvent("invite.created", PAYLOAD_3);
const JSON_TEXT = JSON.stringify(
  createEvent("invite.email_sent", PAYLOAD_3, {
    causedBy: ROOT,
    metadata: { actor: "user_42" },
  }),
);
const VALUE = JSON.parse(JSON_TEXT);

bench({
  name: "JSON.parse + deep freeze",
  group: "parse a typical event",
  baseline: true,
  fn: () => {
    deepFreeze(JSON.parse(JSON_TEXT));
  },
});

bench({
  name: "parseEvent(json)",
  group: "parse a typical event",
  fn: () => {
    parseEvent(JSON_TEXT);
  },
});

bench({
  name: "parseEvent(parsed value)",
  group: "parse a typical event",
  fn: () => {
    parseEvent(VALUE);
  },
});

bench({
  name: "JSON.parse alone",
  group: "parse a typical event",
  fn: () => {
    JSON.parse(JSON_TEXT);
  },
});
