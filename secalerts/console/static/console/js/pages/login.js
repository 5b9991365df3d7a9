// Sign-in: POST /api/token/, keep the pair, go back where the visitor was sent from.

import { saveTokens } from "../api.js";
import { $, showMessage } from "../dom.js";

/** Only a path on this site: never an absolute or protocol-relative URL. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showMessage("Enter your username and password.", "error");
    return;
  }
  form.querySelector("button").disabled = true;
  try {
    const response = await fetch("/api/token/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (response.ok) {
      saveTokens(await response.json());
      location.assign(nextPage());
      return;
    }
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      showMessage(`Too many attempts: try again in ${wait ?? "a few"} seconds.`, "error");
    } else if (response.status === 401) {
      showMessage("Wrong username or password.", "error");
    } else {
      showMessage(`Sign-in failed (${response.status}).`, "error");
    }
  } catch {
    showMessage("The server cannot be reached.", "error");
  } finally {
    form.querySelector("button").disabled = false;
  }
}

$("#login-form").addEventListener("submit", signIn);
