import { assertDomainEvent } from "./guards.ts";
import type { DomainEvent } from "./types.ts";

/**
 * Options for {@linkcode formatCausationTree}.
 *
 * @example Usage
 * ```ts
 * import type { FormatCausationTreeOptions } from "@seedwork/domain-events";
 *
 * const options: FormatCausationTreeOptions = { format: "mermaid" };
 * ```
 */
export interface FormatCausationTreeOptions {
  /**
   * `"text"` draws with box-drawing characters; `"mermaid"` writes a Mermaid
   * flowchart with one subgraph per correlation.
   *
   * @default {"text"}
   */
  format?: "text" | "mermaid";
}

/**
 * Draws events as one tree per correlation, each child under the event that
 * caused it.
 *
 * In text, each tree starts with a `correlation <id>` line (the
 * correlation id, or the root's event id when it has none), then one line
 * per event, `<eventType> (<first 8 characters of eventId>)`, drawn with
 * `├─`, `└─` and `│`; trees are separated by an empty line. Events are taken
 * in `occurredAt` order, ties in input order, and trees come in the order of
 * their first root. An event whose cause is not among `events` is a root.
 * An event repeated (same `eventId`) is drawn once; events whose causes
 * form a cycle (possible only by hand) are left out.
 *
 * Mermaid: `flowchart TD`, a subgraph per correlation, nodes `e0`, `e1`, ...
 * labelled like the text lines, an edge from each cause to its effect;
 * characters other than ASCII letters, digits, `_ .:()-` and space are
 * written as Mermaid entity codes (`"` as `#34;`), so any event type or
 * correlation id is safe in a label.
 *
 * @param events The events, e.g. what a recorder or a capturing handler saw.
 * @param options `format`: `"text"` or `"mermaid"`.
 * @returns The drawing, lines joined with `\n`, no final newline.
 * @throws {InvalidEventError} When an item is not a domain event.
 *
 * @example Text
 * ```ts
 * import { createEvent, formatCausationTree } from "@seedwork/domain-events";
 * import assert from "node:assert/strict";
 *
 * const created = createEvent("invite.created", {}, {
 *   eventId: "3f1c9a2e-0000-4000-8000-000000000001",
 *   correlationId: "req-42",
 * });
 * const sent = createEvent("invite.email_sent", {}, {
 *   eventId: "7b2d4e6f-0000-4000-8000-000000000002",
 *   causedBy: created,
 * });
 * assert.equal(
 *   formatCausationTree([created, sent]),
 *   [
 *     "correlation req-42",
 *     "└─ invite.created (3f1c9a2e)",
 *     "   └─ invite.email_sent (7b2d4e6f)",
 *   ].join("\n"),
 * );
 * ```
 */
export function formatCausationTree(
  events: Iterable<DomainEvent>,
  { format }: FormatCausationTreeOptions = {},
): string {
  const mermaid = format == "mermaid";
  const index = new Map<string, number>();
  // Children by cause id; roots by correlation id, under a key no id can be.
  const groups = new Map<string, DomainEvent[]>();
  const lines = mermaid ? ["flowchart TD"] : [];
  const escape = (text: string) =>
    text.replace(/[^\w .:()-]/g, (char) => `#${char.codePointAt(0)};`);
  const draw = (list: DomainEvent[] = [], prefix = "", parent?: number) =>
    list.forEach((event, position) => {
      const id = index.get(event.eventId);
      const label = `${event.eventType} (${event.eventId.slice(0, 8)})`;
      const last = position == list.length - 1;
      lines.push(
        mermaid
          ? `    e${id}["${escape(label)}"]`
          : prefix + (last ? "└─ " : "├─ ") + label,
      );
      if (mermaid && parent! >= 0) lines.push(`    e${parent} --> e${id}`);
      draw(groups.get(event.eventId), prefix + (last ? "   " : "│  "), id);
    });
  [...events].filter((event) => {
    assertDomainEvent(event);
    return !index.has(event.eventId) && index.set(event.eventId, -1);
  }).sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt))
    .forEach((event, position) => {
      index.set(event.eventId, position);
      const cause = event.causationId;
      const key = cause !== null && index.has(cause)
        ? cause
        : " " + (event.correlationId ?? event.eventId);
      groups.get(key)?.push(event) ?? groups.set(key, [event]);
    });
  let tree = 0;
  for (const [key, roots] of groups) {
    if (key[0] == " ") {
      const title = "correlation" + key;
      if (mermaid) lines.push(`  subgraph c${tree++}["${escape(title)}"]`);
      else lines.push(...(tree++ ? ["", title] : [title]));
      draw(roots);
      if (mermaid) lines.push("  end");
    }
  }
  return lines.join("\n");
}
