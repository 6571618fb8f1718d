// The worklist: filters, search, sort and paging in the URL; unread markers; ticking wait times.
// One refresh at a time (singleFlight) and each renders the whole page at once, so overlapping
// live events can neither duplicate nor wipe the table.

import { api, query } from "./api.js";
import { tickAll } from "./clock.js";
import { $, el } from "./dom.js";
import { channelLabel, fmtTime, statusLabel, t } from "./i18n.js";
import { singleFlight } from "./live.js";
import { currentRoute, go } from "./router.js";
import { centerName, isUnread, state } from "./state.js";

export const PAGE_SIZE = 50;
const WAITING = new Set(["new", "queued", "offered"]);
const FILTERS = ["scope", "status", "channel", "center", "serious", "sort", "q"];

function filtersFromRoute(params) {
  const f = {};
  for (const name of FILTERS) f[name] = params.get(name) || "";
  f.scope = f.scope || "open";
  f.sort = f.sort || "newest";
  f.page = Math.max(0, Number.parseInt(params.get("page") || "0", 10) || 0);
  return f;
}

function apiParams(f) {
  return {
    status: f.status, channel: f.channel, center_id: f.center, serious: f.serious === "1", q: f.q.trim(),
    sort: f.sort, open: f.scope === "open" && !f.status, unassigned: f.scope === "unassigned",
    assignee_id: f.scope === "mine" && state.me ? state.me.id : "", offset: f.page * PAGE_SIZE, limit: PAGE_SIZE,
  };
}

function fillForm(f) {
  const form = $("#list-filters");
  for (const name of ["scope", "status", "channel", "sort", "q"]) form[name].value = f[name];
  form.serious.checked = f.serious === "1";
  if (!$("#center-filter").hidden) form.center.value = f.center;
}

export function readForm() {
  const form = $("#list-filters");
  return {
    scope: form.scope.value, status: form.status.value, channel: form.channel.value, sort: form.sort.value,
    q: form.q.value.trim(), serious: form.serious.checked ? "1" : "", center: $("#center-filter").hidden ? "" : form.center.value,
  };
}

function row(tk) {
  const tr = el("tr", null, tk.serious_accident ? "serious" : "");
  tr.dataset.ticketId = tk.id;
  tr.tabIndex = 0;
  const unread = isUnread(tk);
  const dot = el("td", unread ? "●" : "", "unread-cell");
  if (unread) { dot.setAttribute("aria-label", t("unread")); tr.classList.add("unread"); }
  const link = el("a", tk.subject || `#${tk.id}`, undefined, { href: `#/tickets/${tk.id}` });
  const subject = el("td");
  subject.appendChild(link);
  if (state.me && state.me.role === "admin") subject.appendChild(el("div", centerName(tk.center_id), "meta"));
  const waiting = el("td");
  if (WAITING.has(tk.status)) waiting.appendChild(el("span", "", "wait", { "data-since": tk.queued_at || tk.created_at }));
  const flags = [tk.serious_accident ? "重大事故等" : "", tk.special_consideration ? t("special") : ""].filter(Boolean).join(" ");
  tr.append(dot, el("td", tk.id), subject, el("td", channelLabel(tk.channel)), el("td", statusLabel(tk.status)), waiting,
    el("td", flags), el("td", fmtTime(tk.updated_at)));
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") go(`tickets/${tk.id}`); });
  return tr;
}

async function load() {
  const f = filtersFromRoute(currentRoute().params);
  fillForm(f);
  const page = await api("GET", `/api/tickets${query(apiParams(f))}`);
  const frag = document.createDocumentFragment();
  for (const tk of page.items) frag.appendChild(row(tk));
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#ticket-table tbody tr");
  const keep = focused ? focused.dataset.ticketId : null;
  $("#ticket-table tbody").replaceChildren(frag);
  if (keep) { const again = $(`#ticket-table tbody tr[data-ticket-id="${keep}"]`); if (again) again.focus(); } // j/k position survives a refresh
  $("#no-tickets").hidden = page.items.length > 0;
  const from = page.total ? page.offset + 1 : 0;
  $("#page-info").textContent = t("page_of", { from, to: page.offset + page.items.length, total: page.total });
  $("#page-prev").disabled = page.offset === 0;
  $("#page-next").disabled = page.offset + page.items.length >= page.total;
  tickAll($("#ticket-table"));
}

export const refreshTickets = singleFlight(load);

export function bindTickets() {
  const form = $("#list-filters");
  const apply = () => go("tickets", { ...readForm(), page: "" }, true);
  form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
  form.addEventListener("change", (e) => { if (e.target.name !== "q") apply(); });
  const turn = (delta) => {
    const f = filtersFromRoute(currentRoute().params);
    go("tickets", { ...readForm(), page: String(Math.max(0, f.page + delta) || "") });
  };
  $("#page-prev").addEventListener("click", () => turn(-1));
  $("#page-next").addEventListener("click", () => turn(1));
  $("#ticket-table tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (tr && !e.target.closest("a")) go(`tickets/${tr.dataset.ticketId}`);
  });
}

export function setupCenterFilter() {
  const admin = Boolean(state.me && state.me.role === "admin");
  $("#center-filter").hidden = !admin;
  if (!admin) return;
  const sel = $("#list-filters").center;
  sel.replaceChildren(el("option", t("all_centers"), undefined, { value: "" }));
  for (const c of state.centers) sel.appendChild(el("option", `${c.name} (${c.code})`, undefined, { value: c.id }));
}
