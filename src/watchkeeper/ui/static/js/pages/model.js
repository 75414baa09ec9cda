// Model page: latency and traffic over time, outputs, drift and data quality, quality per cohort,
// cost, versions, releases and aliases.

import { get, getOrNull, has, first, fill } from "../api.js";
import { h, table, tile, badge, fmt, empty, panel } from "../dom.js";
import { timeChart, histogram, categoryBars, color } from "../charts.js";
import { setCrumbs } from "../main.js";
import { xRange, list, pick } from "../util.js";

export async function render(root, ctx) {
  const model = ctx.params[0];
  setCrumbs(ctx.link("/", "Overview"), h("h1", null, model));
  const since = ctx.range;
  const d = await getOrNull(`/api/v1/overview/models/${encodeURIComponent(model)}`, { since });
  if (!d) {
    root.append(empty(`No model named “${model}” in this project`, "It may belong to another project, or it has not sent predictions yet. ",
      ctx.link("/", "Back to the overview")));
    return;
  }
  const t = d.totals;
  const p95all = d.series.length ? Math.max(...d.series.map((s) => s.p95_ms || 0)) : null;
  root.append(h("div", { class: "tiles" },
    tile("Requests", fmt.compact(t.requests), `last ${ctx.range}`),
    tile("Error rate", fmt.pct(t.requests ? t.errors / t.requests : null, 2), fmt.int(t.errors) + " errors", t.requests && t.errors / t.requests >= 0.01 ? "warn" : null),
    tile("Worst P95", fmt.ms(p95all), `per ${d.bucket_s} s bucket`),
    tile("Accuracy (realised)", fmt.pct(t.accuracy), fmt.int(t.labelled) + " labelled"),
    tile("Label coverage", fmt.pct(t.requests ? t.labelled / t.requests : null, 0), "labels arrive late"),
    tile("Cost / request", fmt.money(t.cost_per_request), fmt.money(t.cost) + " total"),
    tile("Cost / correct", fmt.money(t.cost_per_correct), "cost ÷ correct predictions"),
  ));
  if (!d.series.length) root.append(empty("No predictions in this time range", "Widen the time range to see this model's history."));

  const x = d.series.map((s) => s.t);
  const xr = xRange(ctx.range);
  const charts = h("div", { class: "grid g2" });
  const lat = panel("Latency", null, { hint: "P50 / P95 / P99" });
  const traffic = panel("Traffic and errors", null, { hint: `per ${d.bucket_s} s` });
  charts.append(lat, traffic);
  root.append(h("section", null, charts));
  timeChart(lat, x, [
    { label: "P50", values: d.series.map((s) => s.p50_ms), color: color(0) },
    { label: "P95", values: d.series.map((s) => s.p95_ms), color: color(1) },
    { label: "P99", values: d.series.map((s) => s.p99_ms), color: color(4), dash: [4, 3] },
  ], { yFmt: (v) => fmt.ms(v), yLabel: "latency", xRange: xr, aria: "latency percentiles over time" });
  timeChart(traffic, x, [
    { label: "requests", values: d.series.map((s) => s.requests), color: color(0), fill: color(0) + "22" },
    { label: "errors", values: d.series.map((s) => s.errors), color: "#d1495b", scale: "y2" },
  ], { yLabel: "requests", y2: { label: "errors" }, xRange: xr, aria: "requests and errors over time" });

  // quality and cost
  const qc = h("div", { class: "grid g2" });
  const qual = panel("Quality over time", null, { hint: "realised accuracy and label coverage" });
  const cost = panel("Cost", null, { hint: "spend per bucket" });
  qc.append(qual, cost);
  root.append(h("section", null, qc));
  const labelled = d.series.some((s) => s.labelled);
  if (labelled) {
    timeChart(qual, x, [
      { label: "accuracy", values: d.series.map((s) => (s.labelled ? s.correct / s.labelled : null)), color: color(2), fmt: (v) => fmt.pct(v) },
      { label: "label coverage", values: d.series.map((s) => (s.requests ? s.labelled / s.requests : null)), color: color(6), dash: [4, 3], fmt: (v) => fmt.pct(v, 0) },
    ], { yFmt: (v) => fmt.pct(v, 0), xRange: xr, aria: "accuracy over time" });
  } else qual.append(empty("No labels yet", "Send ground truth with watchkeeper.log_label(request_id, label); quality appears as labels arrive."));
  if (d.series.some((s) => s.cost)) {
    timeChart(cost, x, [{ label: "cost", values: d.series.map((s) => s.cost), color: color(3), fill: color(3) + "22" }],
      { yFmt: (v) => fmt.money(v), xRange: xr, aria: "cost over time" });
  } else cost.append(empty("No cost reported", "Pass cost= to log_prediction (or token usage on LLM spans) to see spend."));

  // outputs and cohorts
  const oc = h("div", { class: "grid g2" });
  const dist = panel("Prediction distribution", null, { hint: "predicted labels and score" });
  oc.append(dist);
  const labels = d.distribution.labels;
  if (labels.length) categoryBars(dist, labels.map((l) => l.value), [{ label: "predictions", values: labels.map((l) => l.count) }], { short: true, height: 160, aria: "predicted label counts" });
  const score = d.distribution.score;
  if (score) histogram(dist, score.edges, [{ label: "score", values: score.counts, color: color(3) }], { short: true, height: 160, xLabel: "score", aria: "score histogram" });
  if (!labels.length && !score) dist.append(empty("No outputs in range", ""));
  oc.append(panel("Quality per cohort", cohortView(d.cohorts), { hint: "by segment" }));
  root.append(h("section", null, oc));

  // drift and data quality (loaded after the main view: it scans each input feature)
  const drift = panel("Feature drift", h("div", { class: "muted small" }, "Comparing each input feature with its reference…"), { hint: "reference vs current" });
  const dq = panel("Data quality and contracts", h("div", { class: "muted small" }, "…"));
  root.append(h("section", null, drift), h("section", null, dq));

  // versions, releases and aliases
  const vr = h("div", { class: "grid g2" });
  vr.append(panel("Versions", table("Versions of this model", [
    { label: "Version", value: (v) => h("span", { class: "tag" }, v.version) },
    { label: "Requests", num: true, value: (v) => fmt.int(v.requests) },
    { label: "Error rate", num: true, value: (v) => fmt.pct(v.requests ? v.errors / v.requests : null, 2) },
    { label: "P95", num: true, value: (v) => fmt.ms(v.p95_ms) },
    { label: "Cost / req", num: true, value: (v) => fmt.money(v.cost_per_request) },
    { label: "First seen", value: (v) => fmt.time(v.first_seen) },
    { label: "Last seen", value: (v) => fmt.ago(v.last_seen) },
  ], d.versions, { hideCaption: true }), { flush: true }));
  const rel = panel("Releases and aliases", h("div", { class: "muted small" }, "…"));
  vr.append(rel);
  root.append(h("section", null, vr));

  queueMicrotask(() => {
    loadDrift(model, since, drift, dq).catch((e) => drift.replaceChildren(h("h2", null, "Feature drift"), h("div", { class: "muted" }, e.message)));
    loadReleases(model, rel).catch((e) => rel.append(h("div", { class: "muted" }, e.message)));
  });
}

function cohortView(cohorts) {
  const keys = Object.keys(cohorts || {});
  if (!keys.length) return empty("No segments", "Pass segment={...} with predictions to compare cohorts.");
  const rows = keys.flatMap((k) => cohorts[k].map((c) => ({ key: k, ...c })));
  return table("Quality per cohort", [
    { label: "Segment", value: (r) => h("span", null, h("span", { class: "muted" }, r.key + " = "), r.value) },
    { label: "Requests", num: true, value: (r) => fmt.int(r.requests) },
    { label: "Labelled", num: true, value: (r) => fmt.pct(r.requests ? r.labelled / r.requests : null, 0) },
    { label: "Accuracy", num: true, value: (r) => (r.labelled ? fmt.pct(r.correct / r.labelled) : "—") },
  ], rows.slice(0, 24), { hideCaption: true });
}

async function loadDrift(model, since, drift, dq) {
  const f = await get(`/api/v1/overview/models/${encodeURIComponent(model)}/features`, { since });
  const feats = f ? f.features : [];
  const head = drift.querySelector(".panel-head");
  drift.replaceChildren(head);
  if (!feats.length) { drift.append(empty("No input features recorded", "Send inputs={...} with predictions to see their drift.")); }
  else {
    drift.append(h("p", { class: "muted small", style: "margin:0 0 10px" },
      `Reference: ${fmt.time(f.reference.since)} – ${fmt.time(f.reference.until)} (earliest quarter of history). PSI ≥ 0.1 or a missing-share jump of 10 points marks a feature as drifted.`));
    const grid = h("div", { class: "grid g3" });
    drift.append(grid);
    for (const ft of feats) {
      const card = h("div", { class: "panel", style: "padding:10px 12px" },
        h("div", { class: "row", style: "gap:8px;margin-bottom:4px" }, h("strong", null, ft.name), h("span", { class: "muted small" }, ft.kind),
          h("span", { class: "grow" }), badge(ft.drifted ? "drift" : "stable", ft.drifted ? "warn" : "ok"),
          h("span", { class: "muted small num" }, "PSI " + fmt.num(ft.psi, 2))));
      grid.append(card);
      const sets = [{ label: "reference", values: ft.reference, color: color(6) }, { label: "current", values: ft.current, color: color(0) }];
      if (ft.kind === "numerical") histogram(card, ft.edges, sets, { share: true, height: 150, short: true, xFmt: (v) => fmtEdge(v), aria: `${ft.name} reference versus current histogram` });
      else categoryBars(card, ft.categories, sets, { share: true, height: 150, short: true, aria: `${ft.name} reference versus current categories` });
    }
  }
  const issues = feats.filter((ft) => ft.missing_change >= 0.01 || (ft.new_categories || []).length);
  const dqHead = dq.querySelector(".panel-head");
  dq.replaceChildren(dqHead);
  const contracts = first("/api/v1/models/{model}/contracts", "/api/v1/contracts/violations");
  let violations = [];
  if (contracts) {
    const body = await get(fill(contracts, [model]), { since, model }).catch(() => null);
    violations = list(body, "violations", "contracts", "results");
  }
  if (!issues.length && !violations.length) { dq.append(empty("No data-quality issues", contracts ? "Every contract check passed in this range." : "Missing values and unseen categories are checked; add a data contract for stricter checks.")); return; }
  if (issues.length) dq.append(table("Data-quality findings", [
    { label: "Feature", value: (r) => h("strong", null, r.name) },
    { label: "Missing (reference → current)", num: true, value: (r) => `${fmt.pct(r.missing_reference)} → ${fmt.pct(r.missing_current)}` },
    { label: "New categories", value: (r) => (r.new_categories || []).map((c) => h("span", { class: "tag" }, c)) },
    { label: "Finding", value: (r) => badge(r.missing_change >= 0.1 ? "missing values jumped" : (r.new_categories || []).length ? "unseen category" : "more missing values", r.missing_change >= 0.1 ? "bad" : "warn") },
  ], issues, { hideCaption: true }));
  if (violations.length) dq.append(table("Contract violations", [
    { label: "Check", value: (v) => pick(v, "check", "rule", "name") },
    { label: "Column", value: (v) => pick(v, "column", "field") || "—" },
    { label: "Count", num: true, value: (v) => fmt.int(pick(v, "count", "violations", "rows")) },
    { label: "When", value: (v) => fmt.time(pick(v, "ts", "timestamp", "time")) },
  ], violations.slice(0, 50), { hideCaption: true }));
}

function fmtEdge(v) {
  const a = Math.abs(v);
  return a >= 1000 ? (v / 1000).toFixed(1) + "k" : a >= 10 ? v.toFixed(0) : v.toFixed(2);
}

async function loadReleases(model, rel) {
  const head = rel.querySelector(".panel-head");
  rel.replaceChildren(head);
  if (!has("/api/v1/releases")) {
    rel.append(empty("No releases registered", "Releases bundle model, prompt, index and config versions; register them to roll back as a unit."));
    return;
  }
  const [rb, ab] = await Promise.all([get("/api/v1/releases", { model }), has("/api/v1/aliases") ? get("/api/v1/aliases", { model }) : null]);
  const releases = list(rb, "releases").filter((r) => !pick(r, "model") || pick(r, "model") === model || JSON.stringify(r).includes(model));
  const aliases = list(ab, "aliases");
  if (!releases.length && !aliases.length) { rel.append(empty("No releases for this model", "Register a release to see it here.")); return; }
  if (aliases.length) rel.append(h("div", { class: "row", style: "margin-bottom:10px" }, aliases.map((a) =>
    h("span", { class: "badge info plain" }, `${pick(a, "alias", "name")} → ${pick(a, "release_id", "release", "target")}`))));
  rel.append(table("Releases", [
    { label: "Release", value: (r) => h("span", { class: "tag" }, pick(r, "id", "release_id", "name")) },
    { label: "Components", value: (r) => compStr(pick(r, "components", "versions") || r) },
    { label: "Created", value: (r) => fmt.time(pick(r, "created_at", "ts")) },
  ], releases.slice(0, 20), { hideCaption: true }));
}

function compStr(c) {
  if (!c || typeof c !== "object") return String(c || "");
  return Object.entries(c).filter(([k, v]) => typeof v === "string" && /version|model|prompt|index|policy|config/.test(k)).map(([k, v]) => `${k}=${v}`).join(" · ");
}


