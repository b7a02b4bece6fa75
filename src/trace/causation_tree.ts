import { assertDomainEvent } from "../event/guards.ts";
import type { DomainEvent } from "../event/types.ts";

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
  const byId = new Map<string, DomainEvent>();
  for (const event of events) {
    assertDomainEvent(event);
    if (!byId.has(event.eventId)) byId.set(event.eventId, event);
  }
  const sorted = [...byId.values()].sort((a, b) =>
    Date.parse(a.occurredAt) - Date.parse(b.occurredAt)
  );
  // An event's position in time names its Mermaid node.
  const position = new Map<string, number>();
  // Children by cause id; roots by correlation id, under a key no id can be.
  const groups = new Map<string, DomainEvent[]>();
  for (const event of sorted) {
    position.set(event.eventId, position.size);
    const cause = event.causationId;
    const key = cause !== null && byId.has(cause)
      ? cause
      : " " + (event.correlationId ?? event.eventId);
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  const escape = (text: string) =>
    text.replace(/[^\w .:()-]/g, (char) => `#${char.codePointAt(0)};`);
  const lines = mermaid ? ["flowchart TD"] : [];
  // Depth first with a stack of [event, prefix, last child?, parent's node]:
  // no recursion, so a long chain cannot overflow the call stack.
  const stack: [DomainEvent, string, boolean, number][] = [];
  const push = (
    children: DomainEvent[] = [],
    prefix: string,
    parent: number,
  ) => {
    for (let index = children.length; index--;) {
      stack.push([
        children[index] as DomainEvent,
        prefix,
        index == children.length - 1,
        parent,
      ]);
    }
  };
  let tree = 0;
  for (const [key, roots] of groups) {
    if (key[0] != " ") continue;
    const title = "correlation" + key;
    if (mermaid) lines.push(`  subgraph c${tree++}["${escape(title)}"]`);
    else lines.push(...(tree++ ? ["", title] : [title]));
    push(roots, "", -1);
    for (let entry; (entry = stack.pop());) {
      const [event, prefix, last, parent] = entry;
      const node = position.get(event.eventId);
      const label = `${event.eventType} (${event.eventId.slice(0, 8)})`;
      if (!mermaid) lines.push(prefix + (last ? "└─ " : "├─ ") + label);
      else {
        lines.push(`    e${node}["${escape(label)}"]`);
        if (parent >= 0) lines.push(`    e${parent} --> e${node}`);
      }
      push(
        groups.get(event.eventId),
        prefix + (last ? "   " : "│  "),
        node as number,
      );
    }
    if (mermaid) lines.push("  end");
  }
  return lines.join("\n");
}
