// The app shell: path routing (every view has a URL, its state in the query string), the time range
// picker, auto-refresh, theme toggle and the API-key prompt.

import { get, getKey, setKey, loadRoutes, onAuthRequired, AuthRequired } from "./api.js";
import { h, errorBox } from "./dom.js";
import { sweep } from "./charts.js";

const ROUTES = [
  [/^\/$/, "overview", "overview"],
  [/^\/models\/(.+)$/, "model", "overview"],
  [/^\/traces\/?$/, "traces", "traces"],
  [/^\/traces\/(.+)$/, "trace", "traces"],
  [/^\/security\/?$/, "security", "security"],
  [/^\/alerts\/?$/, "alerts", "alerts"],
  [/^\/slos\/?$/, "slos", "slos"],
  [/^\/incidents\/?$/, "incidents", "incidents"],
  [/^\/incidents\/(.+)$/, "incident", "incidents"],
];

const REFRESH_MS = { off: 0, "10s": 10000, "30s": 30000, "1m": 60000, "5m": 300000 };
const main = document.getElementById("main");
const rangeSel = document.getElementById("range");
const refreshSel = document.getElementById("refresh");
let timer = null;
let generation = 0;
let current = null; // {page, params, mod}

function query() { return new URLSearchParams(location.search); }

export function range() { return query().get("range") || "1h"; }

/** Navigate within the app (pushState) or replace the current URL's query (for filters). */
export function navigate(url, { replace = false, keepRange = true } = {}) {
  const target = new URL(url, location.origin);
  if (keepRange) {
    const q = query();
    for (const k of ["range", "refresh"]) if (q.get(k) && !target.searchParams.has(k)) target.searchParams.set(k, q.get(k));
  }
  if (target.href === location.href) return render({ refresh: false });
  history[replace ? "replaceState" : "pushState"]({}, "", target.pathname + target.search + target.hash);
  return render({ refresh: false });
}

/** Update some query parameters of the current view (deep-linkable filters); null removes one. */
export function setQuery(patch, { replace = true, rerender = true } = {}) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined || v === "") url.searchParams.delete(k); else url.searchParams.set(k, v);
  }
  history[replace ? "replaceState" : "pushState"]({}, "", url.pathname + url.search + url.hash);
  if (rerender) return render({ refresh: false });
}

/** A link that routes inside the app, keeping the time range. */
export function link(href, text, attrs = {}) {
  const q = query();
  const url = new URL(href, location.origin);
  for (const k of ["range", "refresh"]) if (q.get(k) && !url.searchParams.has(k)) url.searchParams.set(k, q.get(k));
  return h("a", { href: url.pathname + url.search, "data-link": "", ...attrs }, text);
}

function match(path) {
  for (const [re, page, nav] of ROUTES) {
    const m = path.match(re);
    if (m) return { page, nav, params: m.slice(1).map(decodeURIComponent) };
  }
  return { page: "notfound", nav: null, params: [] };
}

export function setCrumbs(...parts) {
  const el = document.getElementById("crumbs");
  el.replaceChildren(...parts.flatMap((p, i) => (i ? [h("span", { class: "sep", "aria-hidden": "true" }, "/"), p] : [p])));
  const text = parts.map((p) => (p instanceof Node ? p.textContent : String(p))).join(" / ");
  document.title = text ? text + " · watchkeeper" : "watchkeeper";
}

async function render({ refresh }) {
  const gen = ++generation;
  if (!refresh) delete main.dataset.ready;
  const { page, nav, params } = match(location.pathname);
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === nav) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  rangeSel.value = range();
  refreshSel.value = query().get("refresh") || "off";
  const sameView = current && current.page === page && current.key === location.pathname + location.search;
  if (refresh && sameView && current.mod.refresh === false) return; // e.g. an open trace keeps its expanded tree
  let mod;
  try {
    mod = await import(`./pages/${page}.js`);
  } catch (e) {
    main.replaceChildren(errorBox(e));
    return;
  }
  const container = h("div", { class: "page", "data-page": page });
  const ctx = {
    params, query: query(), range: range(), refresh,
    stale: () => gen !== generation, navigate, setQuery, link,
  };
  if (!refresh) { main.replaceChildren(h("div", { class: "loading", role: "status" }, "Loading…")); }
  try {
    await mod.render(container, ctx);
  } catch (e) {
    if (gen !== generation) return;
    if (e instanceof AuthRequired) { main.replaceChildren(h("div", { class: "loading" }, "Waiting for an API key…")); return; }
    container.replaceChildren(errorBox(e));
  }
  if (gen !== generation) return;
  const scroll = window.scrollY;
  main.replaceChildren(container);
  main.dataset.ready = page;
  if (!refresh && performance.mark) performance.mark("wk:ready:" + page); // read by bench/ui_bench.py
  if (refresh) window.scrollTo(0, scroll); else if (!sameView && current) main.focus({ preventScroll: true }); // not on first load: Tab starts at the skip link
  current = { page, key: location.pathname + location.search, mod };
  sweep();
  schedule();
}

function schedule() {
  clearTimeout(timer);
  const ms = REFRESH_MS[query().get("refresh") || "off"] || 0;
  if (ms) timer = setTimeout(() => { if (!document.hidden) render({ refresh: true }); else schedule(); }, ms);
}

// ---- global controls -------------------------------------------------------------------------
rangeSel.addEventListener("change", () => setQuery({ range: rangeSel.value === "1h" ? null : rangeSel.value }, { replace: false }));
refreshSel.addEventListener("change", () => setQuery({ refresh: refreshSel.value === "off" ? null : refreshSel.value }, { replace: false }));
document.getElementById("reload").addEventListener("click", () => render({ refresh: true }));
document.getElementById("theme").addEventListener("click", () => {
  const root = document.documentElement;
  const dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  root.dataset.theme = dark ? "light" : "dark";
  try { localStorage.setItem("wk.theme", root.dataset.theme); } catch (e) { /* not saved */ }
  render({ refresh: true }); // charts read their colours from the theme
});
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.origin);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search, { keepRange: false });
});
window.addEventListener("popstate", () => render({ refresh: false }));

// ---- API key ---------------------------------------------------------------------------------
const dialog = document.getElementById("login");
const signout = document.getElementById("signout");
let asking = false;

function askForKey(message) {
  if (asking) return;
  asking = true;
  document.getElementById("login-error").textContent = getKey() ? message : "";
  document.getElementById("login-key").value = "";
  if (!dialog.open) dialog.showModal();
  document.getElementById("login-key").focus();
}

dialog.addEventListener("cancel", (e) => e.preventDefault()); // a key is needed to see anything
document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = document.getElementById("login-key").value.trim();
  if (!key) return;
  const remember = document.getElementById("login-remember").checked;
  setKey(key, remember);
  asking = false;
  try {
    await whoami();
    dialog.close();
    await render({ refresh: false });
  } catch (err) {
    if (!(err instanceof AuthRequired)) document.getElementById("login-error").textContent = err.message;
  }
});
signout.addEventListener("click", () => { setKey("", false); location.reload(); });
onAuthRequired(askForKey);

async function whoami() {
  const me = await get("/api/v1/whoami");
  const el = document.getElementById("project");
  if (me) {
    el.replaceChildren("Project ", h("strong", null, me.project));
    signout.hidden = !me.key_id;
  }
  return me;
}

async function start() {
  await loadRoutes();
  try {
    await whoami();
  } catch (e) {
    if (e instanceof AuthRequired) return; // the dialog is open; rendering resumes after sign-in
  }
  await render({ refresh: false });
}

start();
