// The consultation record panel (相談記録, issue #16): prefilled values accepted, edited or rejected
// field by field, rule violations shown as the counselor types, submit, and the supervisor's review
// (approve in one click, return with a comment per field) plus the approval queue.
//
//   window.MadoguchiRecords.mount(el, ticketId, api)        the record of one ticket
//   window.MadoguchiRecords.mountQueue(el, api, onOpen)     the supervisor's queue (onOpen(ticketId))
//
// `api(method, path, body)` resolves to parsed JSON and throws an Error whose message a person can
// act on (crm/console/static/api.js). No innerHTML: every value is set as text.
(function () {
  "use strict";

  function h(tag, text, cls, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.join("、");
    if (value === true) return "yes";
    if (value === false) return "no";
    if (typeof value === "number") return value.toLocaleString("ja-JP");
    return String(value);
  }

  function inputFor(name, spec, vocab) {
    let input;
    if (spec.type === "choice" || spec.type === "choices") {
      input = h("select");
      if (spec.type === "choices") input.multiple = true;
      else input.appendChild(h("option", "—", undefined, { value: "" }));
      for (const v of vocab[spec.vocabulary] || []) input.appendChild(h("option", v, undefined, { value: v }));
    } else if (spec.type === "bool") {
      input = h("select");
      for (const [v, label] of [["", "—"], ["true", "yes"], ["false", "no"]]) input.appendChild(h("option", label, undefined, { value: v }));
    } else if (name === "summary") {
      input = h("textarea", undefined, undefined, { rows: "3", maxlength: String(spec.max_length || 4000) });
    } else {
      input = h("input", undefined, undefined, spec.type === "amount" ? { inputmode: "numeric" } : spec.type === "date" ? { placeholder: "YYYY-MM-DD" } : {});
    }
    input.name = `record_${name}`; // never clashes with the console's own form fields
    return input;
  }

  function readInput(input, spec) {
    if (spec.type === "choices") return Array.from(input.selectedOptions).map((o) => o.value);
    const raw = input.value.trim();
    if (raw === "") return null;
    if (spec.type === "bool") return raw === "true";
    if (spec.type === "amount") {
      const digits = raw.replace(/[,，円\s]/g, "");
      return /^\d+$/.test(digits) ? Number(digits) : raw; // the rules say what is wrong with "12万"
    }
    return raw;
  }

  function writeInput(input, spec, value) {
    if (spec.type === "choices") {
      const set = new Set(value || []);
      for (const o of input.options) o.selected = set.has(o.value);
    } else if (spec.type === "bool") input.value = value === true ? "true" : value === false ? "false" : "";
    else input.value = value === null || value === undefined ? "" : String(value);
  }

  async function mount(el, ticketId, api) {
    el.replaceChildren(h("p", "Loading the record…", "meta"));
    const [rules, me] = await Promise.all([api("GET", "/api/records/rules"), api("GET", "/api/me")]);
    const panel = { el, ticketId, api, rules, me, inputs: {}, notes: {}, record: null, prefill: {} };
    await reload(panel);
  }

  async function reload(p) {
    const [record, prefill] = await Promise.all([
      p.api("GET", `/api/tickets/${p.ticketId}/record`),
      p.api("GET", `/api/tickets/${p.ticketId}/record/prefill`).catch(() => ({ suggestions: [] })),
    ]);
    p.record = record;
    p.prefill = Object.fromEntries(prefill.suggestions.map((s) => [s.field, s]));
    render(p);
  }

  function render(p) {
    const { record, rules } = p;
    const editable = record.status === "draft" || record.status === "returned" || (record.status === "submitted" && p.me.role !== "counselor");
    const box = h("section", undefined, "records-panel");
    box.appendChild(h("h3", `相談記録 · ${record.status} · v${record.version}`, `records-status records-${record.status}`));
    if (record.comments && record.comments._general) box.appendChild(h("p", `Supervisor: ${record.comments._general}`, "records-comment"));
    const table = h("table", undefined, "records-table");
    const body = h("tbody");
    for (const [name, spec] of Object.entries(rules.fields)) {
      const row = h("tr", undefined, undefined, { "data-field": name });
      row.appendChild(h("th", spec.label));
      const cell = h("td");
      const input = inputFor(name, spec, rules.vocabularies);
      input.setAttribute("aria-label", spec.label); // the row's <th> is not a <label>: name the input itself
      writeInput(input, spec, record.values[name]);
      input.disabled = !editable;
      input.addEventListener("input", () => scheduleCheck(p));
      input.addEventListener("change", () => scheduleCheck(p));
      p.inputs[name] = input;
      cell.appendChild(input);
      if (record.comments && record.comments[name]) cell.appendChild(h("div", `↩ ${record.comments[name]}`, "records-comment"));
      p.notes[name] = h("div", undefined, "records-violation");
      cell.appendChild(p.notes[name]);
      row.appendChild(cell);
      row.appendChild(suggestionCell(p, name, spec, editable));
      body.appendChild(row);
    }
    table.appendChild(body);
    box.appendChild(table);
    box.appendChild(actions(p, editable));
    if (record.diff_since_review.length && p.me.role !== "counselor") box.appendChild(diffList(record.diff_since_review, rules));
    p.el.replaceChildren(box);
    showViolations(p, record.violations);
  }

  function suggestionCell(p, name, spec, editable) {
    const cell = h("td", undefined, "records-suggestion");
    const s = p.prefill[name];
    if (!s || JSON.stringify(s.value) === JSON.stringify(p.record.values[name])) return cell;
    cell.appendChild(h("div", `${shown(s.value)} (${Math.round(s.confidence * 100)}%)`, "records-prefill"));
    cell.appendChild(h("div", `「${s.source}」`, "meta"));
    if (!editable) return cell;
    const choose = (choice) => async () => {
      const value = choice === "edit" ? readInput(p.inputs[name], spec) : undefined;
      const entry = { field: name, choice, suggested: s.value, confidence: s.confidence, source: s.source };
      if (choice === "edit") entry.value = value;
      await act(p, () => p.api("POST", `/api/tickets/${p.ticketId}/record/choices`, { choices: [entry] }));
    };
    for (const [choice, label] of [["accept", "Accept"], ["edit", "Keep my edit"], ["reject", "Reject"]]) {
      const b = h("button", label, `records-${choice}`, { type: "button" });
      b.addEventListener("click", choose(choice));
      cell.appendChild(b);
    }
    return cell;
  }

  function values(p) {
    const out = {};
    for (const [name, spec] of Object.entries(p.rules.fields)) out[name] = readInput(p.inputs[name], spec);
    return out;
  }

  function changed(p) {
    const now = values(p);
    return Object.fromEntries(Object.entries(now).filter(([k, v]) => JSON.stringify(v ?? null) !== JSON.stringify(p.record.values[k] ?? null)));
  }

  let timer = null;
  function scheduleCheck(p) {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const current = Object.fromEntries(Object.entries(values(p)).filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length)));
        showViolations(p, await p.api("POST", `/api/tickets/${p.ticketId}/record/validate`, { values: current }));
      } catch (err) { showError(p, err); }
    }, 300);
  }

  function showViolations(p, violations) {
    for (const note of Object.values(p.notes)) note.replaceChildren();
    for (const v of violations) {
      const note = p.notes[v.field];
      if (note) note.appendChild(h("div", v.message, `records-${v.severity}`));
    }
  }

  function showError(p, err) {
    const old = p.el.querySelector(".records-error-box");
    if (old) old.remove();
    p.el.prepend(h("div", err.message, "records-error-box error"));
  }

  async function act(p, call) {
    try { await call(); await reload(p); } catch (err) { showError(p, err); }
  }

  function actions(p, editable) {
    const bar = h("div", undefined, "records-actions");
    const button = (label, fn, cls) => { const b = h("button", label, cls, { type: "button" }); b.addEventListener("click", () => act(p, fn)); bar.appendChild(b); };
    const base = `/api/tickets/${p.ticketId}/record`;
    if (editable) button("Save", () => p.api("PATCH", base, { values: changed(p), version: p.record.version }));
    if (p.record.status === "draft" || p.record.status === "returned") {
      button("Save and submit for 決裁", async () => {
        const diff = changed(p);
        if (Object.keys(diff).length) await p.api("PATCH", base, { values: diff, version: p.record.version });
        await p.api("POST", `${base}/submit`, {});
      }, "records-submit");
    }
    if (p.record.status === "submitted" && p.me.role !== "counselor") {
      button("Approve (決裁)", () => p.api("POST", `${base}/approve`), "records-approve");
      button("Return with comments", () => {
        const comments = {};
        for (const name of Object.keys(p.rules.fields)) {
          const text = p.inputs[name].closest("tr").querySelector(".records-review-comment");
          if (text && text.value.trim()) comments[name] = text.value.trim();
        }
        return p.api("POST", `${base}/return`, { comments });
      });
      for (const input of Object.values(p.inputs)) {
        input.closest("td").appendChild(h("input", undefined, "records-review-comment", { placeholder: "comment for the counselor", maxlength: "2000" }));
      }
    }
    return bar;
  }

  function diffList(diff, rules) {
    const list = h("ul", undefined, "records-diff");
    list.appendChild(h("li", "Changed since the last review:", "meta"));
    for (const d of diff) list.appendChild(h("li", `${(rules.fields[d.field] || {}).label || d.field}: ${shown(d.old)} → ${shown(d.new)}`));
    return list;
  }

  async function mountQueue(el, api, onOpen) {
    const items = await api("GET", "/api/records/queue");
    const box = h("section", undefined, "records-queue");
    box.appendChild(h("h3", `決裁 queue · ${items.length}`));
    const table = h("table");
    const body = h("tbody");
    const picks = [];
    for (const it of items) {
      const errors = it.violations.filter((v) => v.severity === "error" || v.severity === "invalid");
      const row = h("tr", undefined, it.serious ? "serious" : "");
      const pick = h("input", undefined, undefined, { type: "checkbox" });
      pick.checked = errors.length === 0;
      picks.push([pick, it.ticket_id]);
      const c0 = h("td"); c0.appendChild(pick); row.appendChild(c0);
      row.appendChild(h("td", `#${it.ticket_id} ${it.subject}`));
      row.appendChild(h("td", it.serious ? "重大事故等" : ""));
      row.appendChild(h("td", new Date(it.submitted_at).toLocaleString("ja-JP", { timeZone: "Asia/Tokyo" })));
      row.appendChild(h("td", errors.length ? `${errors.length} rule(s) broken` : `${it.diff_since_review.length} change(s)`));
      row.addEventListener("click", (e) => { if (e.target !== pick && onOpen) onOpen(it.ticket_id); });
      body.appendChild(row);
    }
    table.appendChild(body);
    box.appendChild(table);
    const bulk = h("button", "Approve the selected clean records", "records-approve", { type: "button" });
    bulk.addEventListener("click", async () => {
      const ids = picks.filter(([b]) => b.checked).map(([, id]) => id);
      if (!ids.length) return;
      try {
        const res = await api("POST", "/api/records/approve", { ticket_ids: ids });
        await mountQueue(el, api, onOpen);
        const skipped = Object.entries(res.skipped);
        if (skipped.length) el.prepend(h("div", skipped.map(([id, why]) => `#${id}: ${why}`).join(" / "), "error"));
      } catch (err) { el.prepend(h("div", err.message, "error")); }
    });
    box.appendChild(bulk);
    el.replaceChildren(box);
  }

  window.MadoguchiRecords = { mount, mountQueue };
})();
