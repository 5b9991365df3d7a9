// Building DOM nodes without innerHTML (every value from the API is text, never markup).

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const STATUS_LABELS = {
  open: "Open",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
  false_positive: "False positive",
};

export const statusLabel = (status) => STATUS_LABELS[status] ?? status;

export function severityBadge(severity) {
  return h("span", { class: `badge sev-${severity}` }, severity);
}

export function statusBadge(status) {
  return h("span", { class: `status st-${status}` }, statusLabel(status));
}

/** A <time> with the exact UTC moment and a short local rendering. */
export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, shortTime(date));
}

function shortTime(date) {
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return date.toLocaleString(undefined, options);
}

export function showMessage(text, kind = "info") {
  const element = $("#message");
  if (!element) return;
  element.textContent = text;
  element.dataset.kind = kind;
}

/** Whether a key press is meant for a shortcut rather than for a field being typed in. */
export function isShortcut(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target;
  return !(target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]"));
}
