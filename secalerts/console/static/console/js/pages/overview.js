// The overview: totals by status, alerts raised per hour or day by severity (a stacked
// bar chart, drawn as SVG, with the same figures as a table), top rules and source IPs.

import { api, ApiError } from "../api.js";
import { $, h, showMessage, statusLabel, svg } from "../dom.js";
import { startSession } from "../session.js";

const SEVERITIES = ["info", "low", "medium", "high", "critical"];
const WIDTH = 1200;
const HEIGHT = 240;
const AXIS = 40; // room for the y labels on the left and the x labels below

function label(start, bucket) {
  const date = new Date(start);
  return bucket === "hour"
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function chart(stats) {
  const points = stats.series;
  const totals = points.map((p) => SEVERITIES.reduce((sum, s) => sum + p.counts[s], 0));
  const top = Math.max(1, ...totals);
  const plotWidth = WIDTH - AXIS;
  const plotHeight = HEIGHT - AXIS;
  const step = plotWidth / points.length;
  const barWidth = Math.max(1, step * 0.8);
  const everyNth = Math.ceil(points.length / 8);
  const sum = totals.reduce((a, b) => a + b, 0);
  const title = svg("title", { id: "series-title" });
  title.textContent = `Alerts raised per ${stats.bucket}, by severity: ${sum} in the period, at most ${top} in one ${stats.bucket}.`;
  const graphic = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-labelledby": "series-title",
    class: "series",
  }, title);
  for (const [value, y] of [[top, 0], [0, plotHeight]]) {
    const text = svg("text", { x: AXIS - 6, y: y + 12, "text-anchor": "end", class: "axis" });
    text.textContent = String(value);
    graphic.append(text, svg("line", { x1: AXIS, x2: WIDTH, y1: y + 0.5, y2: y + 0.5, class: "grid" }));
  }
  points.forEach((point, index) => {
    const x = AXIS + index * step + (step - barWidth) / 2;
    const group = svg("g", {});
    const tip = svg("title", {});
    tip.textContent = `${label(point.start, stats.bucket)}: ${SEVERITIES.map((s) => `${s} ${point.counts[s]}`).join(", ")}`;
    group.append(tip);
    let y = plotHeight;
    for (const severity of SEVERITIES) {
      const height = (point.counts[severity] / top) * plotHeight;
      if (height > 0) {
        y -= height;
        group.append(svg("rect", { x, y, width: barWidth, height, class: `bar sev-${severity}` }));
      }
    }
    group.append(svg("rect", { x, y: 0, width: barWidth, height: plotHeight, class: "hit" }));
    graphic.append(group);
    if (index % everyNth === 0) {
      const text = svg("text", { x: x + barWidth / 2, y: HEIGHT - 12, "text-anchor": "middle", class: "axis" });
      text.textContent = label(point.start, stats.bucket);
      graphic.append(text);
    }
  });
  return graphic;
}

function seriesTable(stats) {
  return [
    h("caption", { class: "visually-hidden" }, `Alerts per ${stats.bucket} by severity`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, stats.bucket === "hour" ? "Hour" : "Day"),
      ...SEVERITIES.map((s) => h("th", { scope: "col" }, s)))),
    h("tbody", {}, ...stats.series.map((point) =>
      h("tr", {}, h("th", { scope: "row" }, label(point.start, stats.bucket)),
        ...SEVERITIES.map((s) => h("td", { class: "num" }, String(point.counts[s])))))),
  ];
}

function barTable(rows, caption) {
  if (rows.length === 0) return [h("caption", {}, `No ${caption} in this period.`)];
  const top = Math.max(...rows.map((row) => row.count));
  return [
    h("caption", { class: "visually-hidden" }, caption),
    h("tbody", {}, ...rows.map((row) => {
      const bar = svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "bar-cell", "aria-hidden": "true" },
        svg("rect", { x: 0, y: 0, height: 10, width: (row.count / top) * 100 }));
      return h("tr", {}, h("th", { scope: "row" }, h("a", { href: row.href }, row.name)),
        h("td", { class: "num" }, String(row.count)), h("td", { class: "bar-col" }, bar));
    })),
  ];
}

async function load() {
  const bucket = new URLSearchParams(location.search).get("bucket") === "day" ? "day" : "hour";
  $("#range").elements.bucket.value = bucket;
  try {
    const stats = await api(`/api/alerts/stats/?bucket=${bucket}`);
    $("#totals").replaceChildren(
      h("li", {}, h("a", { href: "/" }, h("strong", {}, String(stats.total)), " all")),
      ...Object.entries(stats.by_status).map(([status, count]) =>
        h("li", {}, h("a", { href: `/?status=${status}` }, h("strong", {}, String(count)), ` ${statusLabel(status).toLowerCase()}`))),
    );
    $("#series-chart").replaceChildren(chart(stats));
    $("#legend").replaceChildren(...SEVERITIES.toReversed().map((s) =>
      h("li", {}, h("span", { class: `swatch sev-${s}`, "aria-hidden": "true" }), s)));
    $("#series-table").replaceChildren(...seriesTable(stats));
    $("#top-rules").replaceChildren(...barTable(
      stats.top_rules.map((r) => ({ name: r.name, count: r.count, href: `/?rule=${r.id}` })), "rules"));
    $("#top-ips").replaceChildren(...barTable(
      stats.top_source_ips.map((r) => ({ name: r.source_ip, count: r.count, href: `/?source_ip=${encodeURIComponent(r.source_ip)}` })), "source IPs"));
    performance.mark("console:overview-rendered");
  } catch (error) {
    showMessage(error instanceof ApiError ? error.message : "The figures could not be loaded.", "error");
  }
}

async function main() {
  const session = startSession();
  $("#range").addEventListener("change", (event) => {
    history.pushState(null, "", `/overview/?bucket=${event.target.value}`);
    load();
  });
  window.addEventListener("popstate", load);
  await session;
  await load();
}

main();
