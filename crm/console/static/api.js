// The JSON API over the session cookie (HttpOnly) with its readable CSRF token sent back as a header.
// Errors become Error objects whose message a counselor can act on.

import { t } from "./i18n.js";

let onUnauthorized = () => {};
export const setUnauthorizedHandler = (fn) => { onUnauthorized = fn; };

function csrfToken() {
  const hit = document.cookie.split("; ").find((c) => c.startsWith("madoguchi_csrf="));
  return hit ? decodeURIComponent(hit.slice("madoguchi_csrf=".length)) : "";
}

// A 422 names fields; say which one in words rather than echo the validator's text.
function validationMessage(data) {
  const fields = (data.errors || []).map((e) => e.loc[e.loc.length - 1]).filter((f) => typeof f === "string");
  if (fields.includes("body")) return t("empty_reply");
  return data.detail || "Some fields are not valid";
}

export async function api(method, path, body, form) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
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
    onUnauthorized();
    throw Object.assign(new Error((data && data.detail) || "Please log in again"), { status: 401, handled: true });
  }
  if (!res.ok) {
    const message = res.status === 422 && data ? validationMessage(data) : (data && data.detail) || `${res.status} ${res.statusText}`;
    throw Object.assign(new Error(message), { status: res.status });
  }
  return data;
}

// Build a query string from an object, skipping empty values (Japanese is percent-encoded).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
