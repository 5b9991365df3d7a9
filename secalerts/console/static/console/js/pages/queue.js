// The alert queue: newest first, filters kept in the URL, rows added and changed live
// from the stream, triage (single and bulk) for Admins, keyboard moves.

import { api, ApiError } from "../api.js";
import {
  $,
  $$,
  h,
  isShortcut,
  severityBadge,
  showMessage,
  statusBadge,
  statusLabel,
  when,
} from "../dom.js";
import { startSession } from "../session.js";
import { AlertStream, showStreamState } from "../stream.js";

const PAGE_SIZE = 50;
const MULTI = ["status", "severity"];
const SINGLE = ["rule", "source_ip", "assigned_to", "search"];

const state = {
  isAdmin: false,
  alerts: new Map(), // id -> alert, for the rows shown
  order: [], // ids, newest first
  next: null, // cursor URL of the next page, or null
  generation: 0, // bumps on every filter change: answers to older ones are dropped
  selected: new Set(),
  current: null, // id of the row the keyboard is on
};

// ------------------------------------------------------------------- filters
function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of MULTI) filters[name] = params.getAll(name).filter(Boolean);
  for (const name of SINGLE) filters[name] = params.get(name) ?? "";
  return filters;
}

function filtersFromForm() {
  const form = $("#filters");
  const filters = {};
  for (const name of MULTI) {
    filters[name] = $$(`input[name=${name}]:checked`, form).map((box) => box.value);
  }
  for (const name of SINGLE) filters[name] = form.elements[name].value.trim();
  return filters;
}

function fillForm(filters) {
  const form = $("#filters");
  for (const name of MULTI) {
    for (const box of $$(`input[name=${name}]`, form)) box.checked = filters[name].includes(box.value);
  }
  for (const name of SINGLE) form.elements[name].value = filters[name];
}

function queryString(filters) {
  const params = new URLSearchParams();
  for (const name of MULTI) for (const value of filters[name]) params.append(name, value);
  for (const name of SINGLE) if (filters[name]) params.set(name, filters[name]);
  return params.toString();
}

/** The API's own filters, applied to a pushed alert (the stream sends every alert). */
function matches(alert, filters) {
  if (filters.status.length && !filters.status.includes(alert.status)) return false;
  if (filters.severity.length && !filters.severity.includes(alert.severity)) return false;
  if (filters.rule && String(alert.rule?.id ?? "") !== filters.rule) return false;
  if (filters.source_ip && alert.source_ip !== filters.source_ip) return false;
  if (filters.assigned_to && alert.assigned_to !== filters.assigned_to) return false;
  if (filters.search && !alert.title.toLowerCase().includes(filters.search.toLowerCase())) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------- rows
function newer(a, b) {
  return a.created_at === b.created_at ? a.id > b.id : a.created_at > b.created_at;
}

function row(alert) {
  const id = alert.id;
  const cells = [
    h("td", {}, severityBadge(alert.severity)),
    h("td", { class: "title" }, h("a", { href: `/alerts/${id}/` }, alert.title)),
    h("td", {}, statusBadge(alert.status)),
    h("td", { class: "col-rule" }, alert.rule?.name ?? "—"),
    h("td", { class: "col-ip" }, alert.source_ip ?? "—"),
    h("td", { class: "col-count num" }, String(alert.event_count)),
    h("td", { class: "col-assignee" }, alert.assigned_to ?? "—"),
    h("td", { class: "col-time" }, when(alert.created_at)),
  ];
  if (state.isAdmin) {
    const box = h("input", {
      type: "checkbox",
      "aria-label": `Select alert ${id}`,
      checked: state.selected.has(id),
      onchange: (event) => select(id, event.target.checked),
    });
    cells.unshift(h("td", { class: "col-select" }, box));
  }
  return h(
    "tr",
    {
      id: `alert-${id}`,
      tabindex: "-1",
      class: state.current === id ? "current" : null,
      dataset: { id: String(id), status: alert.status },
    },
    cells,
  );
}

function render() {
  const body = $("#rows");
  body.replaceChildren(...state.order.map((id) => row(state.alerts.get(id))));
  $("#empty").hidden = state.order.length > 0;
  $("#load-more").hidden = !state.next;
  updateSelection();
}

/** Puts an alert in its place (newest first); false when it belongs to a page not loaded. */
function place(alert, { flash }) {
  const known = state.alerts.has(alert.id);
  state.alerts.set(alert.id, alert);
  const existing = $(`#alert-${alert.id}`);
  if (known && existing) {
    const fresh = row(alert);
    existing.replaceWith(fresh);
    if (flash) fresh.classList.add("changed");
    return true;
  }
  let index = state.order.findIndex((id) => newer(alert, state.alerts.get(id)));
  if (index === -1) {
    if (state.next) {
      state.alerts.delete(alert.id); // older than every row shown: it is on a later page
      return false;
    }
    index = state.order.length;
  }
  state.order.splice(index, 0, alert.id);
  const fresh = row(alert);
  if (flash) fresh.classList.add("new");
  const before = $("#rows").children[index] ?? null;
  $("#rows").insertBefore(fresh, before);
  $("#empty").hidden = true;
  return true;
}

// ------------------------------------------------------------------- loading
async function fetchPage(filters, cursorUrl) {
  const url = cursorUrl ?? `/api/alerts/?${queryString(filters)}&page_size=${PAGE_SIZE}`;
  return api(url);
}

async function load({ push = false } = {}) {
  const filters = filtersFromForm();
  const generation = ++state.generation;
  performance.mark("console:queue-request");
  if (push) {
    const search = queryString(filters);
    history.pushState(null, "", search ? `/?${search}` : "/");
  }
  try {
    const page = await fetchPage(filters);
    if (generation !== state.generation) return;
    state.alerts = new Map(page.results.map((alert) => [alert.id, alert]));
    state.order = page.results.map((alert) => alert.id);
    state.next = page.next;
    state.selected.clear();
    render();
    performance.mark("console:queue-rendered");
    showMessage("");
  } catch (error) {
    if (generation !== state.generation) return;
    state.alerts.clear();
    state.order = [];
    state.next = null;
    render();
    $("#empty").hidden = true;
    showMessage(error instanceof ApiError ? error.message : "The alerts could not be loaded.", "error");
  }
}

async function loadMore() {
  const generation = state.generation;
  const page = await fetchPage(null, state.next);
  if (generation !== state.generation) return;
  for (const alert of page.results) {
    if (!state.alerts.has(alert.id)) state.order.push(alert.id);
    state.alerts.set(alert.id, alert);
  }
  state.next = page.next;
  render();
}

/** After the stream (re)opens: the first page again, merged, so nothing raised or changed
 * while it was away is missing. */
async function catchUp() {
  const generation = state.generation;
  const page = await fetchPage(filtersFromForm());
  if (generation !== state.generation) return;
  for (const alert of page.results.toReversed()) {
    const shown = state.alerts.get(alert.id);
    if (!shown || shown.updated_at !== alert.updated_at) place(alert, { flash: true });
  }
}

function pushed(message) {
  const alert = message.alert;
  if (state.alerts.has(alert.id) || matches(alert, filtersFromForm())) {
    place(alert, { flash: true });
  }
}

// ------------------------------------------------------------------- triage
function select(id, on) {
  if (on) state.selected.add(id);
  else state.selected.delete(id);
  updateSelection();
}

function updateSelection() {
  if (!state.isAdmin) return;
  $("#selected-count").textContent = `${state.selected.size} selected`;
  const all = $("#select-all");
  all.checked = state.order.length > 0 && state.selected.size === state.order.length;
  all.indeterminate = state.selected.size > 0 && !all.checked;
  for (const button of $$("#bulk button")) button.disabled = state.selected.size === 0;
}

async function changeStatus(ids, status) {
  const note = $("#bulk-note").value.trim();
  try {
    const answer =
      ids.length === 1
        ? await api(`/api/alerts/${ids[0]}/`, { method: "PATCH", body: { status, note } })
        : await api("/api/alerts/", { method: "PATCH", body: { ids, status, note } });
    if (ids.length === 1) place(answer, { flash: true });
    const count = ids.length === 1 ? 1 : answer.updated;
    showMessage(`${statusLabel(status)}: ${count} alert${count === 1 ? "" : "s"}.`, "ok");
    $("#bulk-note").value = "";
    state.selected.clear();
    for (const box of $$("#rows input[type=checkbox]")) box.checked = false;
    updateSelection();
  } catch (error) {
    showMessage(error instanceof ApiError ? error.message : String(error), "error");
  }
}

// ------------------------------------------------------------------ keyboard
function moveTo(id) {
  $(`#alert-${state.current}`)?.classList.remove("current");
  state.current = id;
  const element = $(`#alert-${id}`);
  element?.classList.add("current");
  element?.focus();
}

function onKey(event) {
  if (!isShortcut(event)) return;
  const index = state.order.indexOf(state.current);
  const actions = {
    j: () => moveTo(state.order[Math.min(index + 1, state.order.length - 1)]),
    k: () => moveTo(state.order[Math.max(index - 1, 0)]),
    o: () => state.current && location.assign(`/alerts/${state.current}/`),
    Enter: () => state.current && location.assign(`/alerts/${state.current}/`),
    "/": () => $("#filters").elements.search.focus(),
  };
  if (state.isAdmin && state.current) {
    actions.x = () => {
      const box = $(`#alert-${state.current} input[type=checkbox]`);
      box.checked = !box.checked;
      select(state.current, box.checked);
    };
    actions.a = () => changeStatus([state.current], "acknowledged");
    actions.r = () => changeStatus([state.current], "resolved");
    actions.f = () => changeStatus([state.current], "false_positive");
  }
  const action = actions[event.key];
  if (!action || state.order.length === 0) return;
  event.preventDefault();
  action();
}

// --------------------------------------------------------------------- start
async function fillRules() {
  const rules = await api("/api/rules/");
  const select = $("#filters").elements.rule;
  const wanted = filtersFromUrl().rule;
  select.append(...rules.map((rule) => h("option", { value: String(rule.id) }, rule.name)));
  select.value = wanted;
}

async function main() {
  fillForm(filtersFromUrl());
  const session = startSession();
  const first = load();
  const { isAdmin } = await session;
  state.isAdmin = isAdmin;
  if (isAdmin) render(); // rows again, with their check boxes
  await first;
  const form = $("#filters");
  form.addEventListener("change", (event) => {
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") {
      performance.mark("console:filter-change");
      load({ push: true });
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    performance.mark("console:filter-change");
    load({ push: true });
  });
  window.addEventListener("popstate", () => {
    fillForm(filtersFromUrl());
    load();
  });
  $("#load-more").addEventListener("click", loadMore);
  if (isAdmin) {
    $("#select-all").addEventListener("change", (event) => {
      for (const id of state.order) select(id, event.target.checked);
      for (const box of $$("#rows input[type=checkbox]")) box.checked = event.target.checked;
    });
    for (const button of $$("#bulk button")) {
      button.addEventListener("click", () => changeStatus([...state.selected], button.dataset.status));
    }
  }
  $("#rows").addEventListener("click", (event) => {
    const tr = event.target.closest("tr");
    if (tr) moveTo(Number(tr.dataset.id));
  });
  document.addEventListener("keydown", onKey);
  new AlertStream({
    onAlert: pushed,
    onState: showStreamState,
    // The first page was asked for before the stream opened: ask again once it is open,
    // for what came in between. A reconnect resumes (?since=): what was missed is
    // replayed as pushes, unless the server asks for a resync.
    onOpen: ({ resumed }) => resumed || catchUp(),
    onResync: catchUp,
  }).start();
  fillRules();
}

main();
