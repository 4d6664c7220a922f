// Shared by every page: the CSRF token, JSON requests, the signed-in user, messages.
"use strict";
const Review = (() => {
  let csrf = null;
  async function session() {
    const response = await fetch("/api/session", {credentials: "same-origin"});
    const body = await response.json();
    csrf = body.csrf;
    return body;
  }
  async function api(method, url, payload) {
    if (csrf === null) await session();
    const options = {method, credentials: "same-origin", headers: {"X-CSRF-Token": csrf}};
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(url, options);
    if (response.status === 401 && !url.endsWith("/api/login")) {
      window.location.assign("/login");
      throw new Error("signed out");
    }
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    return {ok: response.ok, status: response.status, body};
  }
  function detail(result) {
    // FastAPI reports a malformed request (422) as a list of {loc, msg}; everything else as one sentence.
    if (!result.body) return `the server answered ${result.status}`;
    const found = result.body.detail;
    if (Array.isArray(found)) return found.map((item) => `${(item.loc || []).slice(1).join(".")}: ${item.msg}`).join("; ");
    return String(found);
  }
  function setCsrf(token) { csrf = token; }
  function message(text, kind) {
    const box = document.getElementById("message");
    if (!box) return;
    box.textContent = text || "";
    box.className = text ? `message ${kind || "info"}` : "message";
  }
  async function header() {
    const info = await session();
    if (!info.user) { window.location.assign("/login"); return null; }
    const who = document.getElementById("who");
    if (who) who.textContent = `${info.user.username} (${info.user.role}${info.user.site ? ", " + info.user.site : ""})`;
    const out = document.getElementById("logout");
    if (out) out.addEventListener("click", async () => { await api("POST", "/api/logout"); window.location.assign("/login"); });
    return info.user;
  }
  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  return {session, api, detail, setCsrf, message, header, element};
})();
