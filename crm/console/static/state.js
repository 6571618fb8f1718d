// What the console knows about the session, shared by the views.

export const state = {
  me: null,          // GET /api/me
  centers: [],       // GET /api/centers
  colleagues: [],    // GET /api/me/colleagues
  ticket: null,      // the open ticket (GET /api/tickets/{id})
};

export const isSupervisor = () => Boolean(state.me && ["supervisor", "admin"].includes(state.me.role));

export function centerName(id) {
  const c = state.centers.find((x) => x.id === id);
  return c ? c.name : `#${id}`;
}

export function colleagueName(id) {
  if (id === null || id === undefined) return "";
  if (state.me && id === state.me.id) return state.me.display_name || state.me.username;
  const c = state.colleagues.find((x) => x.id === id);
  return c ? c.display_name || c.username : `#${id}`;
}

// Unread: the ticket changed since this browser last showed it (kept per user in localStorage).
const seenKey = () => `madoguchi.seen.${state.me ? state.me.id : 0}`;
function seenMap() {
  try { return JSON.parse(localStorage.getItem(seenKey()) || "{}"); } catch (_) { return {}; }
}
export function markSeen(ticket) {
  const map = seenMap();
  map[ticket.id] = ticket.updated_at;
  const keys = Object.keys(map);
  if (keys.length > 2000) for (const k of keys.slice(0, keys.length - 2000)) delete map[k];
  localStorage.setItem(seenKey(), JSON.stringify(map));
}
export function isUnread(ticket) {
  const seen = seenMap()[ticket.id];
  if (!seen) return ticket.assignee_id === (state.me && state.me.id) || ticket.assignee_id === null;
  return String(ticket.updated_at) > String(seen);
}
