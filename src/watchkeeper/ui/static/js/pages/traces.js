// Traces: a searchable, paginated list (filters live in the URL) and LLM latency over time.

import { get, has } from "../api.js";
import { h, table, badge, fmt, empty, panel } from "../dom.js";
import { timeChart, color } from "../charts.js";
import { setCrumbs } from "../main.js";
import { xRange, pick } from "../util.js";

const FILTERS = [
  ["q", "Search", "search", "text in names, inputs, outputs, attributes"],
  ["model", "Model", "text", "gpt-4o-mini"],
  ["prompt_version", "Prompt version", "text", "v3"],
  ["index_version", "Index version", "text", "2024-06"],
  ["service", "Service", "text", "rag-api"],
];

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Traces"));
  if (!has("/api/v1/traces")) {
    root.append(noTraces());
    return;
  }
  const q = ctx.query;
  const params = { since: ctx.range, limit: 50, cursor: q.get("cursor"), status: q.get("status"), min_latency_ms: q.get("min_latency_ms") };
  for (const [k] of FILTERS) params[k] = q.get(k);
  const [list, lat] = await Promise.all([
    get("/api/v1/traces", params),
    has("/api/v1/traces/latency") ? get("/api/v1/traces/latency", { since: ctx.range, bucket: bucketFor(ctx.range) }).catch(() => null) : null,
  ]);
  root.append(filters(ctx));
  const traces = (list && list.traces) || [];
  const filtered = FILTERS.some(([k]) => q.get(k)) || q.get("status") || q.get("min_latency_ms");
  if (!traces.length) {
    root.append(filtered || q.get("cursor") ? empty("No traces match these filters", "Clear a filter or widen the time range.") : noTraces());
  } else {
    const cols = [
      { label: "Time", value: (t) => h("span", { title: t.start }, fmt.time(t.start)) },
      { label: "Trace", cls: "name", value: (t) => ctx.link("/traces/" + t.trace_id, t.name || t.trace_id.slice(0, 12)) },
      { label: "Service", value: (t) => t.service || "—" },
      { label: "Model", value: (t) => (t.models || []).join(", ") || "—" },
      { label: "Prompt", value: (t) => ver(pick(t, "context.prompt_version")) },
      { label: "Index", value: (t) => ver(pick(t, "context.index_version")) },
      { label: "Status", value: (t) => badge(t.status, t.status === "error" ? "bad" : "ok") },
      { label: "Spans", num: true, value: (t) => fmt.int(t.spans) },
      { label: "Tokens", num: true, value: (t) => (t.input_tokens || t.output_tokens ? `${fmt.int(t.input_tokens || 0)} → ${fmt.int(t.output_tokens || 0)}` : "—") },
      { label: "TTFT", num: true, value: (t) => fmt.ms(t.time_to_first_token_ms) },
      { label: "Latency", num: true, value: (t) => fmt.ms(t.duration_ms) },
      { label: "Cost", num: true, value: (t) => fmt.money(t.cost) },
    ];
    const body = h("div", null, table("Traces", cols, traces, { hideCaption: true, onRow: (t) => ctx.navigate("/traces/" + t.trace_id) }));
    const pager = h("div", { class: "pager" },
      h("span", { class: "muted small grow" }, `${traces.length} traces${q.get("cursor") ? " (older page)" : ""}, newest first`),
      q.get("cursor") ? h("button", { class: "btn small", type: "button", onclick: () => ctx.setQuery({ cursor: null }, { replace: false }) }, "Newest") : null,
      list.next_cursor ? h("button", { class: "btn small", type: "button", onclick: () => ctx.setQuery({ cursor: list.next_cursor }, { replace: false }) }, "Older →") : null);
    body.append(pager);
    root.append(panel("Traces", body, { flush: true, hint: `last ${ctx.range}` }));
  }
  const series = (lat && lat.series) || [];
  if (series.length) {
    const p = panel("LLM latency", null, { hint: "P95 of LLM spans and time to first token, per model" });
    root.append(p);
    const xs = [...new Set(series.flatMap((s) => s.points.map((pt) => Date.parse(pt.time) / 1000)))].sort((a, b) => a - b);
    const at = (pts, key) => { const m = new Map(pts.map((pt) => [Date.parse(pt.time) / 1000, pt[key]])); return xs.map((x) => m.get(x) ?? null); };
    const lines = series.slice(0, 4).flatMap((s, i) => [
      { label: `${s.model || "?"} P95`, values: at(s.points, "latency_p95_ms"), color: color(i) },
      { label: `${s.model || "?"} TTFT P95`, values: at(s.points, "ttft_p95_ms"), color: color(i), dash: [4, 3] },
    ]);
    timeChart(p, xs, lines, { yFmt: (v) => fmt.ms(v), xRange: xRange(ctx.range), height: 200, aria: "LLM latency over time" });
  }
}

function bucketFor(range) {
  const s = { "15m": 30, "1h": 60, "6h": 300, "24h": 900, "7d": 3600, "30d": 21600 }[range];
  return s || 60;
}

function ver(v) { return v ? h("span", { class: "tag" }, v) : h("span", { class: "faint" }, "—"); }

function filters(ctx) {
  const q = ctx.query;
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter traces" });
  for (const [k, label, type, ph] of FILTERS) {
    form.append(h("label", null, label, h("input", { type, name: k, value: q.get(k) || "", placeholder: ph, "aria-label": label })));
  }
  const status = h("select", { name: "status", "aria-label": "Status" },
    [["", "Any status"], ["ok", "OK"], ["error", "Error"]].map(([v, t]) => h("option", { value: v, selected: (q.get("status") || "") === v }, t)));
  form.append(h("label", null, "Status", status));
  form.append(h("label", null, "Slower than (ms)", h("input", { type: "text", inputmode: "numeric", name: "min_latency_ms", value: q.get("min_latency_ms") || "", placeholder: "1000", size: 6, "aria-label": "Minimum latency in milliseconds" })));
  form.append(h("button", { class: "btn primary", type: "submit" }, "Apply"));
  const any = FILTERS.some(([k]) => q.get(k)) || q.get("status") || q.get("min_latency_ms");
  if (any) form.append(h("button", { class: "btn", type: "button", onclick: () => ctx.setQuery(Object.fromEntries([...FILTERS.map(([k]) => [k, null]), ["status", null], ["min_latency_ms", null], ["cursor", null]]), { replace: false }) }, "Clear"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const patch = { cursor: null };
    for (const [k, v] of data.entries()) patch[k] = String(v).trim() || null;
    ctx.setQuery(patch, { replace: false });
  });
  status.addEventListener("change", () => form.requestSubmit());
  return form;
}

export function noTraces() {
  return empty("No traces yet",
    h("div", null, "Point an OpenTelemetry exporter at ", h("code", null, location.origin + "/v1/traces"), " (OTLP/HTTP, protobuf or JSON); LLM, retrieval and tool spans appear here."),
    h("pre", null, `export OTEL_EXPORTER_OTLP_ENDPOINT=${location.origin}\nexport OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`));
}
