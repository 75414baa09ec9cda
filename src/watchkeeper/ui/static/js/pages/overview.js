// Overview: every model and LLM app, health at a glance.

import { get, has } from "../api.js";
import { h, table, tile, badge, fmt, sparkline, empty, panel } from "../dom.js";
import { setCrumbs } from "../main.js";
import { list, pick, severityTone } from "../util.js";

function health(m) {
  if (m.error_rate >= 0.05) return ["failing", "bad"];
  if (m.error_rate >= 0.01 || m.drifted) return [m.drifted ? "drifting" : "degraded", "warn"];
  return ["healthy", "ok"];
}

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Overview"));
  const since = ctx.range;
  const [ov, alerts, incidents] = await Promise.all([
    get("/api/v1/overview", { since }),
    has("/api/v1/alerts") ? get("/api/v1/alerts", { status: "firing" }).catch(() => null) : null,
    has("/api/v1/incidents") ? get("/api/v1/incidents", { status: "open" }).catch(() => null) : null,
  ]);
  const apps = ov ? { apps: ov.apps || [] } : null;
  const models = ov ? ov.models : [];
  const firing = list(alerts, "alerts").filter((a) => !/resolved|ok|inactive/i.test(pick(a, "state", "status") || ""));
  const open = list(incidents, "incidents").filter((i) => !/resolved|closed/i.test(pick(i, "status", "state") || ""));
  const total = models.reduce((a, m) => a + m.requests, 0);
  const errors = models.reduce((a, m) => a + m.errors, 0);

  root.append(h("div", { class: "tiles" },
    tile("Models", fmt.int(models.length), models.length ? models.reduce((a, m) => a + m.versions.length, 0) + " versions live" : "none reporting"),
    tile("Requests", fmt.compact(total), "in the selected range"),
    tile("Error rate", fmt.pct(total ? errors / total : null, 2), fmt.int(errors) + " errors", total && errors / total >= 0.01 ? "warn" : null),
    tile("Firing alerts", alerts ? fmt.int(firing.length) : "—", alerts ? (firing.length ? "needs attention" : "all quiet") : "alerting not configured", firing.length ? "bad" : null),
    tile("Open incidents", incidents ? fmt.int(open.length) : "—", incidents ? (open.length ? "in progress" : "none open") : "incidents not configured", open.length ? "bad" : null),
  ));

  if (!models.length) {
    root.append(empty("No predictions in this time range",
      "Log predictions from your service with the SDK, or widen the time range:",
      h("pre", null, 'import watchkeeper\nwatchkeeper.init(project="default", endpoint="' + location.origin + '")\nwatchkeeper.log_prediction("my-model", {"tenure": 14}, 1)')));
  } else {
    const driftCells = new Map();
    const cols = [
      { label: "Model", cls: "name", value: (m) => ctx.link("/models/" + encodeURIComponent(m.model), m.model) },
      { label: "Health", value: (m) => { const [t, tone] = health(m); return badge(t, tone); } },
      { label: "Traffic", value: (m) => sparkline(m.traffic, { label: `requests per ${ov.bucket_s} s for ${m.model}`, width: 96, height: 26 }) },
      { label: "Requests", num: true, value: (m) => fmt.int(m.requests) },
      { label: "Error rate", num: true, value: (m) => fmt.pct(m.error_rate, 2) },
      { label: "P95 latency", num: true, value: (m) => fmt.ms(m.p95_ms) },
      { label: "Accuracy", num: true, value: (m) => (m.accuracy === null ? h("span", { class: "faint", title: "no labels yet" }, "—") : fmt.pct(m.accuracy)) },
      { label: "Label coverage", num: true, value: (m) => fmt.pct(m.label_coverage, 0) },
      { label: "Drift", value: (m) => { const c = h("span", { class: "faint" }, "…"); driftCells.set(m.model, c); return c; } },
      { label: "Cost / request", num: true, value: (m) => fmt.money(m.cost_per_request) },
      { label: "Versions", value: (m) => m.versions.map((v) => h("span", { class: "tag" }, v)).reduce((a, b) => (a.length ? [...a, " ", b] : [b]), []) },
      { label: "Last seen", value: (m) => h("span", { class: "muted", title: m.last_seen }, fmt.ago(m.last_seen)) },
    ];
    root.append(panel("Models", table("Models in this project", cols, models, {
      hideCaption: true, onRow: (m) => ctx.navigate("/models/" + encodeURIComponent(m.model) + location.search, { keepRange: false }),
    }), { flush: true, hint: `range: last ${ctx.range}` }));
    // Drift badges come after the table is on screen: one small aggregation per model.
    queueMicrotask(() => fillDrift(models, driftCells, since));
  }

  const lower = h("div", { class: "grid g32" });
  lower.append(panel("LLM apps", appsView(apps, ctx)));
  lower.append(panel("Firing alerts and open incidents", attention(firing, open, alerts, incidents, ctx)));
  root.append(h("section", null, lower));
}

async function fillDrift(models, cells, since) {
  for (const m of models) {
    const cell = cells.get(m.model);
    try {
      const f = await get(`/api/v1/overview/models/${encodeURIComponent(m.model)}/features`, { since });
      const drifted = (f ? f.features : []).filter((x) => x.drifted);
      cell.replaceWith(f && f.features.length ? (drifted.length ? badge(`${drifted.length} of ${f.features.length} features`, "warn") : badge("stable", "ok"))
        : h("span", { class: "faint" }, "—"));
    } catch (e) {
      cell.replaceWith(h("span", { class: "faint", title: e.message }, "—"));
    }
  }
}

function appsView(apps, ctx) {
  const rows = list(apps, "apps", "services");
  if (!rows.length) {
    return empty("No LLM traces yet", "Point an OpenTelemetry exporter at " + location.origin + "/v1/traces (OTLP/HTTP) to see LLM apps here.",
      h("pre", null, "OTEL_EXPORTER_OTLP_ENDPOINT=" + location.origin));
  }
  return table("LLM apps", [
    { label: "App", cls: "name", value: (a) => ctx.link("/traces?service=" + encodeURIComponent(pick(a, "service", "app", "name")), pick(a, "service", "app", "name")) },
    { label: "Models", value: (a) => h("span", { class: "small", title: (a.models || []).join(", ") }, (a.models || []).slice(0, 2).join(", ") + ((a.models || []).length > 2 ? ` +${a.models.length - 2}` : "") || "—") },
    { label: "Traces", num: true, value: (a) => fmt.int(pick(a, "traces", "count")) },
    { label: "Error rate", num: true, value: (a) => fmt.pct(pick(a, "error_rate"), 1) },
    { label: "P95", num: true, value: (a) => fmt.ms(pick(a, "p95_ms", "latency_p95_ms")) },
    { label: "Cost / request", num: true, value: (a) => fmt.money(pick(a, "cost_per_request")) },
  ], rows, { hideCaption: true, onRow: (a) => ctx.navigate("/traces?service=" + encodeURIComponent(a.service)) });
}

function attention(firing, open, alerts, incidents, ctx) {
  if (!alerts && !incidents) {
    return empty("Alerting is not set up on this server yet", "Alert rules and SLOs appear here once the control loop is configured.");
  }
  if (!firing.length && !open.length) return empty("All quiet", "No alert is firing and no incident is open.");
  return h("div", null,
    firing.slice(0, 8).map((a) => h("div", { class: "row", style: "padding:6px 0;border-bottom:1px solid var(--border)" },
      badge(pick(a, "severity", "state") || "firing", severityTone(pick(a, "severity", "state") || "firing")),
      ctx.link("/alerts", pick(a, "rule", "name", "title", "id") || "alert"), h("span", { class: "grow" }), h("span", { class: "muted small" }, fmt.ago(pick(a, "started_at", "fired_at", "ts", "timestamp"))))),
    open.slice(0, 8).map((i) => h("div", { class: "row", style: "padding:6px 0;border-bottom:1px solid var(--border)" },
      badge("incident", "bad"), ctx.link("/incidents/" + encodeURIComponent(pick(i, "id", "incident_id")), pick(i, "title", "name", "id")),
      h("span", { class: "grow" }), h("span", { class: "muted small" }, fmt.ago(pick(i, "opened_at", "created_at", "started_at"))))));
}
