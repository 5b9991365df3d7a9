// The alert stream (/ws/alerts/): reconnects by itself with a growing delay, renews its
// token before it expires, and tells the page its state ("live", "reconnecting").
// It reconnects with ?since=<the last seq it got>: the server first replays every change
// missed meanwhile (docs/api.md "Real-time stream"), so the page only needs to fetch
// what it missed (`onResync`) when the server can no longer replay it all, or when no
// push has come yet to resume from (`onOpen` with `resumed` false).

import { expiresWithin, refreshTokens, tokenExpiry, tokens, toLogin } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_BAD_REQUEST = 4400;
const MAX_DELAY_MS = 5000;

export class AlertStream {
  constructor({ onAlert, onOpen, onState, onResync }) {
    this.onAlert = onAlert;
    this.onOpen = onOpen;
    this.onState = onState;
    this.onResync = onResync ?? (() => onOpen({ resumed: false }));
    this.seq = null; // of the last change received
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
    const resumed = this.seq !== null;
    const since = resumed ? `&since=${this.seq}` : "";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/alerts/?token=${token}${since}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.onState("live");
      this.scheduleRenewal();
      this.onOpen({ resumed });
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "alert.created" || message.type === "alert.updated") {
        this.seq = message.seq ?? this.seq;
        this.onAlert(message);
      } else if (message.type === "resync") {
        this.onResync();
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
    if (code === CLOSE_BAD_REQUEST) this.seq = null; // not a seq the server knows
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
