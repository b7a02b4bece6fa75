// The operator's page as one HTML string: no script, one inline style
// allowed by its nonce, every value escaped here and nowhere else.
import type { DomainEvent } from "../event/types.ts";
import type { FailedPublication } from "./outbox_types.ts";
import type { ListenerStats } from "./inspect_types.ts";

/** What one render shows. */
export interface AdminView {
  readonly base: string;
  readonly token: string;
  readonly nonce: string;
  readonly stats: readonly ListenerStats[];
  readonly dead: readonly FailedPublication[];
  /** Every dead letter, as stats() counts them: `dead` is the newest of these. */
  readonly deadTotal: number;
  readonly notice: string | undefined;
  readonly correlation:
    | { readonly id: string; readonly tree: string | undefined }
    | { readonly id: string; readonly error: string }
    | undefined;
}

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE =
  `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.paused{background:#fff1c2}
.badge{background:#9a6700;color:#fff;border-radius:.6rem;padding:0 .4rem;font-size:.8rem}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:12rem;white-space:pre-wrap}
.dead{border:1px solid #d0d7de;padding:.5rem;margin:.5rem 0}.notice{background:#dafbe1;padding:.5rem}
.error{background:#ffebe9;padding:.5rem}form{display:inline}`;

function age(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function tokenField(token: string): string {
  return `<input type="hidden" name="token" value="${escapeHtml(token)}">`;
}

function listenerRows(view: AdminView): string {
  if (!view.stats.length) {
    return `<tr><td colspan="8">No listener registered or waiting.</td></tr>`;
  }
  return view.stats.map((s) => {
    const resubmit = s.failed
      ? `<form method="post" action="${view.base}/resubmit">${
        tokenField(view.token)
      }<input type="hidden" name="listenerId" value="${
        escapeHtml(s.listenerId)
      }"><button>Resubmit all ${s.failed}</button></form>`
      : "";
    return `<tr data-listener="${escapeHtml(s.listenerId)}"${
      s.paused ? ` class="paused"` : ""
    }><td>${escapeHtml(s.listenerId)}${
      s.paused ? ` <span class="badge">paused</span>` : ""
    }</td><td data-count="pending">${s.pending}</td><td data-count="due">${s.due}</td><td data-count="leased">${s.leased}</td><td data-count="failed">${s.failed}</td><td data-count="completed">${s.completed}</td><td>${
      age(s.oldestPendingAgeMs)
    }</td><td>${resubmit}</td></tr>`;
  }).join("\n");
}

function deadLetter(view: AdminView, dead: FailedPublication): string {
  const event: DomainEvent = dead.event;
  return `<div class="dead" data-publication="${escapeHtml(dead.id)}"><div><b>${
    escapeHtml(event.eventType)
  }</b> for <b>${escapeHtml(dead.listenerId)}</b>, failed ${
    escapeHtml(dead.failedAt)
  } after ${dead.attempts} attempt${
    dead.attempts === 1 ? "" : "s"
  } <form method="post" action="${view.base}/resubmit">${
    tokenField(view.token)
  }<input type="hidden" name="id" value="${
    escapeHtml(dead.id)
  }"><button>Resubmit</button></form></div><pre class="error-text">${
    escapeHtml(dead.lastError)
  }</pre><pre>${escapeHtml(JSON.stringify(event, null, 2))}</pre></div>`;
}

function correlationSection(view: AdminView): string {
  const found = view.correlation;
  const value = found ? ` value="${escapeHtml(found.id)}"` : "";
  let result = "";
  if (found && "error" in found) {
    result = `<p class="error">${escapeHtml(found.error)}</p>`;
  } else if (found) {
    result = found.tree === undefined
      ? `<p>No stored event has the correlation id ${escapeHtml(found.id)}.</p>`
      : `<pre id="tree">${escapeHtml(found.tree)}</pre>`;
  }
  return `<form method="get" action="${view.base}/"><label>Correlation id <input name="correlation"${value} required maxlength="128"></label> <button>Show causation tree</button></form>${result}`;
}

/** The whole page. */
export function renderPage(view: AdminView): string {
  const { dead, deadTotal } = view;
  const shown = dead.length >= deadTotal
    ? ""
    : ` (the newest ${dead.length} of ${deadTotal})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Outbox</title><style nonce="${view.nonce}">${STYLE}</style></head><body>
<h1>Outbox</h1>
${view.notice ? `<p class="notice">${escapeHtml(view.notice)}</p>` : ""}
<h2>Listeners</h2>
<table id="listeners"><thead><tr><th>Listener</th><th>Pending</th><th>Due</th><th>Leased</th><th>Failed</th><th>Completed</th><th>Oldest pending</th><th></th></tr></thead><tbody>
${listenerRows(view)}
</tbody></table>
<h2>Causation tree</h2>
${correlationSection(view)}
<h2>Dead letters${shown}</h2>
${
    view.dead.map((dead) => deadLetter(view, dead)).join("\n") ||
    "<p>None.</p>"
  }
</body></html>`;
}
