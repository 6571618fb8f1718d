// The supervisor wallboard: queues per center and channel (waiting, longest wait ticking, service
// level against the target, abandonment, handle times, offered/answered), arrivals by hour against
// the staffing calculator's need (inline SVG), alerts first, and every counselor in a virtualized
// list (only the visible rows exist in the DOM, so 3,000 counselors scroll smoothly).

import { api, query } from "./api.js";
import { tickAll } from "./clock.js";
import { $, el } from "./dom.js";
import { channelLabel, fmtDuration, fmtPercent, presenceLabel, roleLabel, statusLabel, t } from "./i18n.js";
import { singleFlight } from "./live.js";
import { go } from "./router.js";
import { loadTemplateAdmin } from "./templates.js";
import { centerName, state } from "./state.js";
import { guard, toast } from "./ui.js";

const ROW_HEIGHT = 36;
const STATES = ["available", "busy", "after_call_work", "break", "offline"];
const STATE_ORDER = { available: 0, busy: 1, after_call_work: 2, break: 3, offline: 4 };
let data = null;
let rows = [];

function renderQueues() {
  const frag = document.createDocumentFragment();
  for (const q of data.queues) {
    const tr = el("tr");
    tr.dataset.center = q.center_id;
    tr.dataset.channel = q.channel;
    const wait = el("td");
    if (q.oldest_waiting_since) wait.appendChild(el("span", fmtDuration(q.longest_wait_seconds), "wait", { "data-since": q.oldest_waiting_since }));
    else wait.textContent = "–";
    const sl = el("td", q.service_level === null ? "–" : `${fmtPercent(q.service_level)} (${t("target")} ${fmtPercent(data.sl_target)})`);
    if (q.service_level !== null && q.service_level < data.sl_target) sl.className = "below-target";
    const abandoned = q.offered ? `${q.abandoned} (${fmtPercent(q.abandonment_rate)})` : "0";
    tr.append(el("td", centerName(q.center_id)), el("td", channelLabel(q.channel)), el("td", q.waiting, "num"), wait, sl,
      el("td", abandoned), el("td", fmtDuration(q.aht_seconds)), el("td", fmtDuration(q.aht_p90_seconds)),
      el("td", q.offered, "num"), el("td", q.answered, "num"));
    frag.appendChild(tr);
  }
  $("#wb-queues tbody").replaceChildren(frag);
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function renderChart() {
  const hours = data.arrivals_by_hour;
  const W = 720, H = 200, pad = 28, bw = (W - pad * 2) / 24;
  const max = Math.max(1, ...hours.map((h) => Math.max(h.arrivals, h.need)));
  const y = (v) => H - pad - (v / max) * (H - pad * 2);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", width: "100%", "aria-labelledby": "wb-chart-title" });
  chart.appendChild(svg("title", { id: "wb-chart-title" }, `${t("arrivals_by_hour")} (JST)`));
  chart.appendChild(svg("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }));
  const points = [];
  hours.forEach((h, i) => {
    const x = pad + i * bw;
    const bar = svg("rect", { x: x + 2, y: y(h.arrivals), width: bw - 4, height: H - pad - y(h.arrivals), class: "bar" });
    bar.appendChild(svg("title", {}, `${h.hour}:00 — ${t("arrivals")} ${h.arrivals}, ${t("need")} ${h.need}`));
    chart.appendChild(bar);
    points.push(`${x + bw / 2},${y(h.need)}`);
    if (i % 3 === 0) chart.appendChild(svg("text", { x: x + bw / 2, y: H - pad + 14, class: "tick", "text-anchor": "middle" }, h.hour));
  });
  chart.appendChild(svg("polyline", { points: points.join(" "), class: "need", fill: "none" }));
  chart.appendChild(svg("text", { x: pad, y: 14, class: "legend" }, `■ ${t("arrivals")}  ─ ${t("need")} (Erlang C, ${fmtPercent(data.sl_target)})  max ${max}`));
  $("#wb-chart").replaceChildren(chart);
}

function counselorsOf(centerId) {
  return data.counselors.filter((c) => c.center_id === centerId && c.state !== "offline");
}

function renderAlerts() {
  const frag = document.createDocumentFragment();
  for (const a of data.alerts) {
    const li = el("li", null, a.kind === "serious_accident" || a.kind === "accident_check" ? "alert" : "escalation");
    li.appendChild(el("strong", a.kind === "serious_accident" ? "重大事故等" : a.kind === "accident_check" ? t("accident_check") : t("escalation")));
    li.append(" ");
    li.appendChild(el("a", `#${a.ticket_id} ${a.subject}`, undefined, { href: `#/tickets/${a.ticket_id}` }));
    li.appendChild(el("span", ` · ${statusLabel(a.status)} · ${centerName(a.center_id)} · `, "meta"));
    li.appendChild(el("span", "", "wait", { "data-since": a.since }));
    const sel = el("select", null, "reassign", { "aria-label": `${t("reassign")} #${a.ticket_id}` });
    sel.appendChild(el("option", `${t("reassign")}…`, undefined, { value: "" }));
    for (const c of counselorsOf(a.center_id)) if (c.id !== a.assignee_id) sel.appendChild(el("option", c.name, undefined, { value: c.id }));
    sel.addEventListener("change", guard(async () => {
      if (!sel.value) return;
      await api("POST", `/api/tickets/${a.ticket_id}/transfer`, { reason: `${t("reassign")} (SV)`, to_user_id: Number(sel.value) });
      toast(`${t("reassign")}: #${a.ticket_id}`);
      await refreshWallboard();
    }));
    li.append(" ", sel);
    frag.appendChild(li);
  }
  $("#wb-alerts").replaceChildren(frag);
}

function loadText(load) {
  return Object.entries(load || {}).map(([ch, n]) => `${channelLabel(ch)} ${n}`).join(" · ") || "0";
}

function counselorRow(c, index) {
  const row = el("div", null, `wb-row state-${c.state}`, { role: "listitem" });
  row.style.top = `${index * ROW_HEIGHT}px`;
  row.dataset.userId = c.id;
  row.append(el("span", `${c.name}${c.role === "supervisor" ? ` (${roleLabel(c.role)})` : ""}`, "name"),
    el("span", presenceLabel(c.state), "state"), el("span", "", "since", c.since ? { "data-since": c.since } : undefined),
    el("span", loadText(c.load), "load"), el("span", c.handled_today, "num"));
  const sel = el("select", null, "state-change", { "aria-label": `${t("change_state")}: ${c.name}` });
  for (const s of STATES) sel.appendChild(el("option", presenceLabel(s), undefined, { value: s }));
  sel.value = c.state;
  sel.addEventListener("change", guard(async () => {
    await api("PUT", `/api/users/${c.id}/presence`, { status: sel.value });
    toast(`${c.name}: ${presenceLabel(sel.value)}`);
    await refreshWallboard();
  }));
  row.appendChild(sel);
  return row;
}

// Only the rows in view (plus a margin) are in the DOM; scrolling re-renders that window.
function renderWindow() {
  const box = $("#wb-counselors");
  const spacer = box.querySelector(".spacer");
  spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(rows.length, first + Math.ceil((box.clientHeight || 480) / ROW_HEIGHT) + 10);
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i += 1) frag.appendChild(counselorRow(rows[i], i));
  box.querySelectorAll(".wb-row").forEach((n) => n.remove());
  box.appendChild(frag);
  tickAll(box);
}

function renderCounselors() {
  rows = [...data.counselors].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.name.localeCompare(b.name));
  renderWindow();
}

function fillCenters() {
  const sel = $("#wb-center");
  if (sel.options.length) return;
  sel.appendChild(el("option", t("all_centers"), undefined, { value: "" }));
  for (const c of state.centers) {
    if (state.me.role !== "admin" && c.id !== state.me.center_id) continue;
    sel.appendChild(el("option", `${c.name} (${c.code})`, undefined, { value: c.id }));
  }
}

async function load() {
  if ($("#view-wallboard").hidden) return;
  fillCenters();
  data = await api("GET", `/api/wallboard${query({ center_id: $("#wb-center").value })}`);
  renderAlerts();
  renderQueues();
  renderChart();
  renderCounselors();
  tickAll($("#view-wallboard"));
  mountRecordQueue();
  loadTemplateAdmin().catch((err) => { $("#tpl-list").replaceChildren(el("li", err.message, "error")); });
}

// The record panel's approval queue (crm/console/static/records.js), when that module is loaded.
let queueMounted = false;
function mountRecordQueue() {
  const box = $("#record-queue");
  if (queueMounted || !window.MadoguchiRecords || typeof window.MadoguchiRecords.mountQueue !== "function") return;
  queueMounted = true;
  Promise.resolve().then(() => window.MadoguchiRecords.mountQueue(box, api, (id) => go(`tickets/${id}`)))
    .catch((err) => box.appendChild(el("div", err.message, "error")));
}

export const refreshWallboard = singleFlight(load);

export function bindWallboard() {
  $("#wb-counselors").addEventListener("scroll", () => requestAnimationFrame(renderWindow), { passive: true });
  $("#wb-center").addEventListener("change", guard(refreshWallboard));
  setInterval(() => { if (!$("#view-wallboard").hidden) refreshWallboard(); }, 15000);
}
