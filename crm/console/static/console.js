// Madoguchi console: plain JavaScript over the JSON API. All text is inserted with textContent;
// the only markup accepted from the server is <mark> in search snippets (rebuilt as elements).
"use strict";

const I18N = {
  ja: {
    tickets: "相談一覧", search: "ナレッジ検索", dashboard: "ダッシュボード", presence: "状態",
    available: "受付可", busy: "対応中", after_call_work: "後処理", break: "休憩", offline: "オフライン",
    logout: "ログアウト", login: "ログイン", username: "ユーザー名", password: "パスワード",
    offers: "あなたへの割当て提案", status: "状態", all_open: "すべて", refresh: "更新", subject: "件名",
    channel: "チャネル", flags: "フラグ", updated: "更新日時", back: "← 戻る", send_reply: "返信を送信",
    add_note: "内部メモを追加", case_fields: "相談記録 (PIO-NET)", product_category: "商品・役務",
    sales_method: "販売購入形態", content_keywords: "内容キーワード", contract_amount: "契約購入金額 (円)",
    paid_amount: "既支払額 (円)", outcome: "処理結果", summary: "相談概要", save: "保存", resolve: "完了にする",
    suggestions: "提案", similar: "類似の過去事例", references: "参考資料 (FAQ・助言例・法令)", live: "リアルタイムイベント", accept: "受ける", decline: "断る",
    reply_placeholder: "相談者への返信", search_placeholder: "例: 定期購入 解約できない",
    serious: "重大事故等の疑い: 直ちに消費者庁への通知を検討してください", confidence: "確度",
    cooling_off: "クーリング・オフ", accident_report: "消費者庁への通知 (第12条)", occurred_at: "発生日時",
    occurred_place: "発生場所", learned_method: "情報を得た方法", circumstances: "事故の態様", product: "商品等の特定",
    damage: "被害の状況", method: "通知方法", mark_notified: "通知済みにする", prepare_notification: "重大事故等の通知を作成", no_results: "該当なし", special: "要配慮",
  },
  en: {
    product_category: "Product/service (商品・役務)", sales_method: "Sales method (販売購入形態)",
    content_keywords: "Keywords (内容キーワード)", cooling_off: "Cooling-off", confidence: "confidence",
  },
};
let lang = localStorage.getItem("madoguchi.lang") || "en";
let me = null;
let current = null;
let events = null;

const $ = (sel) => document.querySelector(sel);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};
const t = (key, fallback) => (lang === "ja" && I18N.ja[key]) || fallback || I18N.en[key] || key;

function applyLanguage() {
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    if (!node.dataset.en) node.dataset.en = node.textContent;
    node.textContent = t(node.dataset.i18n, node.dataset.en);
  });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
    if (!node.dataset.enPlaceholder) node.dataset.enPlaceholder = node.placeholder;
    node.placeholder = t(node.dataset.i18nPlaceholder, node.dataset.enPlaceholder);
  });
  $("#lang").textContent = lang === "ja" ? "English" : "日本語";
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

function csrfToken() {
  // The session cookie is HttpOnly; its CSRF token (madoguchi_csrf) is readable and sent back as a header.
  const hit = document.cookie.split("; ").find((c) => c.startsWith("madoguchi_csrf="));
  return hit ? decodeURIComponent(hit.slice("madoguchi_csrf=".length)) : "";
}

async function api(method, path, body, form) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (!["GET", "HEAD"].includes(method)) opts.headers["X-CSRF-Token"] = csrfToken();
  if (form) {
    opts.body = new URLSearchParams(form);
  } else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (res.status === 401 && path !== "/api/auth/token") {
    showView("login");
    throw new Error((data && data.detail) || "please log in");
  }
  if (!res.ok) {
    const err = new Error((data && data.detail) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function showView(name) {
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== `view-${name}`; });
  const loggedIn = name !== "login";
  $("#nav").hidden = !loggedIn;
  $("#me").hidden = !loggedIn;
  $("#offers").hidden = !loggedIn || $("#offer-list").childElementCount === 0;
}

function utf16Length(text) {
  let n = 0;
  for (const ch of text) n += ch.codePointAt(0) > 0xffff ? 2 : 1;
  return n;
}

function fmtTime(iso) {
  if (!iso) return "";
  return new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z").toLocaleString(lang === "ja" ? "ja-JP" : "en-GB", { timeZone: "Asia/Tokyo" });
}

function markedSnippet(snippet) {
  // Rebuild "<mark>x</mark>" as elements; every other character stays text.
  const frag = document.createDocumentFragment();
  const parts = String(snippet || "").split(/(<mark>|<\/mark>)/);
  let inMark = false;
  for (const part of parts) {
    if (part === "<mark>") { inMark = true; continue; }
    if (part === "</mark>") { inMark = false; continue; }
    frag.appendChild(inMark ? el("mark", part) : document.createTextNode(part));
  }
  return frag;
}

async function login(form) {
  await api("POST", "/api/auth/token", undefined, { username: form.username.value, password: form.password.value });
  form.password.value = "";
  await start();
}

async function start() {
  me = await api("GET", "/api/me");
  $("#whoami").textContent = `${me.display_name} (${me.role})`;
  $("#nav-dashboard").hidden = me.role === "counselor";
  showError("");
  showView("tickets");
  await loadTickets();
  pollOffers();
  connectEvents();
}

async function loadTickets() {
  const status = $("#status-filter").value;
  const page = await api("GET", `/api/tickets?limit=100${status ? `&status=${encodeURIComponent(status)}` : ""}`);
  const body = $("#ticket-table tbody");
  body.replaceChildren();
  for (const tk of page.items) {
    const row = el("tr");
    row.dataset.ticketId = tk.id;
    const flags = [tk.serious_accident ? "重大事故等" : "", tk.special_consideration ? t("special", "special care") : ""].filter(Boolean).join(" ");
    for (const value of [tk.id, tk.subject, tk.channel, tk.status, flags, fmtTime(tk.updated_at)]) row.appendChild(el("td", value));
    if (tk.serious_accident) row.classList.add("serious");
    row.addEventListener("click", () => openTicket(tk.id));
    body.appendChild(row);
  }
}

async function openTicket(id) {
  current = await api("GET", `/api/tickets/${id}`);
  showView("ticket");
  $("#ticket-title").textContent = `#${current.id} ${current.subject} — ${current.status}`;
  const banner = $("#accident-banner");
  banner.hidden = !current.serious_accident;
  banner.textContent = t("serious", "Suspected serious accident (重大事故等): consider notifying the Consumer Affairs Agency now");
  renderTimeline();
  fillFields();
  loadAccidentReport(id);
  loadSimilar(id);
  loadSuggestions(id);
}

function renderTimeline() {
  const list = $("#timeline");
  list.replaceChildren();
  const items = [
    ...current.messages.map((m) => ({ at: m.sent_at || m.created_at, kind: m.direction, text: m.body, status: m.status, error: m.error })),
    ...current.notes.map((n) => ({ at: n.created_at, kind: `note ${n.kind}`, text: n.body })),
  ].sort((a, b) => String(a.at).localeCompare(String(b.at)));
  for (const item of items) {
    const li = el("li", null, item.kind);
    li.appendChild(el("div", `${fmtTime(item.at)} · ${item.kind}${item.status ? ` · ${item.status}` : ""}`, "meta"));
    li.appendChild(el("div", item.text, "body"));
    if (item.error) li.appendChild(el("div", item.error, "error"));
    list.appendChild(li);
  }
}

function fillFields() {
  const f = $("#fields-form");
  for (const name of ["product_category", "sales_method", "outcome", "summary"]) f[name].value = current[name] || "";
  f.content_keywords.value = (current.content_keywords || []).join("、");
  f.contract_amount.value = current.contract_amount ?? "";
  f.paid_amount.value = current.paid_amount ?? "";
}

async function saveFields(form) {
  const amount = (v) => (v.trim() === "" ? null : Number(v.replace(/[,円\s]/g, "")));
  const body = {
    product_category: form.product_category.value || null,
    sales_method: form.sales_method.value || null,
    outcome: form.outcome.value || null,
    summary: form.summary.value,
    content_keywords: form.content_keywords.value.split(/[、,\s]+/).filter(Boolean),
    contract_amount: amount(form.contract_amount.value),
    paid_amount: amount(form.paid_amount.value),
  };
  await api("PATCH", `/api/tickets/${current.id}`, body);
  await openTicket(current.id);
}

let accidentReport = null;
const ACCIDENT_FIELDS = ["occurred_at", "occurred_place", "learned_method", "circumstances", "product", "damage"];

async function loadAccidentReport(id) {
  const reports = await api("GET", `/api/tickets/${id}/accident-reports`).catch(() => []);
  accidentReport = reports.length ? reports[reports.length - 1] : null;
  $("#accident-open").hidden = !current.serious_accident || Boolean(accidentReport && accidentReport.status === "draft");
  const form = $("#accident-form");
  form.hidden = !accidentReport;
  if (!accidentReport) return;
  for (const name of ACCIDENT_FIELDS) form[name].value = accidentReport[name] || "";
  const r = accidentReport;
  $("#accident-status").textContent = r.status === "notified"
    ? `第${r.report_no}報 notified ${fmtTime(r.notified_at)} (${r.notification_method}), ${Math.round(r.delay_seconds / 60)} min after 情報を得た日時`
    : `第${r.report_no}報 draft · 情報を得た日時 ${fmtTime(r.learned_at)}`;
}

async function saveAccident() {
  const form = $("#accident-form");
  const body = {};
  for (const name of ACCIDENT_FIELDS) body[name] = form[name].value;
  await api("PATCH", `/api/accident-reports/${accidentReport.id}`, body);
}

async function loadReferences() {
  const list = $("#references");
  list.replaceChildren();
  const query = current.messages.filter((m) => m.direction === "inbound").map((m) => m.body).join(" ").slice(0, 500) || current.subject;
  try {
    const kinds = ["faq", "advice", "law"].map((k) => `kind=${k}`).join("&");
    const hits = await api("GET", `/api/knowledge/search?q=${encodeURIComponent(query)}&k=5&${kinds}`);
    if (!hits.length) list.appendChild(el("li", t("no_results", "No results")));
    for (const hit of hits) list.appendChild(renderHit(hit));
  } catch (err) {
    list.appendChild(el("li", err.message, "error"));
  }
}

async function loadSimilar(id) {
  loadReferences();
  const list = $("#similar");
  list.replaceChildren();
  try {
    const data = await api("GET", `/api/tickets/${id}/similar`);
    const hits = Array.isArray(data) ? data : data.hits || data.items || [];
    if (!hits.length) list.appendChild(el("li", t("no_results", "No similar cases yet")));
    for (const hit of hits) list.appendChild(renderHit(hit));
  } catch (err) {
    list.appendChild(el("li", err.message, "error"));
  }
}

function renderHit(hit) {
  const li = el("li", null, "hit");
  li.appendChild(el("div", `${hit.title || hit.id}${hit.kind ? ` [${hit.kind}]` : ""}`, "title"));
  const snip = el("div", null, "snippet");
  snip.appendChild(markedSnippet(hit.snippet));
  li.appendChild(snip);
  const why = hit.why || hit.matched_terms;
  if (why) li.appendChild(el("div", Array.isArray(why) ? why.join(" ") : why, "why"));
  return li;
}

async function loadSuggestions(id) {
  const box = $("#suggestions");
  box.replaceChildren();
  try {
    const s = await api("GET", `/api/tickets/${id}/suggestions`);
    const categories = s.categories || {};
    for (const key of ["product_category", "sales_method", "content_keywords"]) {
      const values = categories[key] || [];
      if (!values.length) continue;
      const shown = values.map((v) => `${v.label} (${Math.round((v.confidence || 0) * 100)}%)`).join("、");
      box.appendChild(el("div", `${t(key)}: ${shown}`));
    }
    const c = s.cooling_off;
    if (c) {
      const when = c.last_day ? ` → ${c.last_day}${c.days_left !== null && c.days_left !== undefined ? ` (${c.days_left})` : ""}` : "";
      box.appendChild(el("div", `${t("cooling_off")}: ${c.sales_type} — ${c.rule}${when}`));
      for (const note of c.notes || []) box.appendChild(el("div", note, "meta"));
    }
    const reasons = s.serious_accident_reasons || [];
    if (reasons.length) box.appendChild(el("div", `重大事故等: ${reasons.join("、")}`, "alert"));
  } catch (err) {
    box.appendChild(el("div", err.message, "error"));
  }
}

async function sendReply(form) {
  const body = form.body.value;
  await api("POST", `/api/tickets/${current.id}/reply`, { body });
  form.body.value = "";
  updateCount();
  await openTicket(current.id);
}

async function addNote() {
  const form = $("#reply-form");
  await api("POST", `/api/tickets/${current.id}/notes`, { body: form.body.value });
  form.body.value = "";
  await openTicket(current.id);
}

function updateCount() {
  const n = utf16Length($("#reply-form").body.value);
  $("#reply-count").textContent = n ? `${n} / 5000 (LINE: ${Math.max(1, Math.ceil(n / 5000))} message${n > 5000 ? "s" : ""})` : "";
}

async function search(form) {
  const list = $("#search-results");
  list.replaceChildren();
  const data = await api("GET", `/api/knowledge/search?q=${encodeURIComponent(form.q.value)}&k=10`);
  const hits = Array.isArray(data) ? data : data.hits || data.items || [];
  if (!hits.length) list.appendChild(el("li", t("no_results", "No results")));
  for (const hit of hits) list.appendChild(renderHit(hit));
}

let offersTimer = null;
async function pollOffers() {
  clearTimeout(offersTimer);
  try {
    const offers = await api("GET", "/api/offers");
    const list = $("#offer-list");
    list.replaceChildren();
    for (const offer of offers.items || offers) {
      const li = el("li", `#${offer.ticket_id} ${offer.subject || ""} (${offer.channel || ""}) — ${fmtTime(offer.expires_at)}`);
      const accept = el("button", t("accept", "Accept"));
      accept.addEventListener("click", async () => { await api("POST", `/api/offers/${offer.id}/accept`); await pollOffers(); await openTicket(offer.ticket_id); });
      const decline = el("button", t("decline", "Decline"));
      decline.addEventListener("click", async () => { await api("POST", `/api/offers/${offer.id}/decline`); await pollOffers(); });
      li.append(" ", accept, " ", decline);
      list.appendChild(li);
    }
    $("#offers").hidden = list.childElementCount === 0;
    await api("POST", "/api/me/heartbeat").catch(() => null);
  } catch (_) { /* routing not available: no offers panel */ }
  offersTimer = setTimeout(pollOffers, 5000);
}

function connectEvents() {
  if (events) events.close();
  events = new EventSource("/api/events");
  events.onmessage = null;
  const onEvent = (e) => {
    const data = JSON.parse(e.data);
    const list = $("#live-events");
    list.prepend(el("li", `${fmtTime(data.at)} ${data.event}${data.kind ? `/${data.kind}` : ""} #${data.ticket_id ?? ""}`));
    while (list.childElementCount > 50) list.lastChild.remove();
    if (!$("#view-tickets").hidden) loadTickets();
    if (data.event === "RoutingEvent") pollOffers();
    if (!$("#view-dashboard").hidden) loadQueues();
  };
  for (const name of ["MessageReceived", "ReplyQueued", "MessageDeliveryChanged", "TicketChanged", "TicketResolved", "SeriousAccidentSuspected", "RoutingEvent"]) {
    events.addEventListener(name, onEvent);
  }
}

async function loadQueues() {
  const box = $("#queues");
  box.replaceChildren();
  try {
    const data = await api("GET", "/api/queues");
    const rows = Array.isArray(data) ? data : data.centers || data.queues || [data];
    const table = el("table");
    const head = el("tr");
    const keys = rows.length ? Object.keys(rows[0]).filter((k) => typeof rows[0][k] !== "object") : [];
    keys.forEach((k) => head.appendChild(el("th", k)));
    table.appendChild(head);
    for (const r of rows) {
      const tr = el("tr");
      keys.forEach((k) => tr.appendChild(el("td", r[k])));
      table.appendChild(tr);
    }
    box.appendChild(table);
  } catch (err) {
    box.appendChild(el("div", err.message, "error"));
  }
}

function bind() {
  const guard = (fn) => async (e) => {
    if (e && e.preventDefault) e.preventDefault();
    try { showError(""); await fn(e); } catch (err) { showError(err.message); }
  };
  $("#login-form").addEventListener("submit", guard((e) => login(e.target)));
  $("#logout").addEventListener("click", guard(async () => { await api("POST", "/api/auth/logout"); if (events) events.close(); showView("login"); }));
  $("#lang").addEventListener("click", () => { lang = lang === "ja" ? "en" : "ja"; localStorage.setItem("madoguchi.lang", lang); applyLanguage(); });
  $("#refresh").addEventListener("click", guard(loadTickets));
  $("#status-filter").addEventListener("change", guard(loadTickets));
  $("#back").addEventListener("click", guard(async () => { showView("tickets"); await loadTickets(); }));
  $("#reply-form").addEventListener("submit", guard((e) => sendReply(e.target)));
  $("#reply-form").body.addEventListener("input", updateCount);
  $("#add-note").addEventListener("click", guard(addNote));
  $("#fields-form").addEventListener("submit", guard((e) => saveFields(e.target)));
  $("#resolve").addEventListener("click", guard(async () => { await api("PATCH", `/api/tickets/${current.id}`, { status: "resolved" }); await openTicket(current.id); }));
  $("#accident-open").addEventListener("click", guard(async () => { await api("POST", `/api/tickets/${current.id}/accident-reports`); await loadAccidentReport(current.id); }));
  $("#accident-save").addEventListener("click", guard(async () => { await saveAccident(); await loadAccidentReport(current.id); }));
  $("#accident-form").addEventListener("submit", guard(async (e) => {
    await saveAccident();
    await api("POST", `/api/accident-reports/${accidentReport.id}/notified`, { method: e.target.method.value });
    await loadAccidentReport(current.id);
  }));
  $("#search-form").addEventListener("submit", guard((e) => search(e.target)));
  $("#presence").addEventListener("change", guard(async (e) => api("PUT", "/api/me/presence", { status: e.target.value })));
  document.querySelectorAll("#nav button").forEach((b) => b.addEventListener("click", guard(async () => {
    showView(b.dataset.view);
    if (b.dataset.view === "tickets") await loadTickets();
    if (b.dataset.view === "dashboard") await loadQueues();
  })));
}

document.addEventListener("DOMContentLoaded", async () => {
  bind();
  applyLanguage();
  try { await start(); } catch (_) { showView("login"); }
});
