// The error banner, a short confirmation toast, and guard() that turns a failed action into a message.

import { $ } from "./dom.js";

export function showError(message) {
  const box = $("#error");
  box.textContent = message || "";
  box.hidden = !message;
}

let toastTimer = null;
export function toast(message) {
  const box = $("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3000);
}

export const guard = (fn) => async (e) => {
  if (e && e.preventDefault && (e.type === "submit" || e.type === "click")) e.preventDefault();
  try {
    showError("");
    await fn(e);
  } catch (err) {
    if (!(err && err.handled)) showError((err && err.message) || String(err));
  }
};
