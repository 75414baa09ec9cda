// SLOs: objective, SLI, error budget remaining and burn rate per alert window.

import { get, has } from "../api.js";
import { h, table, badge, fmt, empty, panel } from "../dom.js";
import { setCrumbs } from "../main.js";
import { list } from "../util.js";

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "SLOs"));
  if (!has("/api/v1/slos")) {
    root.append(empty("SLOs are not available on this server yet", "Once the control loop is installed, service-level objectives and their error budgets show here."));
    return;
  }
  const slos = list(await get("/api/v1/slos"), "slos");
  if (!slos.length) {
    root.append(empty("No SLOs defined", "Define one with PUT /api/v1/control/config, e.g.",
      h("pre", null, "slos:\n  - name: fraud-latency\n    objective: 0.99\n    period: 28d\n    sli: {signal: latency_ms, model: fraud-detector, threshold: 50}")));
    return;
  }
  const statuses = await Promise.all(slos.map((s) => get(`/api/v1/slos/${encodeURIComponent(s.name)}`).then((b) => b && b.status).catch(() => null)));
  const rows = slos.map((s, i) => ({ ...s, st: statuses[i] || {} }));
  root.append(panel("Objectives", table("Service-level objectives", [
    { label: "SLO", cls: "name", value: (r) => h("strong", null, r.name) },
    { label: "Objective", num: true, value: (r) => fmt.pct(r.objective, 2) },
    { label: "SLI now", num: true, value: (r) => fmt.pct(r.st.sli_value, 3) },
    { label: "Period", value: (r) => r.period },
    { label: "Error budget remaining", value: (r) => budget(r.st.error_budget_remaining) },
    { label: "Burn rate", value: (r) => burns(r.st.burn_rates) },
    { label: "State", value: (r) => ((r.st.tiers || []).some((t) => t.firing) ? badge("burning", "bad") : badge("ok", "ok")) },
    { label: "Events", num: true, value: (r) => (r.st.total ? `${fmt.int(r.st.good)} / ${fmt.int(r.st.total)} good` : "—") },
  ], rows, { hideCaption: true }), { flush: true }));
  for (const r of rows) {
    if (!(r.st.tiers || []).length) continue;
    root.append(panel(`${r.name}: burn-rate alert windows`, table("Burn-rate windows", [
      { label: "Windows (long / short)", value: (t) => `${t.long} / ${t.short}` },
      { label: "Alert at", num: true, value: (t) => "× " + fmt.num(t.factor, 3) },
      { label: "Long burn", num: true, value: (t) => (t.long_burn === null ? "—" : "× " + fmt.num(t.long_burn, 3)) },
      { label: "Short burn", num: true, value: (t) => (t.short_burn === null ? "—" : "× " + fmt.num(t.short_burn, 3)) },
      { label: "Severity", value: (t) => t.severity },
      { label: "State", value: (t) => badge(t.firing ? "firing" : "ok", t.firing ? "bad" : "ok") },
    ], r.st.tiers, { hideCaption: true }), { flush: true }));
  }
}

function budget(v) {
  if (v === null || v === undefined) return "—";
  const pct = Math.max(0, Math.min(1, v));
  const tone = v < 0.1 ? "bad" : v < 0.5 ? "warn" : "";
  return h("div", { class: "row", style: "gap:8px;flex-wrap:nowrap" },
    h("div", { class: "budget " + tone, role: "meter", "aria-valuenow": Math.round(v * 100), "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "error budget remaining" }, h("span", { style: `width:${pct * 100}%` })),
    h("span", { class: "num" }, fmt.pct(v, 0)));
}

function burns(b) {
  const e = Object.entries(b || {}).filter(([, v]) => v !== null);
  if (!e.length) return "—";
  return h("span", { class: "small" }, e.slice(0, 4).map(([w, v]) => h("span", { class: "tag", style: "margin-right:4px" }, `${w} ×${fmt.num(v, 2)}`)));
}
