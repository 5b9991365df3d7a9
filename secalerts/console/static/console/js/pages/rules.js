// Rules: the list for everyone; Admins switch rules on and off.

import { api, ApiError } from "../api.js";
import { $, h, severityBadge, showMessage } from "../dom.js";
import { startSession } from "../session.js";

function threshold(rule) {
  if (!rule.threshold) return "—";
  const t = rule.threshold;
  const what = t.distinct_field ? `${t.count} distinct ${t.distinct_field}` : `${t.count} events`;
  return `${what} in ${t.window_seconds} s`;
}

function row(rule, isAdmin) {
  const toggle = h("input", {
    type: "checkbox",
    checked: rule.enabled,
    disabled: !isAdmin,
    "aria-label": `${rule.name} enabled`,
    onchange: (event) => setEnabled(rule, event.target),
  });
  return h(
    "tr",
    { id: `rule-${rule.id}` },
    h("td", {}, toggle),
    h("td", {}, h("a", { href: `/?rule=${rule.id}` }, rule.name), rule.description ? h("div", { class: "hint" }, rule.description) : null),
    h("td", {}, rule.severity === "inherit" ? "inherit" : severityBadge(rule.severity)),
    h("td", {}, rule.group_by?.length ? rule.group_by.join(", ") : "—"),
    h("td", {}, threshold(rule)),
    h("td", { class: "num" }, `${rule.dedup_window_seconds} s`),
  );
}

async function setEnabled(rule, box) {
  box.disabled = true;
  try {
    const saved = await api(`/api/rules/${rule.id}/`, { method: "PATCH", body: { enabled: box.checked } });
    rule.enabled = saved.enabled;
    showMessage(`${saved.name}: ${saved.enabled ? "enabled" : "disabled"}.`, "ok");
  } catch (error) {
    box.checked = rule.enabled;
    showMessage(error instanceof ApiError ? error.message : String(error), "error");
  } finally {
    box.disabled = false;
  }
}

async function main() {
  const { isAdmin } = await startSession();
  const rules = await api("/api/rules/");
  $("#rules").replaceChildren(...rules.map((rule) => row(rule, isAdmin)));
  if (rules.length === 0) showMessage("No rules yet.");
}

main();
