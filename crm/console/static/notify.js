// New offers and messages: a short tone (WebAudio, no file to fetch), a desktop notification
// when allowed, and a count in the tab title while the console is in the background.

let unseen = 0;
let baseTitle = document.title;
let audio = null;

export function initNotifications(button) {
  baseTitle = document.title;
  const refresh = () => { button.hidden = !("Notification" in window) || Notification.permission !== "default"; };
  refresh();
  button.addEventListener("click", async () => { await Notification.requestPermission(); refresh(); });
  const clear = () => { if (!document.hidden) { unseen = 0; document.title = baseTitle; } };
  document.addEventListener("visibilitychange", clear);
  window.addEventListener("focus", clear);
}

function beep() {
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
  } catch (_) { /* no audio device: the title and the desktop notice remain */ }
}

export function notify(title, body, tag) {
  beep();
  if (document.hidden || !document.hasFocus()) {
    unseen += 1;
    document.title = `(${unseen}) ${baseTitle}`;
  }
  if ("Notification" in window && Notification.permission === "granted") {
    try { new Notification(title, { body, tag, silent: true }); } catch (_) { /* some browsers need a service worker */ }
  }
}

export const unseenCount = () => unseen;
