// Mission control's one script: the live timeline (server-sent events) and the replay slider.
// Everything it puts on the page is set as text (textContent), never parsed as markup.
"use strict";

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function when(us) {
  if (!us) return "";
  return new Date(us / 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function followTimeline(table) {
  const body = table.tBodies[0];
  const status = document.getElementById("live-status");
  const source = new EventSource(table.dataset.events);
  source.addEventListener("line", (message) => {
    const line = JSON.parse(message.data);
    if (body.querySelector(`tr[data-vs="${line.versionstamp}"]`)) return;
    const row = document.createElement("tr");
    row.dataset.vs = line.versionstamp;
    row.className = "kind-" + line.kind;
    cell(row, when(line.time_us));
    cell(row, line.agent);
    cell(row, line.kind);
    cell(row, line.what);
    body.appendChild(row);
    if (line.ticket_id) {
      const ticket = document.querySelector(`[data-ticket="${CSS.escape(line.ticket_id)}"] .ticket-state`);
      if (ticket) {
        ticket.textContent = line.ticket_state;
        ticket.className = "state ticket-state state-" + line.ticket_state;
      }
    }
  });
  source.addEventListener("end", () => {
    source.close();
    status.textContent = "finished: reload for the verdict";
    status.className = "ended";
    document.body.dataset.timeline = "ended";
  });
  source.addEventListener("open", () => { document.body.dataset.timeline = "live"; });
  // The browser retries by itself, resuming after the last id it saw; it gives up (CLOSED)
  // when the answer is not a stream, e.g. the session ended with a daemon restart.
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = "disconnected: reload the page";
      status.className = "ended";
      document.body.dataset.timeline = "closed";
    }
  });
}

function slider() {
  const step = document.getElementById("step");
  const label = document.getElementById("step-label");
  const form = document.getElementById("slider-form");
  step.addEventListener("input", () => { label.textContent = step.value; });
  step.addEventListener("change", () => { form.submit(); });
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("timeline");
  if (table && table.dataset.events) followTimeline(table);
  if (document.getElementById("step")) slider();
});
