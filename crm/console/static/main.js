// Madoguchi console: plain ES modules over the JSON API, no build step, nothing from a CDN.
// All text is inserted with textContent; the only markup accepted from the server is <mark> in
// search snippets (rebuilt as elements).

import { api, query, setUnauthorizedHandler } from "./api.js";
import { startClock } from "./clock.js";
import { $, $$, el } from "./dom.js";
import { applyLanguage, fmtTime, getLang, roleLabel, setLang, t } from "./i18n.js";
import { connectLive } from "./live.js";
import { initNotifications, notify } from "./notify.js";
import { refreshOffers, startOffers } from "./offers.js";
import { currentRoute, go, onRoute } from "./router.js";
import { isSupervisor, state } from "./state.js";
import { bindTicket, claimTicket, closeTicket, focusReply, openTicket, refreshOpenTicket, renderHit } from "./ticket.js";
import { bindTickets, refreshTickets, setupCenterFilter } from "./tickets.js";
import { guard, showError } from "./ui.js";
import { bindTemplateAdmin } from "./templates.js";
import { bindWallboard, refreshWallboard } from "./wallboard.js";
import { bindTrends, refreshTrends } from "./trends.js";

let stopLive = null;
let phone = null; // the browser softphone (softphone.js), for counselors and supervisors
let stopOffers = null;
let lastListHash = "#/tickets";
let listTimer = null;
let wallboardTimer = null;
const WALLBOARD_MIN_MS = 2000;

function showView(name) {
  $$(".view").forEach((v) => { v.hidden = v.id !== `view-${name}`; });
  const loggedIn = name !== "login";
  $("#nav").hidden = !loggedIn;
  $("#me").hidden = !loggedIn;
  if (!loggedIn) $("#offers").hidden = true;
  $$("#nav a").forEach((a) => a.toggleAttribute("aria-current", a.id === `nav-${name === "ticket" ? "tickets" : name}`));
}

async function route(r) {
  if (!state.me) return;
  showError("");
  const [view, id] = r.parts;
  if (view === "tickets" && id) {
    if (!/^\d{1,10}$/.test(id)) { go("tickets", null, true); return; }
    showView("ticket");
    $("#back").href = lastListHash;
    await openTicket(Number(id));
    if (phone) phone.showTicket(state.ticket && state.ticket.channel === "voice" ? Number(id) : null);
  } else if (view === "search") {
    closeTicket();
    showView("search");
    const q = r.params.get("q") || "";
    $("#search-form").q.value = q;
    if (q) await search(q);
  } else if (view === "wallboard" && isSupervisor()) {
    closeTicket();
    showView("wallboard");
    await refreshWallboard();
  } else if (view === "trends") {
    closeTicket(); // counselors see why there is nothing here (trends.js), not a silent list
    showView("trends");
    await refreshTrends();
  } else {
    closeTicket();
    lastListHash = location.hash || "#/tickets";
    showView("tickets");
    await refreshTickets();
  }
}

async function search(q) {
  const list = $("#search-results");
  const hits = await api("GET", `/api/knowledge/search${query({ q, k: 10 })}`);
  const frag = document.createDocumentFragment();
  if (!hits.length) frag.appendChild(el("li", t("no_results")));
  for (const hit of hits) frag.appendChild(renderHit(hit));
  list.replaceChildren(frag);
}

// Live events refresh what is on screen (coalesced); a resync refetches everything.
function onLiveEvent(data) {
  const mine = state.ticket && data.ticket_id === state.ticket.id;
  if (mine) refreshOpenTicket();
  if (data.event === "MessageReceived" && state.me.role !== "admin" && (!mine || document.hidden)) {
    notify(t("new_message"), `#${data.ticket_id}`, `msg-${data.ticket_id}`);
  }
  if (data.event === "RoutingEvent" && data.user_id === state.me.id) refreshOffers();
  if (data.event === "RoutingEvent" && data.kind === "presence" && data.user_id === state.me.id) loadPresence();
  clearTimeout(listTimer);
  listTimer = setTimeout(() => { if (!$("#view-tickets").hidden) refreshTickets(); }, 300);
  // The wallboard read is heavier (every counselor): at most one refresh per WALLBOARD_MIN_MS.
  if (!$("#view-wallboard").hidden && !wallboardTimer) {
    wallboardTimer = setTimeout(() => { wallboardTimer = null; refreshWallboard(); }, WALLBOARD_MIN_MS);
  }
}

function onResync() {
  refreshOffers();
  loadPresence();
  if (!$("#view-tickets").hidden) refreshTickets();
  if (!$("#view-wallboard").hidden) refreshWallboard();
  if (state.ticket) refreshOpenTicket();
}

async function loadPresence() {
  try {
    const p = await api("GET", "/api/me/presence");
    $("#presence").value = p.status;
    $("#presence-since").textContent = p.since ? `(${fmtTime(p.since)}~)` : "";
  } catch (_) { $("#presence").value = "offline"; }
}

async function start() {
  state.me = await api("GET", "/api/me");
  const [centers, colleagues] = await Promise.all([
    api("GET", "/api/centers").catch(() => []),
    api("GET", "/api/me/colleagues").catch(() => []),
  ]);
  state.centers = centers;
  state.colleagues = colleagues;
  $("#whoami").textContent = `${state.me.display_name || state.me.username} (${roleLabel(state.me.role)})`;
  $("#nav-wallboard").hidden = !isSupervisor();
  $("#nav-trends").hidden = !isSupervisor();
  setupCenterFilter();
  mountSoftphone();
  await loadPresence();
  showError("");
  if (stopOffers) stopOffers();
  stopOffers = startOffers((ticketId) => go(`tickets/${ticketId}`), (err) => showError(err.message));
  if (stopLive) stopLive();
  stopLive = connectLive({
    onEvent: onLiveEvent,
    onResync,
    onState: (up) => { $("#live-state").textContent = up ? "● live" : t("reconnecting"); },
  });
  await guard(() => route(currentRoute()))();
}

// Calls are answered in the browser (Twilio Voice SDK, served locally); admins take no calls.
function mountSoftphone() {
  if (phone || !window.MadoguchiSoftphone || state.me.role === "admin") return;
  const box = $("#softphone");
  box.hidden = false;
  phone = window.MadoguchiSoftphone.mount(box, { request: api, lang: getLang });
}

function toLogin() {
  state.me = null;
  if (stopLive) stopLive();
  if (stopOffers) stopOffers();
  stopLive = stopOffers = null;
  if (phone) {
    phone.destroy();
    phone = null;
    $("#softphone").hidden = true;
  }
  showView("login");
}

// Shortcuts (not while typing): g l list, r reply, n note, a assign to me, / search, Esc back.
let pendingG = false;
function onKey(e) {
  const typing = e.target.closest("input, textarea, select, [contenteditable]");
  if (typing || e.ctrlKey || e.metaKey || e.altKey || !state.me) return;
  if (pendingG) {
    pendingG = false;
    if (e.key === "l") go("tickets");
    if (e.key === "w" && isSupervisor()) go("wallboard");
    if (e.key === "t" && isSupervisor()) go("trends");
    if (e.key === "s") go("search");
    return;
  }
  const inTicket = !$("#view-ticket").hidden;
  if (e.key === "g") pendingG = true;
  else if (e.key === "r" && inTicket) { e.preventDefault(); focusReply(); }
  else if (e.key === "n" && inTicket) { e.preventDefault(); focusReply(); }
  else if (e.key === "a" && inTicket) guard(claimTicket)();
  else if (e.key === "Escape" && inTicket) location.hash = $("#back").getAttribute("href") || "#/tickets";
  else if (e.key === "/") { e.preventDefault(); const box = inTicket ? null : $("#list-filters").q; (box || $("#search-form").q).focus(); }
  else if (e.key === "?") $("#shortcuts").classList.toggle("shown");
  else if ((e.key === "j" || e.key === "k") && !$("#view-tickets").hidden) moveRow(e.key === "j" ? 1 : -1);
}

function moveRow(delta) {
  const rows = $$("#ticket-table tbody tr");
  if (!rows.length) return;
  const at = rows.indexOf(document.activeElement);
  rows[Math.min(rows.length - 1, Math.max(0, at + delta))].focus();
}

function bind() {
  setUnauthorizedHandler(toLogin);
  $("#login-form").addEventListener("submit", guard(async (e) => {
    const form = e.target;
    await api("POST", "/api/auth/token", undefined, { username: form.username.value, password: form.password.value });
    form.password.value = "";
    await start();
  }));
  $("#logout").addEventListener("click", guard(async () => { await api("POST", "/api/auth/logout"); toLogin(); }));
  $("#lang").addEventListener("click", () => {
    setLang(getLang() === "ja" ? "en" : "ja");
    applyLanguage();
    if (phone) phone.setLang(getLang());
    $("#lang").textContent = getLang() === "ja" ? "English" : "日本語";
    if (state.me) {
      $("#whoami").textContent = `${state.me.display_name || state.me.username} (${roleLabel(state.me.role)})`;
      route(currentRoute());
    }
  });
  $("#presence").addEventListener("change", guard(async (e) => {
    try { await api("PUT", "/api/me/presence", { status: e.target.value }); } finally { await loadPresence(); }
  }));
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); go("search", { q: e.target.q.value.trim() }); });
  bindTickets();
  bindTicket();
  bindWallboard();
  bindTrends();
  bindTemplateAdmin();
  initNotifications($("#notify-enable"));
  onRoute((r) => guard(() => route(r))());
  document.addEventListener("keydown", onKey);
}

document.addEventListener("DOMContentLoaded", async () => {
  bind();
  applyLanguage();
  $("#lang").textContent = getLang() === "ja" ? "English" : "日本語";
  startClock();
  try { await start(); } catch (_) { showView("login"); }
});
