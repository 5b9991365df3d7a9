// The API as the console uses it: JWTs kept in localStorage, refreshed once when a call
// answers 401 (or before, when the access token is about to expire), and a return to
// the sign-in page, remembering where we were, when the session cannot be renewed.

const STORE = "secalerts.tokens";

export function tokens() {
  try {
    const value = JSON.parse(localStorage.getItem(STORE));
    return value && value.access && value.refresh ? value : null;
  } catch {
    return null;
  }
}

export function saveTokens({ access, refresh }) {
  localStorage.setItem(STORE, JSON.stringify({ access, refresh }));
}

export function clearTokens() {
  localStorage.removeItem(STORE);
}

let leaving = false;

/** Marks the page as leaving (signing out, or sent to sign-in): calls still under way
 * then never send it to sign-in again, which would abort the first navigation. */
export function leave() {
  const first = !leaving;
  leaving = true;
  return first;
}

/** Leaves for the sign-in page; the returned promise never settles (the page is going). */
export function toLogin() {
  if (leave()) {
    clearTokens();
    const next = location.pathname + location.search;
    location.assign(`/login/?next=${encodeURIComponent(next)}`);
  }
  return new Promise(() => {});
}

/** Milliseconds since the epoch at which the token expires (0 when unreadable). */
export function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).exp * 1000;
  } catch {
    return 0;
  }
}

export function expiresWithin(token, ms) {
  return tokenExpiry(token) - Date.now() < ms;
}

let refreshing = null;

/** Rotates the token pair; true on success. One refresh at a time: a refresh token
 * works once (the server blacklists it), so concurrent callers share the same one. */
export function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = tokens();
      if (!current) return false;
      const response = await fetch("/api/token/refresh/", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh: current.refresh }),
      });
      if (!response.ok) return false;
      saveTokens(await response.json());
      return true;
    })()
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (!body || typeof body !== "object") return `The server answered ${status}.`;
  const parts = [];
  if (body.detail) parts.push(body.detail);
  const errors = body.errors ?? (body.detail ? null : body);
  if (errors && typeof errors === "object") {
    for (const [field, messages] of Object.entries(errors)) {
      const text = Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages);
      parts.push(`${field}: ${text}`);
    }
  }
  return parts.join(" ") || `The server answered ${status}.`;
}

/** JSON in, JSON out; throws ApiError for any other answer than 2xx or 401. */
export async function api(path, { method = "GET", body } = {}) {
  if (!tokens()) return toLogin();
  if (expiresWithin(tokens().access, 10_000) && !(await refreshTokens())) return toLogin();
  let response = await send(path, method, body);
  if (response.status === 401) {
    if (!(await refreshTokens())) return toLogin();
    response = await send(path, method, body);
    if (response.status === 401) return toLogin();
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function send(path, method, body) {
  const headers = { Authorization: `Bearer ${tokens()?.access ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
