// Supervisors manage their center's canned responses (定型文) from the wallboard page.

import { api } from "./api.js";
import { $, button, el } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { guard, toast } from "./ui.js";

export async function loadTemplateAdmin() {
  const box = $("#templates-admin");
  box.hidden = !state.me || state.me.role !== "supervisor";
  if (box.hidden) return;
  const rows = await api("GET", "/api/templates");
  const frag = document.createDocumentFragment();
  for (const tpl of rows) {
    const li = el("li");
    li.appendChild(el("strong", tpl.title));
    li.appendChild(el("span", ` — ${tpl.body}`, "meta"));
    if (tpl.id !== null) {
      li.append(" ", button(t("delete"), guard(async () => {
        await api("DELETE", `/api/templates/${tpl.id}`);
        await loadTemplateAdmin();
      }), { "aria-label": `${t("delete")}: ${tpl.title}` }));
    }
    frag.appendChild(li);
  }
  $("#tpl-list").replaceChildren(frag);
}

export function bindTemplateAdmin() {
  $("#tpl-form").addEventListener("submit", guard(async (e) => {
    const form = e.target;
    await api("POST", "/api/templates", { title: form.title.value.trim(), body: form.body.value });
    toast(`${t("saved")}: ${form.title.value.trim()}`);
    form.reset();
    await loadTemplateAdmin();
  }));
}
