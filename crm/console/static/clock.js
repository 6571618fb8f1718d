// One timer ticks every wait time and countdown on the page: elements with data-since count up,
// elements with data-until count down (whole seconds, h:mm:ss); data-overdue-at turns red once passed.

import { fmtDuration, parseTime } from "./i18n.js";

export function tickAll(root = document) {
  const now = Date.now();
  root.querySelectorAll("[data-since]").forEach((node) => {
    const since = parseTime(node.dataset.since);
    if (since) node.textContent = fmtDuration((now - since.getTime()) / 1000);
  });
  root.querySelectorAll("[data-until]").forEach((node) => {
    const until = parseTime(node.dataset.until);
    if (!until) return;
    const left = (until.getTime() - now) / 1000;
    node.textContent = fmtDuration(Math.max(0, left));
    node.classList.toggle("urgent", left < 10);
  });
  // A deadline passing while the page is open (the 重大事故等 notification): class "overdue" from then on.
  root.querySelectorAll("[data-overdue-at]").forEach((node) => {
    const at = parseTime(node.dataset.overdueAt);
    if (at) node.classList.toggle("overdue", now >= at.getTime() || node.dataset.overdue === "true");
  });
}

export function startClock() {
  tickAll();
  return setInterval(() => tickAll(), 1000);
}
