// Offers made to this counselor: subject, reason and a ticking countdown; accept opens the ticket.

import { api } from "./api.js";
import { tickAll } from "./clock.js";
import { $, button, el } from "./dom.js";
import { channelLabel, t } from "./i18n.js";
import { notify } from "./notify.js";
import { singleFlight } from "./live.js";
import { guard } from "./ui.js";

const known = new Set();
let timer = null;

async function load(onAccepted) {
  const offers = await api("GET", "/api/offers");
  const list = $("#offer-list");
  const frag = document.createDocumentFragment();
  for (const offer of offers) {
    if (!known.has(offer.id)) {
      known.add(offer.id);
      notify(t("new_offer"), `#${offer.ticket_id} ${offer.subject || ""}`, `offer-${offer.id}`);
    }
    const li = el("li", null, "offer");
    li.dataset.offerId = offer.id;
    li.appendChild(el("strong", `#${offer.ticket_id} ${offer.subject || ""}`));
    li.appendChild(el("span", ` · ${channelLabel(offer.channel)}`));
    if (offer.reason) li.appendChild(el("span", ` · ${t("reason")}: ${offer.reason}`, "meta"));
    li.appendChild(el("span", ` · ${t("expires_in")} `));
    li.appendChild(el("span", "", "countdown", { "data-until": offer.expires_at, "aria-label": t("expires_in") }));
    li.append(" ", button(t("accept"), guard(async () => {
      await api("POST", `/api/offers/${offer.id}/accept`);
      await refresh();
      onAccepted(offer.ticket_id);
    }), { class: "accept" }), " ", button(t("decline"), guard(async () => {
      await api("POST", `/api/offers/${offer.id}/decline`);
      await refresh();
    }), { class: "decline" }));
    frag.appendChild(li);
  }
  list.replaceChildren(frag);
  $("#offers").hidden = offers.length === 0;
  tickAll($("#offers"));
}

let refresh = async () => {};

export function startOffers(onAccepted, onError) {
  refresh = singleFlight(() => load(onAccepted).catch(onError));
  const loop = async () => {
    clearTimeout(timer);
    await refresh();
    await api("POST", "/api/me/heartbeat").catch(() => null);
    timer = setTimeout(loop, 5000);
  };
  loop();
  return () => clearTimeout(timer);
}

export const refreshOffers = () => refresh();
