// One consultation: the timeline across channels (live), reply with canned responses and Ctrl+Enter,
// internal notes, the case record, actions (assign to me, transfer, escalate, status), the contact
// sidebar, suggestions that act, the cooling-off helper and the 重大事故等 notification.

import { api, query } from "./api.js";
import { $, button, el, markedSnippet, utf16Length } from "./dom.js";
import { tickAll } from "./clock.js";
import {
  channelLabel, fmtDuration, fmtTime, messageStatusLabel, noteKindLabel, statusLabel, t, todayJst,
} from "./i18n.js";
import { singleFlight } from "./live.js";
import { centerName, colleagueName, markSeen, state } from "./state.js";
import { guard, showError, toast } from "./ui.js";

// The counselor's own status changes (crm.services.MANUAL_TRANSITIONS).
const MANUAL = {
  new: ["resolved", "closed"], queued: ["resolved", "closed"], offered: ["resolved"],
  assigned: ["waiting_on_consumer", "resolved"], waiting_on_consumer: ["assigned", "resolved"],
  resolved: ["closed", "assigned"], closed: [],
};
const CLAIMABLE = new Set(["new", "queued", "offered"]);
const ACCIDENT_FIELDS = ["occurred_at", "occurred_place", "learned_method", "circumstances", "product", "damage"];
let accidentReport = null;
let templates = [];

export async function openTicket(id) {
  const ticket = await api("GET", `/api/tickets/${id}`);
  if (location.hash.split("?")[0] !== `#/tickets/${id}`) return; // navigated elsewhere meanwhile
  const changed = !state.ticket || state.ticket.id !== ticket.id;
  state.ticket = ticket;
  renderHeader();
  renderTimeline();
  markSeen(ticket);
  if (!changed) return;
  $("#reply-form").body.value = "";
  updateCount();
  fillFields();
  $("#ticket-title").focus();
  state.accidentReview = false;
  loadAccidentReport(id);
  loadContact(ticket.contact_id);
  loadAttachments(id);
  loadSuggestions(id);
  loadAccidentCheck(id);
  loadSimilar(id);
  loadReferences();
  loadTemplates(id);
  mountRecordPanel(id);
}

// Live: a new message or change of the open ticket re-renders its timeline, never the reply box.
export const refreshOpenTicket = singleFlight(async () => {
  if (!state.ticket || $("#view-ticket").hidden) return;
  await openTicket(state.ticket.id);
});

export function closeTicket() { state.ticket = null; }

function renderHeader() {
  const tk = state.ticket;
  const who = tk.assignee_id ? ` · ${colleagueName(tk.assignee_id)}` : "";
  $("#ticket-title").textContent = `#${tk.id} ${tk.subject} — ${statusLabel(tk.status)} · ${channelLabel(tk.channel)}${who}`;
  const banner = $("#accident-banner");
  banner.hidden = !tk.serious_accident;
  banner.textContent = t("serious");
  $("#claim").hidden = !CLAIMABLE.has(tk.status) || state.me.role === "admin";
  const menu = $("#status-menu");
  menu.replaceChildren(el("option", statusLabel(tk.status), undefined, { value: "" }));
  for (const s of MANUAL[tk.status] || []) menu.appendChild(el("option", `→ ${statusLabel(s)}`, undefined, { value: s }));
  menu.disabled = !(MANUAL[tk.status] || []).length;
}

function timelineItems(tk) {
  const items = tk.messages.map((m) => ({
    at: m.sent_at || m.created_at, cls: m.kind === "auto" ? "auto" : m.direction,
    label: m.kind === "auto" ? t("auto") : t(m.direction), channel: m.channel, text: m.body,
    status: m.direction === "outbound" ? messageStatusLabel(m.status) : "", error: m.error,
    author: m.author_id, id: `m${m.id}`,
  }));
  for (const n of tk.notes) {
    items.push({ at: n.created_at, cls: `note kind-${n.kind}`, label: noteKindLabel(n.kind), text: n.body, author: n.author_id, id: `n${n.id}` });
  }
  return items.sort((a, b) => String(a.at).localeCompare(String(b.at)) || a.id.localeCompare(b.id));
}

function renderTimeline() {
  const list = $("#timeline");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const frag = document.createDocumentFragment();
  for (const item of timelineItems(state.ticket)) {
    const li = el("li", null, item.cls);
    li.dataset.item = item.id;
    const meta = [fmtTime(item.at), item.label, item.channel ? channelLabel(item.channel) : "", item.author ? colleagueName(item.author) : "", item.status].filter(Boolean);
    li.appendChild(el("div", meta.join(" · "), "meta"));
    li.appendChild(el("div", item.text, "body"));
    if (item.error) li.appendChild(el("div", item.error, "error"));
    frag.appendChild(li);
  }
  list.replaceChildren(frag);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function fillFields() {
  const f = $("#fields-form");
  const tk = state.ticket;
  for (const name of ["product_category", "sales_method", "outcome", "summary"]) f[name].value = tk[name] || "";
  f.content_keywords.value = (tk.content_keywords || []).join("、");
  f.contract_amount.value = tk.contract_amount ?? "";
  f.paid_amount.value = tk.paid_amount ?? "";
}

async function saveFields(form) {
  const amount = (v) => (v.trim() === "" ? null : Number(v.replace(/[,，円\s]/g, "")));
  const body = {
    product_category: form.product_category.value.trim() || null,
    sales_method: form.sales_method.value.trim() || null,
    outcome: form.outcome.value.trim() || null,
    summary: form.summary.value,
    content_keywords: form.content_keywords.value.split(/[、,，\s]+/).filter(Boolean),
    contract_amount: amount(form.contract_amount.value),
    paid_amount: amount(form.paid_amount.value),
  };
  for (const key of ["contract_amount", "paid_amount"]) {
    if (body[key] !== null && !Number.isInteger(body[key])) throw new Error(`${t(key)}: 0-9`);
  }
  await api("PATCH", `/api/tickets/${state.ticket.id}`, body);
  toast(t("saved"));
  await openTicket(state.ticket.id);
}

function updateCount() {
  const n = utf16Length($("#reply-form").body.value);
  $("#reply-count").textContent = n ? `${n} / 5000${n > 5000 ? ` (LINE: ${Math.ceil(n / 5000)})` : ""}` : "";
}

async function sendReply() {
  const form = $("#reply-form");
  const body = form.body.value;
  if (!body.trim()) throw new Error(t("empty_reply"));
  await api("POST", `/api/tickets/${state.ticket.id}/reply`, { body });
  form.body.value = "";
  updateCount();
  await openTicket(state.ticket.id);
}

async function addNote() {
  const form = $("#reply-form");
  if (!form.body.value.trim()) throw new Error(t("empty_note"));
  await api("POST", `/api/tickets/${state.ticket.id}/notes`, { body: form.body.value });
  form.body.value = "";
  updateCount();
  await openTicket(state.ticket.id);
}

async function loadTemplates(id) {
  const sel = $("#canned");
  try { templates = await api("GET", `/api/templates${query({ ticket_id: id })}`); } catch (_) { templates = []; }
  sel.replaceChildren(el("option", "—", undefined, { value: "" }));
  templates.forEach((tpl, i) => sel.appendChild(el("option", tpl.title, undefined, { value: String(i) })));
}

function insertTemplate() {
  const tpl = templates[Number($("#canned").value)];
  if (!tpl) return;
  const area = $("#reply-form").body;
  const at = area.selectionStart ?? area.value.length;
  area.value = area.value.slice(0, at) + (tpl.filled || tpl.body) + area.value.slice(area.selectionEnd ?? at);
  area.focus();
  updateCount();
}

async function loadContact(contactId) {
  const box = $("#contact");
  box.replaceChildren();
  try {
    const c = await api("GET", `/api/contacts/${contactId}`);
    if (c.display_name) box.appendChild(el("div", c.display_name, "title"));
    const meta = [c.age_band, c.region, c.special_consideration ? t("special") : ""].filter(Boolean).join(" · ");
    if (meta) box.appendChild(el("div", meta, "meta"));
    box.appendChild(el("div", `${t("consent")}: ${c.consent_to_share ? t("consent_yes") : t("consent_no")}`, "meta"));
    box.appendChild(el("h4", t("identities")));
    const ids = el("ul");
    for (const i of c.identities) ids.appendChild(el("li", `${channelLabel(i.channel)}: ${i.display_name || ""} ${i.address}${i.reachable ? "" : " ✕"}`));
    box.appendChild(ids);
    box.appendChild(el("h4", t("past_consultations")));
    const past = el("ul", null, "past");
    for (const p of c.consultations.filter((x) => !state.ticket || x.id !== state.ticket.id)) {
      const li = el("li");
      li.appendChild(el("a", `#${p.id} ${p.subject}`, undefined, { href: `#/tickets/${p.id}` }));
      li.appendChild(el("span", ` · ${channelLabel(p.channel)} · ${statusLabel(p.status)} · ${fmtTime(p.created_at)}`, "meta"));
      past.appendChild(li);
    }
    box.appendChild(past);
  } catch (err) {
    box.appendChild(el("div", err.message, "error"));
  }
}

// Files from the consumer: names are text, stored files are downloads (never opened in the console).
async function loadAttachments(id) {
  const list = $("#attachments");
  const rows = await api("GET", `/api/tickets/${id}/attachments`).catch(() => []);
  const frag = document.createDocumentFragment();
  for (const a of rows) {
    const li = el("li");
    const label = `${a.filename} (${Math.max(1, Math.round(a.size / 1024))} KB)`;
    if (a.status === "stored") li.appendChild(el("a", label, undefined, { href: `/api/attachments/${a.id}`, download: a.filename, rel: "noopener" }));
    else li.appendChild(el("span", `${label} · ${a.status}`, "meta"));
    frag.appendChild(li);
  }
  list.replaceChildren(frag);
  $("#attachments-box").hidden = rows.length === 0;
}

async function applySuggestion(field, label, suggested) {
  const tk = state.ticket;
  const value = field === "content_keywords" ? [...new Set([...(tk.content_keywords || []), label])] : label;
  await api("PATCH", `/api/tickets/${tk.id}`, { [field]: value });
  await api("POST", `/api/tickets/${tk.id}/suggestions/feedback`, { [field]: value, suggested: { [field]: suggested } });
  await openTicket(tk.id);
  fillFields();
  toast(`${t("applied")}: ${label}`); // once the field shows it
}

async function loadSuggestions(id, documentReceived) {
  const box = $("#suggestions");
  box.replaceChildren();
  try {
    const s = await api("GET", `/api/tickets/${id}/suggestions${query({ document_received: documentReceived })}`);
    for (const key of ["product_category", "sales_method", "content_keywords"]) {
      const values = (s.categories || {})[key] || [];
      if (!values.length) continue;
      const row = el("div", null, "suggestion");
      row.appendChild(el("span", `${t(key)}: `));
      for (const v of values.slice(0, 3)) {
        row.appendChild(button(`${v.label} (${Math.round((v.confidence || 0) * 100)}%)`, guard(() => applySuggestion(key, v.label, values[0].label)),
          { class: "apply", title: `${t("apply")}: ${v.label}` }));
      }
      box.appendChild(row);
    }
    renderCoolingOff(s.cooling_off);
    const reasons = s.serious_accident_reasons || [];
    if (reasons.length) box.appendChild(el("div", `重大事故等: ${reasons.join("、")}`, "alert"));
    // 要確認: possibly serious; the counselor confirms by preparing the notification (that flags the ticket).
    const review = reasons.length ? [] : s.possible_accident_reasons || [];
    state.accidentReview = review.length > 0;
    if (review.length) {
      box.appendChild(el("div", `${t("accident_review")}: ${review.join("、")}`, "alert review"));
      if (!accidentReport) $("#accident-open").hidden = false;
    }
  } catch (err) {
    box.appendChild(el("div", err.message, "error"));
  }
}

function renderCoolingOff(c) {
  const box = $("#cooling-off");
  box.replaceChildren();
  const form = $("#cooling-form");
  form.hidden = !c;
  form.document_received.max = todayJst();
  if (!c) return;
  if (c.start_day && !form.document_received.value) form.document_received.value = c.start_day;
  box.appendChild(el("div", `${t("cooling_off")}: ${c.sales_type} — ${c.rule}`, "title"));
  if (c.last_day) {
    const left = c.days_left === null || c.days_left === undefined ? "" : c.days_left < 0 ? ` (${t("expired")})` : ` (${t("days_left", { n: c.days_left })})`;
    box.appendChild(el("div", `${t("last_day")}: ${c.last_day}${left}`, c.days_left !== null && c.days_left < 0 ? "alert" : "deadline"));
  } else if (c.applicable) {
    box.appendChild(el("div", t("not_received"), "meta"));
  }
  for (const note of c.notes || []) box.appendChild(el("div", note, "meta"));
}

async function loadSimilar(id) {
  const list = $("#similar");
  list.replaceChildren();
  try {
    const hits = await api("GET", `/api/tickets/${id}/similar`);
    if (!hits.length) list.appendChild(el("li", t("no_results")));
    for (const hit of hits) list.appendChild(renderHit(hit));
  } catch (err) {
    list.appendChild(el("li", err.message, "error"));
  }
}

async function loadReferences() {
  const list = $("#references");
  list.replaceChildren();
  const tk = state.ticket;
  const text = tk.messages.filter((m) => m.direction === "inbound").map((m) => m.body).join(" ").slice(0, 500) || tk.subject;
  if (!text.trim()) return;
  try {
    const hits = await api("GET", `/api/knowledge/search${query({ q: text, k: 5, kind: ["faq", "advice", "law"] })}`);
    if (!hits.length) list.appendChild(el("li", t("no_results")));
    for (const hit of hits) list.appendChild(renderHit(hit));
  } catch (err) {
    list.appendChild(el("li", err.message, "error"));
  }
}

export function renderHit(hit) {
  const li = el("li", null, "hit");
  const title = el("div", null, "title");
  const m = /^ticket-(\d+)$/.exec(hit.id || "");
  const caseId = m && hit.center_id === (state.me && state.me.center_id) ? m[1] : null;
  if (caseId) title.appendChild(el("a", hit.title || hit.id, undefined, { href: `#/tickets/${caseId}` }));
  else title.textContent = hit.title || hit.id;
  if (hit.kind) title.appendChild(el("span", ` [${hit.kind}]`, "meta"));
  if (hit.center_id && state.me && hit.center_id !== state.me.center_id) title.appendChild(el("span", ` · ${centerName(hit.center_id)}`, "meta"));
  li.appendChild(title);
  const snip = el("div", null, "snippet");
  snip.appendChild(markedSnippet(hit.snippet));
  li.appendChild(snip);
  if (hit.matched_terms && hit.matched_terms.length) li.appendChild(el("div", hit.matched_terms.join(" "), "why"));
  return li;
}

// 要確認: a possible 重大事故等 the counselor must confirm or rule out (crm.accident_checks); the ticket
// cannot be resolved while it is pending.
let pendingCheck = null;
async function loadAccidentCheck(id) {
  const checks = await api("GET", `/api/tickets/${id}/accident-checks`).catch(() => []);
  if (!state.ticket || state.ticket.id !== id) return;
  pendingCheck = checks.find((c) => c.status === "pending") || null;
  $("#accident-check").hidden = !pendingCheck;
  if (!pendingCheck) return;
  $("#accident-check-reasons").replaceChildren(...pendingCheck.reasons.map((r) => el("li", r)));
}

async function decideCheck(decision) {
  if (!pendingCheck) return;
  const form = $("#accident-check-form");
  await api("POST", `/api/accident-checks/${pendingCheck.id}/decision`, { decision, note: form.note.value });
  form.note.value = "";
  const id = state.ticket.id;
  state.ticket = null; // reload everything: a confirmed check flags the ticket
  await openTicket(id);
}

async function loadAccidentReport(id) {
  const reports = await api("GET", `/api/tickets/${id}/accident-reports`).catch(() => []);
  if (!state.ticket || state.ticket.id !== id) return; // the counselor moved on meanwhile
  accidentReport = reports.length ? reports[reports.length - 1] : null;
  const flagged = state.ticket.serious_accident || state.accidentReview;
  $("#accident-open").hidden = !flagged || Boolean(accidentReport && accidentReport.status === "draft");
  const form = $("#accident-form");
  form.hidden = !accidentReport;
  if (!accidentReport) return;
  for (const name of ACCIDENT_FIELDS) form[name].value = accidentReport[name] || "";
  const r = accidentReport;
  $("#accident-status").textContent = r.status === "notified"
    ? `第${r.report_no}報 notified ${fmtTime(r.notified_at)} (${r.notification_method}), ${Math.round(r.delay_seconds / 60)} min after 情報を得た日時`
    : `第${r.report_no}報 draft · 情報を得た日時 ${fmtTime(r.learned_at)}`;
  renderAccidentTiming(r);
}

// Elapsed time since 情報を得た日時 (ticking while a draft), the deadline, red once overdue; the exports.
function renderAccidentTiming(r) {
  const box = $("#accident-timing");
  const draft = r.status !== "notified";
  const elapsed = draft
    ? el("span", "", "wait", { "data-since": new Date(Date.now() - r.elapsed_seconds * 1000).toISOString() })
    : el("span", fmtDuration(r.elapsed_seconds), "wait");
  box.replaceChildren(`${t("accident_elapsed")} `, elapsed);
  if (r.notify_by) box.append(` · ${t("accident_notify_by")} ${fmtTime(r.notify_by)}`);
  box.append(" · ", el("span", t("accident_overdue"), "overdue-note"), el("span", t("accident_on_time"), "on-time-note"));
  if (r.escalated_at) box.append(` · ${t("accident_escalated")} ${fmtTime(r.escalated_at)}`);
  box.dataset.overdue = String(Boolean(r.overdue));
  if (draft && r.notify_by) box.dataset.overdueAt = r.notify_by;
  else delete box.dataset.overdueAt;
  box.classList.toggle("overdue", Boolean(r.overdue));
  tickAll(box.parentElement);
  $("#accident-links").replaceChildren(
    el("a", t("notification_pdf"), "button", { href: `/api/accident-reports/${r.id}/notification.pdf`, download: "" }),
    el("a", t("notification_csv"), "button", { href: `/api/accident-reports/${r.id}/notification.csv`, download: "" }),
  );
}

async function saveAccident() {
  const form = $("#accident-form");
  const body = {};
  for (const name of ACCIDENT_FIELDS) body[name] = form[name].value;
  await api("PATCH", `/api/accident-reports/${accidentReport.id}`, body);
}

function mountRecordPanel(id) {
  const box = $("#record-panel");
  box.replaceChildren();
  if (window.MadoguchiRecords && typeof window.MadoguchiRecords.mount === "function") {
    Promise.resolve().then(() => window.MadoguchiRecords.mount(box, id, api))
      .catch((err) => box.appendChild(el("div", err.message, "error")));
  }
}

function fillTransferTargets() {
  const form = $("#transfer-form");
  form.to_user_id.replaceChildren();
  for (const c of state.colleagues) {
    if (state.me && c.id === state.me.id) continue;
    form.to_user_id.appendChild(el("option", `${c.display_name || c.username}`, undefined, { value: c.id }));
  }
  form.to_center_id.replaceChildren();
  for (const c of state.centers) {
    if (state.ticket && c.id === state.ticket.center_id) continue;
    form.to_center_id.appendChild(el("option", `${c.name} (${c.code})`, undefined, { value: c.id }));
  }
}

async function transfer(form) {
  const reason = form.reason.value.trim();
  if (!reason) throw new Error(t("transfer_reason"));
  const target = form.target.value;
  const body = { reason };
  if (target === "user") body.to_user_id = Number(form.to_user_id.value);
  if (target === "center") body.to_center_id = Number(form.to_center_id.value);
  if (target === "supervisor") body.to_supervisor = true;
  await api("POST", `/api/tickets/${state.ticket.id}/transfer`, body);
  form.reason.value = "";
  $("#transfer-box").open = false;
  await openTicket(state.ticket.id);
}

export async function claimTicket() {
  if (!state.ticket) return;
  await api("POST", `/api/tickets/${state.ticket.id}/claim`);
  await openTicket(state.ticket.id);
}

export function focusReply() { $("#reply-form").body.focus(); }

export function bindTicket() {
  const reply = $("#reply-form");
  reply.addEventListener("submit", guard(sendReply));
  reply.body.addEventListener("input", updateCount);
  reply.body.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); guard(sendReply)(); }
  });
  $("#add-note").addEventListener("click", guard(addNote));
  $("#canned-insert").addEventListener("click", insertTemplate);
  $("#fields-form").addEventListener("submit", guard((e) => saveFields(e.target)));
  $("#resolve").addEventListener("click", guard(async () => {
    await api("PATCH", `/api/tickets/${state.ticket.id}`, { status: "resolved" });
    await openTicket(state.ticket.id);
  }));
  $("#status-menu").addEventListener("change", guard(async (e) => {
    const to = e.target.value;
    if (!to) return;
    try { await api("PATCH", `/api/tickets/${state.ticket.id}`, { status: to }); } finally { await openTicket(state.ticket.id); }
  }));
  $("#claim").addEventListener("click", guard(claimTicket));
  $("#transfer-box").addEventListener("toggle", fillTransferTargets);
  $("#transfer-form").addEventListener("submit", guard((e) => transfer(e.target)));
  $("#escalate").addEventListener("click", () => {
    const box = $("#transfer-box");
    box.open = true;
    $("#transfer-form").querySelector("input[value=supervisor]").checked = true;
    $("#transfer-form").reason.focus();
  });
  $("#cooling-form").addEventListener("submit", guard(async (e) => {
    const day = e.target.document_received.value;
    if (day && day > todayJst()) throw new Error(`${t("document_received")}: ≤ ${todayJst()}`);
    await loadSuggestions(state.ticket.id, day || undefined);
  }));
  $("#accident-open").addEventListener("click", guard(async () => {
    await api("POST", `/api/tickets/${state.ticket.id}/accident-reports`);
    await openTicket(state.ticket.id); // a 要確認 ticket is flagged now: the banner and the queue row follow
    await loadAccidentReport(state.ticket.id);
    await loadAccidentCheck(state.ticket.id); // the draft answered the pending check
  }));
  $("#check-serious").addEventListener("click", guard(() => decideCheck("serious")));
  $("#accident-check-form").addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    await decideCheck("not_serious");
  }));
  $("#accident-save").addEventListener("click", guard(async () => { await saveAccident(); await loadAccidentReport(state.ticket.id); }));
  $("#accident-form").addEventListener("submit", guard(async (e) => {
    await saveAccident();
    await api("POST", `/api/accident-reports/${accidentReport.id}/notified`, { method: e.target.method.value });
    await loadAccidentReport(state.ticket.id);
  }));
}
