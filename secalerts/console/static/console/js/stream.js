// The alert stream (/ws/alerts/): reconnects by itself with a growing delay, renews its
// token before it expires, and tells the page its state ("live", "reconnecting") and
// when it is back, so the page can fetch what it missed.
// TODO: reconnect with ?since=<seq> once the stream offers it (DESIGN.md "Real-time
// stream"); until then `onReconnect` refetches.

import { expiresWithin, refreshTokens, tokenExpiry, tokens, toLogin } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const MAX_DELAY_MS = 5000;

export class AlertStream {
  constructor({ onAlert, onOpen, onState }) {
    this.onAlert = onAlert;
    this.onOpen = onOpen;
    this.onState = onState;
    this.failures = 0;
    this.socket = null;
    this.renewal = null;
  }

  start() {
    this.connect();
    window.addEventListener("pagehide", () => this.stop());
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.renewal);
    this.socket?.close(1000);
  }

  async connect() {
    if (!tokens()) return toLogin();
    if (expiresWithin(tokens().access, 30_000) && !(await refreshTokens())) return toLogin();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const token = encodeURIComponent(tokens().access);
    const socket = new WebSocket(`${scheme}://${location.host}/ws/alerts/?token=${token}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.onState("live");
      this.scheduleRenewal();
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "alert.created" || message.type === "alert.updated") {
        this.onAlert(message);
      }
    });
    socket.addEventListener("close", (event) => this.closed(event.code));
  }

  async closed(code) {
    this.socket = null;
    clearTimeout(this.renewal);
    if (this.stopped) return;
    if (code === CLOSE_FORBIDDEN) {
      this.onState("forbidden");
      return;
    }
    this.onState("reconnecting");
    if (code === CLOSE_UNAUTHENTICATED && !(await refreshTokens())) {
      toLogin();
      return;
    }
    const delay = Math.min(MAX_DELAY_MS, 250 * 2 ** this.failures++);
    setTimeout(() => this.connect(), code === CLOSE_UNAUTHENTICATED ? 0 : delay);
  }

  /** A minute before the access token expires: a fresh one, sent over the open socket. */
  scheduleRenewal() {
    clearTimeout(this.renewal);
    const due = tokenExpiry(tokens()?.access ?? "") - Date.now() - 60_000;
    this.renewal = setTimeout(async () => {
      if ((await refreshTokens()) && this.socket?.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ type: "auth", token: tokens().access }));
        this.scheduleRenewal();
      }
    }, Math.max(due, 5_000));
  }
}

/** Shows the stream's state in the header's #live badge. */
export function showStreamState(state) {
  const badge = document.getElementById("live");
  if (!badge) return;
  badge.dataset.state = state;
  badge.textContent = {
    live: "Live",
    reconnecting: "Reconnecting…",
    forbidden: "Stream refused",
  }[state];
}
