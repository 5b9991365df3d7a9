// One alert: its facts and group, linked events, history and notes; triage for Admins.
// Changes made elsewhere arrive over the stream and redraw the page.

import { api, ApiError } from "../api.js";
import { $, h, severityBadge, showMessage, statusBadge, statusLabel, when } from "../dom.js";
import { startSession } from "../session.js";
import { AlertStream, showStreamState } from "../stream.js";

const ALERT_ID = Number($("#alert").dataset.alertId);
const EVENTS_SHOWN = 50;
// The API's status graph (DESIGN.md "Alerts"); the API still decides, and says why not.
const NEXT_STATUSES = {
  open: ["acknowledged", "resolved", "false_positive"],
  acknowledged: ["resolved", "false_positive"],
  resolved: ["open"],
  false_positive: ["open"],
};
const ACTION_LABELS = {
  acknowledged: "Acknowledge",
  resolved: "Resolve",
  false_positive: "False positive",
  open: "Reopen",
};

let me = null;
let shown = null; // the alert as last drawn
let shownEvents = "";

function fact(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function renderAlert(alert) {
  shown = alert;
  document.title = `${alert.title} · Security alerts`;
  $("#alert-title").textContent = alert.title;
  $("#alert-severity").replaceWith(
    Object.assign(severityBadge(alert.severity), { id: "alert-severity" }),
  );
  $("#alert-status").replaceWith(Object.assign(statusBadge(alert.status), { id: "alert-status" }));
  $("#facts").replaceChildren(
    ...fact("Rule", alert.rule ? h("a", { href: `/?rule=${alert.rule.id}` }, alert.rule.name) : "—"),
    ...fact("Source IP", alert.source_ip ?? "—"),
    ...fact("Events", String(alert.event_count)),
    ...fact("First seen", when(alert.first_seen)),
    ...fact("Last seen", when(alert.last_seen)),
    ...fact("Assignee", alert.assigned_to ?? "nobody"),
    ...fact("Created", when(alert.created_at)),
    ...fact("Updated", when(alert.updated_at)),
    ...(alert.description ? fact("Description", alert.description) : []),
  );
  const group = Object.entries(alert.group ?? {});
  $("#group").replaceChildren(
    ...(group.length ? group.flatMap(([k, v]) => fact(k, String(v))) : fact("—", "no grouping")),
  );
  $("#history").replaceChildren(...alert.history.map(historyRow));
  if (me?.isAdmin) renderTransitions(alert.status);
  const eventsKey = alert.events.slice(0, EVENTS_SHOWN).join(",");
  if (eventsKey !== shownEvents) {
    shownEvents = eventsKey;
    loadEvents(alert.events);
  }
}

function historyRow(entry) {
  const change =
    entry.field === "note"
      ? "note"
      : `${entry.field}: ${display(entry.field, entry.old_value)} → ${display(entry.field, entry.new_value)}`;
  return h(
    "tr",
    {},
    h("td", {}, when(entry.created_at)),
    h("td", {}, entry.actor ?? "system"),
    h("td", {}, change),
    h("td", { class: "note" }, entry.note || ""),
  );
}

function display(field, value) {
  if (value === null || value === undefined) return "—";
  return field === "status" ? statusLabel(value) : String(value);
}

async function loadEvents(ids) {
  const shown = ids.slice(0, EVENTS_SHOWN);
  const events = await Promise.all(shown.map((id) => api(`/api/events/${id}/`).catch(() => null)));
  $("#events").replaceChildren(
    ...events
      .filter(Boolean)
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))
      .map((event) =>
        h(
          "tr",
          {},
          h("td", {}, when(event.timestamp)),
          h("td", {}, event.event_type),
          h("td", {}, severityBadge(event.severity)),
          h("td", {}, event.source),
          h("td", {}, event.source_ip ?? "—"),
          h("td", {}, event.username ?? "—"),
          h("td", { class: "message-cell" }, event.message ?? ""),
        ),
      ),
  );
  const more = $("#events-more");
  more.hidden = ids.length <= EVENTS_SHOWN;
  more.textContent = `The first ${EVENTS_SHOWN} of ${ids.length} events.`;
}

function renderTransitions(status) {
  $("#transitions").replaceChildren(
    ...NEXT_STATUSES[status].map((next) =>
      h(
        "button",
        { type: "button", class: "primary", dataset: { status: next }, onclick: () => change({ status: next }) },
        ACTION_LABELS[next],
      ),
    ),
  );
}

async function change(fields) {
  const note = $("#note").value.trim();
  try {
    const alert = await api(`/api/alerts/${ALERT_ID}/`, { method: "PATCH", body: { ...fields, note } });
    $("#note").value = "";
    renderAlert(alert);
    const what =
      "status" in fields
        ? statusLabel(fields.status)
        : "assigned_to" in fields
          ? `Assigned to ${fields.assigned_to ?? "nobody"}`
          : "Note added";
    showMessage(`${what}.`, "ok");
  } catch (error) {
    showMessage(error instanceof ApiError ? error.message : String(error), "error");
  }
}

async function refresh() {
  try {
    renderAlert(await api(`/api/alerts/${ALERT_ID}/`));
  } catch (error) {
    showMessage(error.status === 404 ? "No such alert." : error.message, "error");
  }
}

async function main() {
  const loading = refresh();
  me = await startSession();
  await loading;
  if (me.isAdmin) {
    if (shown) renderTransitions(shown.status);
    $("#add-note").addEventListener("click", () => {
      if ($("#note").value.trim()) change({});
      else showMessage("Write a note first.", "error");
    });
    $("#assign").addEventListener("click", () => {
      const username = $("#assignee").value.trim();
      if (username) change({ assigned_to: username });
      else showMessage("Enter a username to assign to.", "error");
    });
    $("#assign-me").addEventListener("click", () => change({ assigned_to: me.me.username }));
    $("#unassign").addEventListener("click", () => change({ assigned_to: null }));
  }
  new AlertStream({
    onAlert: (message) => message.alert.id === ALERT_ID && refresh(),
    onState: showStreamState,
    onOpen: refresh,
  }).start();
}

main();
