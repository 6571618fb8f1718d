// Every view has a URL: #/tickets?status=queued&page=2, #/tickets/123, #/search?q=…, #/wallboard.
// The browser's back and forward buttons move between them (hashchange); reloading keeps the view.

export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  return { parts: (path || "tickets").split("/").filter(Boolean), params: new URLSearchParams(qs || "") };
}

export function href(path, params) {
  const qs = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined && v !== false)).toString() : "";
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

// Go to a view; `replace` changes the current history entry (filters) instead of adding one.
export function go(path, params, replace = false) {
  const target = href(path, params);
  if (location.hash === target) { window.dispatchEvent(new HashChangeEvent("hashchange")); return; }
  if (replace) {
    history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

export function onRoute(fn) {
  window.addEventListener("hashchange", () => fn(currentRoute()));
}
