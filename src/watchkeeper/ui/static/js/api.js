// The JSON API client: sends the user's key as a Bearer token, knows which routes this server has.

const KEY = "wk.key";

export function getKey() {
  try { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
}

export function setKey(key, remember) {
  try {
    sessionStorage.removeItem(KEY); localStorage.removeItem(KEY);
    if (key) (remember ? localStorage : sessionStorage).setItem(KEY, key);
  } catch (e) { /* storage disabled: the key lives only in this page */ }
  memoryKey = key;
}

let memoryKey = "";

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export class AuthRequired extends ApiError {}

let authHandler = null;
export function onAuthRequired(fn) { authHandler = fn; }

function headers() {
  const key = getKey() || memoryKey;
  return key ? { Authorization: "Bearer " + key, Accept: "application/json" } : { Accept: "application/json" };
}

/** GET a JSON API path. Returns the body, or null when this server has no such route (feature not installed). */
export async function get(path, params) {
  const url = new URL(path, location.origin);
  if (params) for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  let resp;
  try {
    resp = await fetch(url, { headers: headers(), cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "network", "the server did not answer (" + e.message + ")");
  }
  if (resp.ok) return resp.json();
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  const err = (body && body.error) || {};
  if (resp.status === 401) {
    if (authHandler) authHandler(err.message || "an API key is required");
    throw new AuthRequired(401, "unauthorized", err.message || "an API key is required");
  }
  if (resp.status === 404 && (err.code === "not_found" && /^Not Found$/i.test(err.message || "") || body && body.detail === "Not Found")) {
    return null; // the route does not exist on this server yet
  }
  throw new ApiError(resp.status, err.code || "http_" + resp.status, err.message || resp.statusText);
}

/** Like get(), but a 404 of any kind gives null (e.g. "no such trace" renders as an empty state). */
export async function getOrNull(path, params) {
  try { return await get(path, params); } catch (e) { if (e.status === 404) return null; throw e; }
}

let routes = null;

/** The API paths this server serves (from its OpenAPI document), loaded once per page load. */
export async function loadRoutes(force) {
  if (routes && !force) return routes;
  try {
    const resp = await fetch("/api/openapi.json", { headers: headers() });
    const doc = resp.ok ? await resp.json() : { paths: {} };
    routes = new Set(Object.keys(doc.paths || {}).filter((p) => doc.paths[p].get));
  } catch (e) {
    routes = new Set();
  }
  return routes;
}

/** Does the server have a GET route with this template, e.g. has("/api/v1/traces/{trace_id}")? Ignores parameter names. */
export function has(template) {
  if (!routes) return false;
  const norm = (p) => p.replace(/\{[^}]+\}/g, "{}");
  const want = norm(template);
  for (const r of routes) if (norm(r) === want) return true;
  return false;
}

/** The first of several candidate route templates that this server has. */
export function first(...templates) {
  return templates.find((t) => has(t)) || null;
}

export function fill(template, values) {
  let i = 0;
  return template.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[i++]));
}
