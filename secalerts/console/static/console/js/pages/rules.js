// Rules: the list for everyone; Admins switch rules on and off. The rule tester
// (POST /api/rules/test/) and the suppressions (Admins create them) below it.

import { api, ApiError } from "../api.js";
import { $, h, severityBadge, showMessage, when } from "../dom.js";
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

function parsed(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON.`);
  }
}

function failure(error) {
  return error instanceof Error ? error.message : String(error);
}

async function testRule(event) {
  event.preventDefault();
  const form = event.target;
  const out = $("#rule-test-result");
  try {
    const body = { rule: parsed(form.elements.rule.value, "The rule"), events: parsed(form.elements.events.value, "The events") };
    const result = await api("/api/rules/test/", { method: "POST", body });
    const lines = [`Matched events: ${result.matched.length ? result.matched.join(", ") : "none"}`];
    lines.push(`Alerts: ${result.alerts.length}`);
    for (const alert of result.alerts) {
      lines.push(`${alert.severity} ${alert.title} (${alert.event_count} events: ${alert.events.join(", ")})`);
    }
    out.replaceChildren(...lines.map((line) => h("div", {}, line)));
  } catch (error) {
    out.replaceChildren(h("div", { class: "error" }, failure(error)));
  }
}

function suppressionRow(suppression, names) {
  return h(
    "tr",
    { id: `suppression-${suppression.id}` },
    h("td", {}, suppression.reason),
    h("td", {}, suppression.rule ? names.get(suppression.rule) ?? `#${suppression.rule}` : "any"),
    h("td", {}, suppression.group ? h("code", {}, JSON.stringify(suppression.group)) : "—"),
    h("td", {}, suppression.condition ? h("code", {}, JSON.stringify(suppression.condition)) : "—"),
    h("td", {}, when(suppression.expires_at)),
    h("td", { class: "num" }, String(suppression.hits)),
  );
}

async function listSuppressions(names) {
  const rows = await api("/api/suppressions/");
  $("#suppressions").replaceChildren(...rows.map((row) => suppressionRow(row, names)));
}

async function suppress(event, names) {
  event.preventDefault();
  const form = event.target;
  try {
    const body = { reason: form.elements.reason.value.trim(), expires_at: `${form.elements.expires_at.value}T00:00:00Z` };
    if (form.elements.rule.value) body.rule = Number(form.elements.rule.value);
    if (form.elements.group.value.trim()) body.group = parsed(form.elements.group.value, "The group");
    await api("/api/suppressions/", { method: "POST", body });
    showMessage("Suppression created.", "ok");
    form.reset();
    await listSuppressions(names);
  } catch (error) {
    showMessage(failure(error), "error");
  }
}

async function main() {
  // First, before any await: a Test pressed while the page still loads must not submit
  // the form natively (a reload that drops what was typed).
  $("#rule-test").addEventListener("submit", testRule);
  const { isAdmin } = await startSession();
  const rules = await api("/api/rules/");
  $("#rules").replaceChildren(...rules.map((rule) => row(rule, isAdmin)));
  if (rules.length === 0) showMessage("No rules yet.");
  const names = new Map(rules.map((rule) => [rule.id, rule.name]));
  const choice = $("#new-suppression select[name=rule]");
  choice.append(...rules.map((rule) => h("option", { value: String(rule.id) }, rule.name)));
  $("#new-suppression").addEventListener("submit", (event) => suppress(event, names));
  await listSuppressions(names);
}

main();
