/**
 * Group 1, creating an event. Each iteration creates one event.
 *
 * - `naive` (baseline): {@linkcode naiveEvent}, a fresh UUID,
 *   `new Date().toISOString()`, a shallow copy and shallow freezes.
 * - `createEvent`: the same fields, plus validation of the type and of every
 *   payload value, a deep copy and a deep freeze.
 * - `naive deep`: `structuredClone` + recursive freeze, the nearest a user
 *   gets to createEvent's guarantees by hand (still no validation).
 *
 * @module
 */
import { createEvent } from "../mod.ts";
import {
  bench,
  naiveDeepEvent,
  naiveEvent,
  PAYLOAD_20,
  PAYLOAD_3,
} from "./_shared.ts";

const PARENT = createEvent("invite.created", PAYLOAD_3);

bench({
  name: "naive Object.freeze event, 3 fields",
  group: "create, 3-field payload",
  baseline: true,
  fn: () => {
    naiveEvent("invite.created", PAYLOAD_3);
  },
});

bench({
  name: "createEvent, 3 fields",
  group: "create, 3-field payload",
  fn: () => {
    createEvent("invite.created", PAYLOAD_3);
  },
});

bench({
  name: "createEvent, 3 fields, causedBy",
  group: "create, 3-field payload",
  fn: () => {
    createEvent("invite.email_sent", PAYLOAD_3, { causedBy: PARENT });
  },
});

bench({
  name: "naive Object.freeze event, 20 fields (shallow)",
  group: "create, 20-field nested payload",
  baseline: true,
  fn: () => {
    naiveEvent("order.placed", PAYLOAD_20);
  },
});

bench({
  name: "createEvent, 20 fields (validated, deep)",
  group: "create, 20-field nested payload",
  fn: () => {
    createEvent("order.placed", PAYLOAD_20);
  },
});

bench({
  name: "naive structuredClone + deep freeze, 20 fields",
  group: "create, 20-field nested payload",
  fn: () => {
    naiveDeepEvent("order.placed", PAYLOAD_20);
  },
});
