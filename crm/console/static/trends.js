// The supervisor's Trends / 傾向 view (#/trends?dimension=category&date_from=…&date_to=…): weekly counts
// of approved records by one dimension as an inline SVG line chart, hidden cells (「秘匿」, null in the
// API) drawn as gaps, detected spikes marked on the chart and listed with their masked examples, the
// same figures as a table, and downloads of the digest and the anonymized exports.

import { api, query } from "./api.js";
import { $, el } from "./dom.js";
import { getLang, t, todayJst } from "./i18n.js";
import { singleFlight } from "./live.js";
import { currentRoute, go } from "./router.js";
import { isSupervisor, state } from "./state.js";
import { guard } from "./ui.js";

export const DIMENSIONS = ["category", "sales_method", "keyword", "channel", "age_band", "business"];
// The API names channels in Japanese (knowledge/trends/records.py); English adds a word.
const CHANNEL_EN = { 電話: "Phone (電話)", 電子メール: "Email (電子メール)", ウェブ: "Web (ウェブ)", その他: "Other (その他)" };
const COLORS = ["#1f5fbf", "#b3261e", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41", "#c2185b", "#455a64", "#9e9d24"];
const SVG = "http://www.w3.org/2000/svg";
const DAY = 86_400_000;

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// Calendar arithmetic on ISO days: a day is its UTC midnight, so no browser time zone enters
// (what "today" is comes from todayJst()).
const pad2 = (n) => String(n).padStart(2, "0");
const isoDay = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
};
const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);
const validDay = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || "") && Number.isFinite(dayMs(s));

// The Monday of the week holding ``iso`` (weeks start on Monday, as in the API).
export function mondayOf(iso) {
  const ms = dayMs(iso);
  return isoDay(ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY);
}

const valueLabel = (dimension, value) => (dimension === "channel" && getLang() === "en" ? CHANNEL_EN[value] || value : value);
const cell = (n) => (n === null || n === undefined ? t("suppressed") : String(n));

// The query the view shows: from the URL, else the last 13 weeks up to today (JST).
function readParams(params) {
  const today = todayJst();
  const dimension = DIMENSIONS.includes(params.get("dimension")) ? params.get("dimension") : "category";
  const dateTo = validDay(params.get("date_to")) ? params.get("date_to") : today;
  const dateFrom = validDay(params.get("date_from")) ? params.get("date_from") : isoDay(dayMs(dateTo) - 90 * DAY);
  const center = /^\d{1,10}$/.test(params.get("center_id") || "") ? params.get("center_id") : "";
  return { dimension, date_from: dateFrom, date_to: dateTo, center_id: center };
}

function fillCenters() {
  const sel = $("#trends-form").center_id;
  $("#trends-center").hidden = !(state.me && state.me.role === "admin");
  if (sel.options.length) return;
  sel.appendChild(el("option", t("all_centers"), undefined, { value: "" }));
  for (const c of state.centers) sel.appendChild(el("option", `${c.name} (${c.code})`, undefined, { value: c.id }));
}

// Lines per value; a null count breaks the line and leaves a hatched 「秘匿」 mark on the axis.
function renderChart(counts, spikes, dimension) {
  const periods = counts.periods;
  const W = 760, H = 280, left = 40, right = 24, top = 28, bottom = 36;
  const n = Math.max(1, periods.length);
  const step = (W - left - right) / Math.max(1, n - 1);
  const values = counts.series.flatMap((s) => s.counts).filter((v) => v !== null);
  const max = Math.max(1, ...values, ...spikes.map((s) => s.count));
  const x = (i) => (n === 1 ? (left + W - right) / 2 : left + i * step);
  const y = (v) => H - bottom - (v / max) * (H - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", width: "100%", "aria-labelledby": "trends-chart-title trends-chart-desc" });
  chart.appendChild(svg("title", { id: "trends-chart-title" }, `${t("trends_chart")}: ${t(`dim_${dimension}`)} (${counts.date_from} – ${counts.date_to})`));
  chart.appendChild(svg("desc", { id: "trends-chart-desc" }, t("trends_chart_desc")));
  const defs = svg("defs");
  const pattern = svg("pattern", { id: "trends-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pattern.appendChild(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#8a93a3", "stroke-width": 2 }));
  defs.appendChild(pattern);
  chart.appendChild(defs);
  chart.appendChild(svg("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: "axis" }));
  chart.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: H - bottom, class: "axis" }));
  for (const v of [0, Math.round(max / 2), max]) {
    chart.appendChild(svg("text", { x: left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, v));
  }
  const every = Math.max(1, Math.ceil(n / 8));
  periods.forEach((p, i) => {
    if (i % every === 0) chart.appendChild(svg("text", { x: x(i), y: H - bottom + 16, class: "tick", "text-anchor": "middle" }, p.slice(5)));
  });
  counts.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const group = svg("g", { class: "series", "data-value": s.value });
    let run = [];
    const flush = () => {
      if (run.length > 1) group.appendChild(svg("polyline", { points: run.join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
      run = [];
    };
    s.counts.forEach((v, i) => {
      if (v === null) {
        flush();
        const gap = svg("rect", { x: x(i) - 5, y: H - bottom - 10 - k * 2, width: 10, height: 10, fill: "url(#trends-hatch)", stroke: color, class: "suppressed", "data-period": periods[i] });
        gap.appendChild(svg("title", {}, `${valueLabel(dimension, s.value)} ${periods[i]}: ${t("suppressed")} (${t("suppressed_help")})`));
        group.appendChild(gap);
        return;
      }
      run.push(`${x(i)},${y(v)}`);
      const dot = svg("circle", { cx: x(i), cy: y(v), r: 3, fill: color, class: "point" });
      dot.appendChild(svg("title", {}, `${valueLabel(dimension, s.value)} ${periods[i]}: ${v}`));
      group.appendChild(dot);
    });
    flush();
    chart.appendChild(group);
  });
  for (const sp of spikes) {
    const i = periods.indexOf(sp.week);
    if (i < 0) continue;
    const mark = svg("g", { class: "spike", "data-value": sp.value, "data-week": sp.week });
    mark.appendChild(svg("circle", { cx: x(i), cy: y(sp.count), r: 8, fill: "none", stroke: "#b3261e", "stroke-width": 3 }));
    const nearEdge = x(i) > W - 90;
    mark.appendChild(svg("text", { x: nearEdge ? x(i) - 12 : x(i), y: Math.max(14, y(sp.count) - 12), "text-anchor": nearEdge ? "end" : "middle", class: "spike-label" }, `▲ ${t("spike")} ${sp.count}`));
    mark.appendChild(svg("title", {}, `${t("spike")}: ${valueLabel(dimension, sp.value)} ${sp.week} — ${sp.count}`));
    chart.appendChild(mark);
  }
  $("#trends-chart").replaceChildren(chart);
}

function renderLegend(counts, dimension) {
  const frag = document.createDocumentFragment();
  counts.series.forEach((s, k) => {
    const item = el("li", null, "legend-item");
    const swatch = svg("svg", { width: 14, height: 14, "aria-hidden": "true" });
    swatch.appendChild(svg("rect", { width: 14, height: 14, fill: COLORS[k % COLORS.length] }));
    item.append(swatch, ` ${valueLabel(dimension, s.value)} (${cell(s.total)})`);
    frag.appendChild(item);
  });
  const hidden = el("li", null, "legend-item legend-suppressed");
  const swatch = svg("svg", { width: 14, height: 14, "aria-hidden": "true" });
  const p = svg("pattern", { id: "legend-hatch", width: 4, height: 4, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  p.appendChild(svg("line", { x1: 0, y1: 0, x2: 0, y2: 4, stroke: "#8a93a3", "stroke-width": 2 }));
  swatch.append(p, svg("rect", { width: 14, height: 14, fill: "url(#legend-hatch)", stroke: "#5b6577" }));
  hidden.append(swatch, ` ${t("suppressed")}: ${t("suppressed_help")}`);
  frag.appendChild(hidden);
  const spike = el("li", null, "legend-item");
  spike.appendChild(el("span", "▲", "spike-text"));
  spike.append(` ${t("spike_help")}`);
  frag.appendChild(spike);
  if (counts.more_values) frag.appendChild(el("li", t("more_values", { n: counts.more_values }), "meta"));
  $("#trends-legend").replaceChildren(frag);
}

// The figures as a table too (screen readers, exact numbers); hidden cells read 「秘匿」.
function renderTable(counts, dimension) {
  const table = el("table", null, "trends-table");
  table.appendChild(el("caption", `${t("trends_table")}: ${t(`dim_${dimension}`)}`));
  const head = el("tr");
  head.appendChild(el("th", t(`dim_${dimension}`), undefined, { scope: "col" }));
  for (const p of counts.periods) head.appendChild(el("th", p.slice(5), undefined, { scope: "col", title: p }));
  head.appendChild(el("th", t("total"), undefined, { scope: "col" }));
  const thead = el("thead");
  thead.appendChild(head);
  const tbody = el("tbody");
  const row = (label, cells, total) => {
    const tr = el("tr");
    tr.appendChild(el("th", label, undefined, { scope: "row" }));
    for (const v of cells) tr.appendChild(el("td", cell(v), v === null ? "num suppressed-cell" : "num"));
    tr.appendChild(el("td", cell(total), total === null ? "num suppressed-cell" : "num"));
    tbody.appendChild(tr);
  };
  for (const s of counts.series) row(valueLabel(dimension, s.value), s.counts, s.total);
  const all = counts.totals.every((v) => v !== null) ? counts.totals.reduce((a, b) => a + b, 0) : null;
  row(t("all_values"), counts.totals, all);
  table.append(thead, tbody);
  $("#trends-table").replaceChildren(table);
  $("#trends-empty").hidden = counts.series.length > 0;
}

function renderSpikes(spikes, dimension) {
  const frag = document.createDocumentFragment();
  if (!spikes.length) frag.appendChild(el("li", t("no_spikes"), "meta"));
  for (const sp of spikes) {
    const li = el("li", null, "spike-item", { "data-value": sp.value, "data-week": sp.week });
    li.appendChild(el("strong", `${valueLabel(dimension, sp.value)} · ${t("week_of")} ${sp.week}`));
    const usual = Number(sp.expected).toFixed(1);
    const ratio = sp.ratio === null ? "" : ` · ×${Number(sp.ratio).toFixed(1)}`;
    li.appendChild(el("div", `${t("spike_count", { n: sp.count, usual })}${ratio} · p=${Number(sp.p_value).toExponential(1)}`, "meta"));
    if (sp.examples.length) {
      const ex = el("ul", null, "examples", { "aria-label": t("masked_examples") });
      for (const e of sp.examples) {
        const item = el("li");
        item.appendChild(el("span", e.subject, "title"));
        if (e.summary) item.append(" — ", e.summary);
        ex.appendChild(item);
      }
      li.append(el("div", t("masked_examples"), "meta"), ex);
    }
    frag.appendChild(li);
  }
  $("#trends-spikes").replaceChildren(frag);
}

function setDownloads(p) {
  const scope = { center_id: p.center_id };
  const week = mondayOf(p.date_to);
  $("#trends-digest-week").textContent = t("digest_week", { week });
  const links = {
    "#dl-digest-html": `/api/stats/digest.html${query({ week, ...scope })}`,
    "#dl-digest-csv": `/api/stats/digest.csv${query({ week, ...scope })}`,
    "#dl-anon-csv": `/api/exports/anonymized.csv${query({ date_from: p.date_from, date_to: p.date_to, ...scope })}`,
    "#dl-anon-parquet": `/api/exports/anonymized.parquet${query({ date_from: p.date_from, date_to: p.date_to, ...scope })}`,
    "#dl-anon-columns": "/api/exports/anonymized-columns.csv",
  };
  for (const [sel, url] of Object.entries(links)) $(sel).href = url;
}

async function load() {
  const { params } = currentRoute();
  const allowed = isSupervisor();
  $("#trends-denied").hidden = allowed;
  $("#trends-body").hidden = !allowed;
  if (!allowed) return;
  fillCenters();
  const p = readParams(params);
  const form = $("#trends-form");
  form.dimension.value = p.dimension;
  form.date_from.value = p.date_from;
  form.date_to.value = p.date_to;
  form.center_id.value = p.center_id;
  setDownloads(p);
  $("#trends-status").textContent = t("loading");
  const [counts, spikes] = await Promise.all([
    api("GET", `/api/stats/counts${query({ ...p, period: "week" })}`),
    api("GET", `/api/stats/spikes${query(p)}`),
  ]);
  renderChart(counts, spikes, p.dimension);
  renderLegend(counts, p.dimension);
  renderTable(counts, p.dimension);
  renderSpikes(spikes, p.dimension);
  $("#trends-status").textContent = t("trends_counted", { k: counts.k });
}

export const refreshTrends = singleFlight(load);

export function bindTrends() {
  $("#trends-form").addEventListener("submit", guard(async (e) => {
    const f = e.target;
    if (f.date_from.value && f.date_to.value && f.date_from.value > f.date_to.value) throw new Error(t("range_inverted"));
    go("trends", { dimension: f.dimension.value, date_from: f.date_from.value, date_to: f.date_to.value, center_id: f.center_id.value }, true);
  }));
  $("#trends-form").dimension.addEventListener("change", () => $("#trends-form").requestSubmit());
}
