// The counselor's browser softphone (issue 12): Twilio Voice JS SDK 2.18.5, vendored under
// /console/vendor/, with its sounds served from /console/sounds/ (nothing loads from a CDN).
//
//   <link rel="stylesheet" href="/console/softphone.css">
//   <script src="/console/vendor/twilio-voice-sdk-2.18.5/twilio.min.js" defer></script>
//   <script src="/console/softphone.js" defer></script>
//   <section id="softphone" data-madoguchi-softphone></section>      (mounted on load), or
//   const phone = window.MadoguchiSoftphone.mount(el, api); phone.showTicket(ticketId);
//
// `api` is optional: the console's api(method, path, body) function, or { request(method, path, body)
// -> Promise<json> (throws Error with .status),
// lang() -> "ja" | "en", registerTimeoutMs }. Without it the panel calls the JSON API itself with the
// session cookie and its CSRF token, and reads the console's language (localStorage madoguchi.lang).
// Nothing here throws: a network without Twilio (LGWAN) shows "Twilio unreachable".
(function () {
  "use strict";

  const SIGNALING_HOST = "voice-js.roaming.twilio.com";
  const SOUND_NAMES = ["incoming", "outgoing", "disconnect", "dtmf0", "dtmf1", "dtmf2", "dtmf3", "dtmf4",
    "dtmf5", "dtmf6", "dtmf7", "dtmf8", "dtmf9", "dtmfs", "dtmfh"];
  const TRANSPORT_ERRORS = [31000, 31003, 31005, 31009, 53000, 53001, 53405];
  const POLL_MS = 5000;

  const LABELS = {
    en: {
      title: "Softphone", offline: "Offline", connecting: "Connecting to Twilio…", ready: "Ready",
      ringing: "Ringing", in_call: "In call", unreachable: "Twilio unreachable",
      not_configured: "Softphone not set up", unavailable: "Softphone unavailable",
      unreachable_detail: `This network cannot reach Twilio (wss://${SIGNALING_HOST}), as on LGWAN: calls cannot be answered in this browser. Use a desk phone, or ask your administrator to allow that host.`,
      unavailable_detail: "The Twilio Voice SDK did not load: reload the page; if it persists, tell your administrator.",
      answer: "Answer", join: "Join the call", hangup: "Hang up", leave: "Leave", mute: "Mute", unmute: "Unmute",
      call_back: "Call back", callback_badge: "折り返し / call back", dialing: "Calling back {number}…",
      callback_needs_phone: "Call back needs a ready softphone (the consumer would be rung into an empty call).",
      listen: "Listen", whisper: "Whisper (coach)", barge: "Barge in", supervise: "Supervise",
      ticket_call: "Call on ticket #{id}: {state}", withheld: "number withheld (非通知): no call back",
      st_waiting: "waiting in the queue", st_callback: "waiting for a call back", st_connected: "connected",
      st_done: "ended", st_gone: "left the queue", no_leg: "The counselor is not on the call yet: whisper needs their call.",
      error: "Error", no_microphone: "No microphone is available in this browser: the call back was not placed.",
      consult: "Warm transfer (相談転送)", consult_target: "Consult whom", consult_reason: "Reason (shown on the timeline)",
      consult_start: "Ring them (呼出)", consult_close: "Close", consult_complete: "Complete transfer (転送完了)",
      consult_cancel: "Cancel transfer (転送取消)", colleagues: "Counselors of your center", centers: "Another center",
      on_hold: "Caller on hold (保留中)", consult_ringing: "ringing {name}…", consult_talking: "consulting {name} (相談中)",
      consult_panel: "Warm transfer", consult_ended: "Warm transfer ended: {text}", consult_done: "Transferred to {name}.",
      consult_no_target: "Choose a counselor or a center first.",
    },
    ja: {
      title: "ソフトフォン", offline: "オフライン", connecting: "Twilio に接続中…", ready: "待受中",
      ringing: "着信中", in_call: "通話中", unreachable: "Twilio に接続できません",
      not_configured: "ソフトフォン未設定", unavailable: "ソフトフォンを利用できません",
      unreachable_detail: `このネットワーク (LGWAN など) から Twilio (wss://${SIGNALING_HOST}) に接続できないため、このブラウザでは通話できません。固定電話を使うか、管理者にこの接続先の許可を依頼してください。`,
      unavailable_detail: "Twilio Voice SDK を読み込めませんでした。ページを再読み込みし、直らなければ管理者に連絡してください。",
      answer: "応答", join: "通話に参加", hangup: "終話", leave: "退出", mute: "ミュート", unmute: "ミュート解除",
      call_back: "折り返し発信", callback_badge: "折り返し", dialing: "{number} に折り返し発信中…",
      callback_needs_phone: "折り返しはソフトフォンが待受中のときだけ発信できます (相談者を無人の通話に呼び出さないため)。",
      listen: "モニタリング", whisper: "ささやき (コーチング)", barge: "割り込み", supervise: "SV 操作",
      ticket_call: "相談 #{id} の通話: {state}", withheld: "非通知のため折り返しできません",
      st_waiting: "待ち呼", st_callback: "折り返し待ち", st_connected: "通話中", st_done: "終了",
      st_gone: "キューから離脱", no_leg: "相談員がまだ通話に参加していないため、ささやきできません。",
      error: "エラー", no_microphone: "このブラウザでマイクを使用できないため、折り返し発信しませんでした。",
      consult: "相談転送", consult_target: "相談先", consult_reason: "理由 (タイムラインに表示)",
      consult_start: "呼出", consult_close: "閉じる", consult_complete: "転送完了", consult_cancel: "転送取消",
      colleagues: "自センターの相談員", centers: "他センター", on_hold: "保留中",
      consult_ringing: "{name} を呼出中…", consult_talking: "{name} と相談中", consult_panel: "相談転送",
      consult_ended: "相談転送を終了しました: {text}", consult_done: "{name} に転送しました。",
      consult_no_target: "相談先の相談員かセンターを選んでください。",
    },
  };

  function csrfToken() {
    const hit = document.cookie.split("; ").find((c) => c.startsWith("madoguchi_csrf="));
    return hit ? decodeURIComponent(hit.slice("madoguchi_csrf=".length)) : "";
  }

  async function defaultRequest(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok) throw Object.assign(new Error((data && data.detail) || `${res.status} ${res.statusText}`), { status: res.status });
    return data;
  }

  function defaultLang() {
    try { return localStorage.getItem("madoguchi.lang") === "ja" ? "ja" : (document.documentElement.lang === "ja" ? "ja" : "en"); }
    catch (_) { return "en"; }
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function mount(root, api) {
    if (typeof api === "function") api = { request: api }; // the console's api(method, path, body)
    api = api || {};
    const request = api.request || defaultRequest;
    const langOf = api.lang || defaultLang;
    const soundBase = api.soundBase || "/console/sounds/";
    const registerTimeout = Number(api.registerTimeoutMs || root.dataset.registerTimeoutMs || 10000);
    let lang = langOf();
    let state = "offline", detail = "", device = null, incoming = null, active = null, activeMode = null;
    let ticketId = null, call = null, pollTimer = null, registerTimer = null, destroyed = false;

    const t = (key, vars) => {
      let text = (LABELS[lang] || LABELS.en)[key] ?? LABELS.en[key] ?? key;
      for (const [k, v] of Object.entries(vars || {})) text = text.replaceAll(`{${k}}`, String(v));
      return text;
    };

    root.classList.add("softphone");
    root.setAttribute("aria-label", "Softphone");
    const title = el("h3", { class: "sp-title" });
    const stateLine = el("p", { class: "sp-state", role: "status", "aria-live": "polite" });
    const detailLine = el("p", { class: "sp-detail" });
    const ticketLine = el("p", { class: "sp-ticket" });
    const badge = el("span", { class: "sp-badge", hidden: "" });
    const message = el("p", { class: "sp-message", role: "alert" });
    const buttons = el("div", { class: "sp-buttons" });
    const supervise = el("div", { class: "sp-supervise", role: "group" });
    const button = (name, parent) => {
      const b = el("button", { type: "button", class: `sp-${name}`, "data-action": name });
      parent.append(b);
      return b;
    };
    const bAnswer = button("answer", buttons), bHangup = button("hangup", buttons), bMute = button("mute", buttons);
    const bCallback = button("call_back", buttons);
    const bListen = button("listen", supervise), bWhisper = button("whisper", supervise), bBarge = button("barge", supervise);
    // 相談転送 (warm transfer): the form to pick a colleague or a center, then hold / complete / cancel
    const bConsult = button("consult", buttons);
    const holdLine = el("p", { class: "sp-hold", role: "status", "aria-live": "polite", hidden: "" });
    const consultBox = el("form", { class: "sp-consult-form", hidden: "" });
    const targetId = `sp-consult-target-${Math.random().toString(36).slice(2)}`;
    const targetLabel = el("label", { for: targetId });
    const targetSelect = el("select", { id: targetId, name: "target" });
    const reasonInput = el("input", { name: "reason", maxlength: "300", type: "text" });
    const reasonLabel = el("label", {}), reasonText = el("span", {});
    reasonLabel.append(reasonText, reasonInput);
    const bConsultStart = el("button", { type: "submit", class: "sp-consult_start", "data-action": "consult_start" });
    const bConsultClose = el("button", { type: "button", class: "sp-consult_close", "data-action": "consult_close" });
    consultBox.append(targetLabel, targetSelect, reasonLabel, bConsultStart, bConsultClose);
    const consulting = el("div", { class: "sp-consulting", role: "group" });
    const bComplete = button("consult_complete", consulting), bCancel = button("consult_cancel", consulting);
    root.replaceChildren(title, stateLine, detailLine, ticketLine, badge, holdLine, buttons, consultBox, consulting,
      supervise, message);
    let lastConsult = null;

    function say(text) { message.textContent = text || ""; }

    function setState(next, why) {
      state = next;
      detail = why || "";
      render();
    }

    function render() {
      title.textContent = t("title");
      stateLine.textContent = t(state);
      stateLine.dataset.state = state;
      root.dataset.state = state;
      detailLine.textContent = state === "unreachable" ? t("unreachable_detail")
        : state === "unavailable" ? t("unavailable_detail") : detail;
      const phoneReady = device !== null && ["ready", "ringing", "in_call"].includes(state);
      const mine = Boolean(call && call.mine), sup = Boolean(call && call.may_supervise);
      const live = call && ["waiting", "connected"].includes(call.state);
      ticketLine.textContent = call ? t("ticket_call", { id: call.ticket_id, state: t(`st_${call.state}`) }) : "";
      ticketLine.hidden = !call;
      const wantsCallback = Boolean(call && call.callback_requested && call.state === "callback");
      badge.textContent = t("callback_badge");
      badge.hidden = !wantsCallback;
      bAnswer.textContent = incoming ? t("answer") : t("join");
      bAnswer.hidden = !(incoming || (mine && live && !active));
      bAnswer.disabled = !phoneReady;
      bHangup.textContent = active && activeMode !== "counselor" ? t("leave") : t("hangup");
      bHangup.hidden = !(active || incoming || (mine && call && call.state === "connected"));
      bMute.textContent = active && active.isMuted() ? t("unmute") : t("mute");
      bMute.hidden = !active;
      bCallback.textContent = t("call_back");
      bCallback.hidden = !(mine && wantsCallback);
      bCallback.disabled = !phoneReady || Boolean(call && call.withheld) || Boolean(active);
      bCallback.title = call && call.withheld ? t("withheld") : phoneReady ? "" : t("callback_needs_phone");
      renderConsult(mine);
      supervise.setAttribute("aria-label", t("supervise"));
      supervise.hidden = !(sup && call && call.state === "connected");
      for (const [b, key] of [[bListen, "listen"], [bWhisper, "whisper"], [bBarge, "barge"]]) {
        b.textContent = t(key);
        b.disabled = !phoneReady || Boolean(active);
      }
    }

    function renderConsult(mine) {
      const consult = call && call.consult;
      root.dataset.consult = consult ? consult.state : "";
      bConsult.textContent = t("consult");
      bConsult.hidden = !(mine && call.state === "connected" && !consult);
      if (bConsult.hidden) consultBox.hidden = true;
      consultBox.setAttribute("aria-label", t("consult_panel"));
      targetLabel.textContent = t("consult_target");
      reasonText.textContent = t("consult_reason");
      bConsultStart.textContent = t("consult_start");
      bConsultClose.textContent = t("consult_close");
      holdLine.hidden = !consult;
      holdLine.textContent = consult ? `${t("on_hold")} · ${t(consult.state === "talking" ? "consult_talking" : "consult_ringing",
        { name: consult.to_name || "" })}` : "";
      consulting.setAttribute("aria-label", t("consult_panel"));
      consulting.hidden = !(mine && consult);
      bComplete.textContent = t("consult_complete");
      bComplete.disabled = !consult || consult.state !== "talking";
      bCancel.textContent = t("consult_cancel");
    }

    async function openConsult() {
      consultBox.hidden = false;
      targetSelect.replaceChildren();
      const [people, centers] = await Promise.all([
        request("GET", "/api/me/colleagues").catch(() => []),
        request("GET", "/api/centers").catch(() => []),
      ]);
      const me = await request("GET", "/api/me").catch(() => null);
      const group = (label) => { const g = el("optgroup", { label }); targetSelect.append(g); return g; };
      const gp = group(t("colleagues")), gc = group(t("centers"));
      for (const p of people || []) {
        if (me && p.id === me.id) continue;
        gp.append(el("option", { value: `user:${p.id}` }, p.display_name || p.username));
      }
      for (const c of centers || []) {
        if (me && c.id === me.center_id) continue;
        gc.append(el("option", { value: `center:${c.code}` }, `${c.name} (${c.code})`));
      }
      render();
      targetSelect.focus();
    }

    async function consultAction(action, body) {
      if (!call) return null;
      const path = `/api/voice/calls/${call.ticket_id}/consult${action ? `/${action}` : ""}`;
      try {
        return await request("POST", path, body);
      } catch (err) {
        say(err.message);
        return null;
      } finally {
        await refresh();
      }
    }

    function unreachable(why) {
      if (destroyed) return;
      if (registerTimer) clearTimeout(registerTimer);
      setState("unreachable", why);
    }

    function follow(c, mode) {
      active = c;
      activeMode = mode;
      c.on("accept", () => setState("in_call"));
      const done = () => { if (active === c) { active = null; activeMode = null; } setState(device ? "ready" : "offline"); refresh(); };
      c.on("disconnect", done);
      c.on("cancel", done);
      c.on("reject", done);
      c.on("error", (err) => { say(`${t("error")}: ${err && err.message ? err.message : err}`); done(); });
      c.on("mute", render);
      render();
    }

    async function join(params, mode) {
      if (!device || active) return;
      try {
        follow(await device.connect({ params }), mode);
      } catch (err) {
        say(`${t("error")}: ${err && err.message ? err.message : err}`);
      }
    }

    async function microphone() {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream.getTracks().forEach((track) => track.stop());
    }

    async function start() {
      setState("connecting");
      let token;
      try {
        token = await request("GET", "/api/voice/token");
      } catch (err) {
        setState(err && err.status === 503 ? "not_configured" : "offline", err && err.message);
        return;
      }
      const Twilio = window.Twilio;
      if (!Twilio || !Twilio.Device) { setState("unavailable"); return; }
      const sounds = {};
      for (const name of SOUND_NAMES) sounds[name] = `${soundBase}${name}.wav`;
      try {
        device = new Twilio.Device(token.token, {
          sounds, publishEvents: false, closeProtection: true, logLevel: "error", edge: "roaming",
        });
      } catch (err) { device = null; unreachable(err && err.message); return; }
      device.on("registered", () => { if (registerTimer) clearTimeout(registerTimer); setState(active ? "in_call" : "ready"); });
      device.on("unregistered", () => { if (state !== "unreachable") setState("offline"); });
      device.on("error", (err) => {
        const code = err && err.code;
        if (code >= 20000 && code < 21000) setState("not_configured", err.message); // token refused
        else if (TRANSPORT_ERRORS.includes(code) || state === "connecting") unreachable(err && err.message);
        else say(`${t("error")}: ${err && err.message ? err.message : err}`);
      });
      device.on("incoming", (c) => {
        incoming = c;
        setState("ringing");
        const gone = () => { if (incoming === c) incoming = null; setState(active ? "in_call" : "ready"); };
        c.on("cancel", gone);
        c.on("reject", gone);
        c.on("disconnect", gone);
        c.on("accept", () => { incoming = null; follow(c, "counselor"); setState("in_call"); });
      });
      device.on("tokenWillExpire", async () => {
        try { device.updateToken((await request("GET", "/api/voice/token")).token); } catch (err) { say(err.message); }
      });
      registerTimer = setTimeout(() => { if (state === "connecting") unreachable(); }, registerTimeout);
      try { await device.register(); } catch (err) { unreachable(err && err.message); }
    }

    async function refresh() {
      if (ticketId === null || destroyed) return;
      try {
        call = await request("GET", `/api/voice/calls/${ticketId}`);
      } catch (err) {
        call = null;
        if (err && err.status !== 404) say(err.message);
      }
      const consult = call && call.consult;
      if (lastConsult && !consult && call && call.consult_outcome && call.consult_outcome.kind !== "転送相談完了") {
        say(t("consult_ended", { text: call.consult_outcome.text }));
      }
      lastConsult = consult || null;
      render();
    }

    function showTicket(id) {
      ticketId = id === null || id === undefined || id === "" ? null : Number(id);
      call = null;
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = ticketId === null ? null : setInterval(refresh, POLL_MS);
      render();
      return refresh();
    }

    bAnswer.addEventListener("click", () => {
      if (incoming) { incoming.accept(); return; }
      if (call) join({ ticket: String(call.ticket_id) }, "counselor");
    });
    bHangup.addEventListener("click", async () => {
      if (incoming && !active) { incoming.reject(); return; }
      try {
        if (call && call.mine) await request("POST", `/api/voice/calls/${call.ticket_id}/hangup`);
      } catch (err) { say(err.message); }
      if (active) active.disconnect();
      refresh();
    });
    bMute.addEventListener("click", () => { if (active) { active.mute(!active.isMuted()); render(); } });
    bCallback.addEventListener("click", async () => {
      if (!call) return;
      bCallback.disabled = true;
      try {
        await microphone(); // no microphone: do not ring a consumer the counselor cannot talk to
      } catch (err) {
        say(`${t("no_microphone")} (${err && err.name ? err.name : err})`);
        render();
        return;
      }
      try {
        const dialed = await request("POST", `/api/voice/calls/${call.ticket_id}/callback`);
        say(t("dialing", { number: dialed.dialed }));
        await join({ ticket: String(call.ticket_id) }, "counselor");
      } catch (err) {
        say(err.message);
      }
      refresh();
    });
    const superviseAs = (mode) => () => {
      if (!call) return;
      const params = { ticket: String(call.ticket_id), mode };
      if (mode === "whisper") {
        if (!call.counselor_call_sid) { say(t("no_leg")); return; }
        params.coach_call = call.counselor_call_sid;
      }
      join(params, mode);
    };
    bConsult.addEventListener("click", () => { openConsult().catch((err) => say(err.message)); });
    bConsultClose.addEventListener("click", () => { consultBox.hidden = true; bConsult.focus(); });
    consultBox.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [kind, value] = (targetSelect.value || "").split(":");
      if (!value) { say(t("consult_no_target")); return; }
      const body = { reason: reasonInput.value.trim() };
      if (kind === "user") body.to_user_id = Number(value);
      else body.to_center = value;
      bConsultStart.disabled = true; // one click, one consult (the server answers 409 to a second)
      const started = await consultAction("", body);
      bConsultStart.disabled = false;
      if (started) { consultBox.hidden = true; reasonInput.value = ""; say(""); }
    });
    bComplete.addEventListener("click", async () => {
      bComplete.disabled = true;
      const done = await consultAction("complete");
      if (done) {
        lastConsult = null;
        say(t("consult_done", { name: done.to_name || "" }));
        if (active) active.disconnect(); // the counselor leaves the conference (the server removes the leg too)
      }
    });
    bCancel.addEventListener("click", async () => {
      bCancel.disabled = true;
      if (await consultAction("cancel")) { lastConsult = null; say(""); }
    });
    bListen.addEventListener("click", superviseAs("listen"));
    bWhisper.addEventListener("click", superviseAs("whisper"));
    bBarge.addEventListener("click", superviseAs("barge"));

    render();
    start().catch((err) => unreachable(err && err.message));
    if (root.dataset.ticketId) showTicket(root.dataset.ticketId);

    return {
      showTicket,
      setLang(value) { lang = value === "ja" ? "ja" : "en"; render(); },
      state: () => state,
      destroy() {
        destroyed = true;
        if (pollTimer) clearInterval(pollTimer);
        if (registerTimer) clearTimeout(registerTimer);
        try { if (device) device.destroy(); } catch (_) { /* already gone */ }
      },
    };
  }

  window.MadoguchiSoftphone = { mount, SIGNALING_HOST };
  const auto = () => document.querySelectorAll("[data-madoguchi-softphone]").forEach((node) => {
    if (!node.madoguchiSoftphone) node.madoguchiSoftphone = mount(node);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", auto);
  else auto();
})();
