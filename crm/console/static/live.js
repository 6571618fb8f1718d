// The live event stream (SSE). EventSource resends the last `id:` as Last-Event-ID when it reconnects,
// so the server replays a short gap; after a `resync` event, a long gap or a closed stream the
// console refetches what it shows from the API instead.

const EVENTS = [
  "MessageReceived", "ReplyQueued", "MessageDeliveryChanged", "TicketChanged", "TicketResolved",
  "SeriousAccidentSuspected", "AccidentNotificationOverdue", "PossibleAccidentNoticed", "AccidentCheckOverdue",
  "RoutingEvent", "message",
];
export const LONG_GAP_MS = 30_000;

export function connectLive({ onEvent, onResync, onState }) {
  let source = null;
  let downSince = null;
  let retry = null;
  let stopped = false;

  const handle = (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch (_) { return; }
    if (data && data.event === "resync") { onResync(data.reason || "resync"); return; }
    onEvent(data, e.lastEventId);
  };

  function open() {
    source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      if (downSince !== null && Date.now() - downSince > LONG_GAP_MS) onResync("long gap");
      downSince = null;
      onState(true);
    });
    source.addEventListener("error", () => {
      if (downSince === null) downSince = Date.now();
      onState(false);
      if (source.readyState === EventSource.CLOSED && !stopped) {
        clearTimeout(retry);
        retry = setTimeout(() => { if (!stopped) { open(); onResync("stream closed"); } }, 5000);
      }
    });
    for (const name of EVENTS) source.addEventListener(name, handle);
    source.addEventListener("resync", (e) => {
      let reason = "resync";
      try { reason = JSON.parse(e.data).reason || reason; } catch (_) { /* keep */ }
      onResync(reason);
    });
  }

  open();
  return () => { stopped = true; clearTimeout(retry); if (source) source.close(); };
}

// Run `fn` at most once at a time; calls during a run coalesce into one more run after it.
// Overlapping refreshes can then never interleave their rendering (bug 3: duplicated rows).
export function singleFlight(fn) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await fn(); } while (again);
      } finally { running = null; }
    })();
    return running;
  };
  return run;
}
