// Helpers shared by pages: time ranges, defensive field access over APIs that are still growing.

const UNIT = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function rangeSeconds(r) {
  const m = /^(\d+)([smhdw])$/.exec(r || "1h");
  return m ? Number(m[1]) * UNIT[m[2]] : 3600;
}

/** [since, until] in epoch seconds for the chosen range. */
export function xRange(r) {
  const now = Date.now() / 1000;
  return [now - rangeSeconds(r), now];
}

/** The first present (non-null) field among several spellings. */
export function pick(obj, ...names) {
  if (!obj) return undefined;
  for (const n of names) {
    const v = n.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** An array under one of several keys (list endpoints name their payload after the resource). */
export function list(body, ...names) {
  if (!body) return [];
  if (Array.isArray(body)) return body;
  for (const n of names) if (Array.isArray(body[n])) return body[n];
  for (const v of Object.values(body)) if (Array.isArray(v)) return v;
  return [];
}

/** Epoch seconds from an ISO string, epoch seconds/ms/µs/ns number. */
export function toSec(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") {
    if (v > 1e17) return v / 1e9;
    if (v > 1e14) return v / 1e6;
    if (v > 1e11) return v / 1e3;
    return v;
  }
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t / 1000;
}

export function severityTone(s) {
  const v = String(s || "").toLowerCase();
  if (["critical", "page", "high", "error", "firing", "open", "blocked", "sev1", "sev2"].includes(v)) return "bad";
  if (["warning", "warn", "medium", "pending", "investigating", "mitigated", "detected", "sev3"].includes(v)) return "warn";
  if (["resolved", "ok", "closed", "low", "info", "inactive", "healthy"].includes(v)) return "ok";
  return "";
}

export function stringify(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); }
}
