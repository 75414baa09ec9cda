// Security: attack events over time by type, detected versus blocked, top patterns, drill-down to traces.

import { get, has } from "../api.js";
import { h, table, badge, fmt, empty, panel, tile } from "../dom.js";
import { timeChart, categoryBars, color } from "../charts.js";
import { setCrumbs } from "../main.js";
import { list, pick, toSec, xRange, rangeSeconds, severityTone } from "../util.js";

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Security"));
  if (!has("/api/v1/security/events")) {
    root.append(empty("No security events yet",
      "Prompt-injection, jailbreak, data-extraction and tool-misuse detections are logged as events from LLM traces. Point an OpenTelemetry exporter at " + location.origin + "/v1/traces, or run text through `watchkeeper scan`."));
    return;
  }
  const type = ctx.query.get("type") || null;
  const action = ctx.query.get("action") || null;
  const [ev, sum] = await Promise.all([
    get("/api/v1/security/events", { since: ctx.range, type, action, limit: 500 }),
    has("/api/v1/security/summary") ? get("/api/v1/security/summary", { since: ctx.range }).catch(() => null) : null,
  ]);
  const events = list(ev, "events");
  const kindOf = (e) => pick(e, "type", "kind", "category", "detector") || "other";
  const acted = (e) => String(pick(e, "action", "verdict", "outcome") || (pick(e, "blocked") ? "blocked" : "detected")).toLowerCase();
  const blocked = events.filter((e) => /block|deny|reject/.test(acted(e))).length;
  const types = new Map();
  for (const e of events) types.set(kindOf(e), (types.get(kindOf(e)) || 0) + 1);
  const total = pick(sum, "total", "events") ?? events.length;
  root.append(h("div", { class: "tiles" },
    tile("Events", fmt.int(total), `last ${ctx.range}`, total ? "warn" : null),
    tile("Blocked", fmt.int(pick(sum, "blocked") ?? blocked), "stopped before reaching the model or tool"),
    tile("Detected only", fmt.int(pick(sum, "detected") ?? events.length - blocked), "logged, allowed through"),
    tile("Types", fmt.int(types.size), [...types.keys()].slice(0, 3).join(", ")),
  ));
  if (!events.length) {
    root.append(empty(type || action ? "No events match this filter" : "No security events in this range", "Attacks detected in LLM traffic appear here with the trace they came from."));
    return;
  }
  // events over time by type (bucketed in the browser from at most one page of events)
  const step = Math.max(60, Math.round(rangeSeconds(ctx.range) / 48));
  const [lo, hi] = xRange(ctx.range);
  const xs = []; for (let t = Math.floor(lo / step) * step; t <= hi; t += step) xs.push(t);
  const topTypes = [...types.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k]) => k);
  const series = topTypes.map((k, i) => {
    const counts = new Array(xs.length).fill(0);
    for (const e of events) if (kindOf(e) === k) { const s = toSec(pick(e, "timestamp", "ts", "time", "at")); if (s) { const j = Math.floor((s - xs[0]) / step); if (j >= 0 && j < xs.length) counts[j]++; } }
    return { label: k, values: counts, color: color(i) };
  });
  const charts = h("div", { class: "grid g2" });
  const over = panel("Events over time", null, { hint: `by type, per ${Math.round(step / 60)} min` });
  const pats = panel("Top patterns", null, { hint: "most frequent detections" });
  charts.append(over, pats);
  root.append(charts);
  timeChart(over, xs, series, { xRange: [lo, hi], aria: "security events over time by type" });
  const patterns = new Map();
  for (const e of events) { const p = pick(e, "pattern", "rule", "signature", "detector") || kindOf(e); patterns.set(p, (patterns.get(p) || 0) + 1); }
  const top = [...patterns.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  categoryBars(pats, top.map(([p]) => p), [{ label: "events", values: top.map(([, n]) => n), color: color(4) }], { aria: "top attack patterns" });

  const filters = h("div", { class: "row", style: "margin:0" },
    h("label", null, h("span", { class: "muted small" }, "Type "), select("type", [["", "All types"], ...[...types.keys()].map((k) => [k, k])], type, ctx)),
    h("label", null, h("span", { class: "muted small" }, "Action "), select("action", [["", "Detected and blocked"], ["detected", "Detected"], ["blocked", "Blocked"]], action, ctx)));
  root.append(panel("Events", h("div", null, h("div", { style: "padding:0 16px 10px" }, filters), table("Security events", [
    { label: "Time", value: (e) => fmt.time(pick(e, "timestamp", "ts", "time", "at")) },
    { label: "Type", value: (e) => badge(kindOf(e), "info") },
    { label: "Action", value: (e) => badge(acted(e), /block/.test(acted(e)) ? "bad" : "warn") },
    { label: "Severity", value: (e) => (pick(e, "severity") ? badge(pick(e, "severity"), severityTone(pick(e, "severity"))) : "—") },
    { label: "Pattern", value: (e) => h("span", { class: "mono small" }, pick(e, "pattern", "rule", "signature", "detector") || "—") },
    { label: "Evidence", value: (e) => h("span", { class: "small" }, trunc(pick(e, "excerpt", "evidence", "text", "message") || "", 90)) },
    { label: "Model", value: (e) => pick(e, "model") || "—" },
    { label: "Trace", value: (e) => (pick(e, "trace_id") ? ctx.link("/traces/" + pick(e, "trace_id"), "open trace") : "—") },
  ], events.slice(0, 200), { hideCaption: true })), { flush: true }));
}

function select(name, options, value, ctx) {
  const s = h("select", { "aria-label": name }, options.map(([v, t]) => h("option", { value: v, selected: (value || "") === v }, t)));
  s.addEventListener("change", () => ctx.setQuery({ [name]: s.value || null }, { replace: false }));
  return s;
}

function trunc(s, n) { s = typeof s === "string" ? s : JSON.stringify(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
