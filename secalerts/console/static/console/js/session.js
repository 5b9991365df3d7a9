// What every signed-in page does first: who am I (roles), show Admin-only parts, sign-out.

import { api, clearTokens, leave, tokens, toLogin } from "./api.js";
import { $, $$, showMessage } from "./dom.js";

/** Resolves to {me, isAdmin}; leaves for sign-in when there is no session. */
export async function startSession() {
  if (!tokens()) return toLogin();
  $("#sign-out")?.addEventListener("click", signOut);
  const me = await api("/api/me/");
  const isAdmin = me.roles.includes("admin");
  document.body.dataset.role = isAdmin ? "admin" : me.roles[0] ?? "none";
  for (const element of $$("[data-admin-only]")) element.hidden = !isAdmin;
  const user = $("#user-name");
  if (user) user.textContent = `${me.username} · ${me.roles.join(", ") || "no role"}`;
  if (me.roles.length === 0) showMessage("Your account has no role: ask an Admin.", "error");
  return { me, isAdmin };
}

async function signOut() {
  const refresh = tokens()?.refresh;
  leave(); // calls still under way find no tokens: they must not send us to sign-in
  clearTokens();
  if (refresh) {
    // The refresh token is revoked; the access token lapses on its own within minutes.
    await fetch("/api/token/blacklist/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh }),
    }).catch(() => null);
  }
  location.assign("/login/");
}
