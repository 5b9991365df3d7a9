// API keys (Admin): create one (its secret shown once), list them, revoke.

import { api, ApiError } from "../api.js";
import { $, h, showMessage, when } from "../dom.js";
import { startSession } from "../session.js";

function keyState(key) {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && new Date(key.expires_at) < new Date()) return "expired";
  return "active";
}

function row(key) {
  const state = keyState(key);
  const cell = h("td", {}, state);
  if (state === "active") {
    const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
    // Two steps, not window.confirm: a second click on the same button revokes.
    revoke.addEventListener("click", async () => {
      if (revoke.dataset.armed !== "yes") {
        revoke.dataset.armed = "yes";
        revoke.textContent = `Revoke ${key.name} for good`;
        return;
      }
      try {
        await api(`/api/keys/${key.id}/`, { method: "DELETE" });
        showMessage(`${key.name} revoked.`, "ok");
        await list();
      } catch (error) {
        showMessage(error instanceof ApiError ? error.message : String(error), "error");
      }
    });
    cell.append(" ", revoke);
  }
  return h(
    "tr",
    { id: `key-${key.id}` },
    h("td", {}, key.name),
    h("td", {}, h("code", {}, key.prefix)),
    h("td", {}, key.scopes.join(", ")),
    h("td", {}, key.source || "—"),
    h("td", {}, when(key.created_at), key.created_by ? ` by ${key.created_by}` : ""),
    h("td", {}, key.expires_at ? when(key.expires_at) : "never"),
    h("td", {}, key.last_used_at ? when(key.last_used_at) : "never"),
    cell,
  );
}

async function list() {
  const keys = await api("/api/keys/");
  $("#keys").replaceChildren(...keys.map(row));
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.elements.name.value.trim(), scopes: ["ingest"], source: form.elements.source.value.trim() };
  if (form.elements.expires_at.value) body.expires_at = `${form.elements.expires_at.value}T00:00:00Z`;
  try {
    const key = await api("/api/keys/", { method: "POST", body });
    $("#new-key-value").textContent = key.key;
    $("#new-key-shown").hidden = false;
    form.reset();
    showMessage(`Key ${key.name} created.`, "ok");
    await list();
  } catch (error) {
    showMessage(error instanceof ApiError ? error.message : String(error), "error");
  }
}

async function main() {
  const { isAdmin } = await startSession();
  if (!isAdmin) {
    showMessage("API keys are managed by Admins.");
    return;
  }
  $("#new-key").addEventListener("submit", create);
  await list();
}

main();
