// Alerts: what is firing now, what fired recently, and the rules behind them.

import { get, has } from "../api.js";
import { h, table, badge, fmt, empty, panel } from "../dom.js";
import { setCrumbs } from "../main.js";
import { list, pick, severityTone, stringify } from "../util.js";

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Alerts"));
  if (!has("/api/v1/alerts")) {
    root.append(empty("Alerting is not available on this server yet", "Once the control loop is installed, alert rules and their firings show here."));
    return;
  }
  const status = ctx.query.get("status") || "";
  const [alerts, rules] = await Promise.all([
    get("/api/v1/alerts", { status: status || null }),
    has("/api/v1/rules") ? get("/api/v1/rules").catch(() => null) : null,
  ]);
  const rows = list(alerts, "alerts");
  const tabs = h("div", { class: "row", role: "group", "aria-label": "Filter alerts by status", style: "margin-bottom:12px" },
    [["", "All"], ["firing", "Firing"], ["resolved", "Resolved"]].map(([v, label]) =>
      h("button", { class: "btn small", type: "button", "aria-pressed": String(status === v), onclick: () => ctx.setQuery({ status: v || null }, { replace: false }) }, label)));
  root.append(tabs);
  if (!rows.length) root.append(empty(status === "firing" ? "Nothing is firing" : "No alerts yet", "Alerts appear when a rule's condition holds for its duration."));
  else root.append(panel("Alerts", table("Alerts", [
    { label: "Status", value: (a) => badge(a.status, a.status === "firing" ? "bad" : "ok") },
    { label: "Severity", value: (a) => badge(a.severity || "—", severityTone(a.severity)) },
    { label: "Rule", cls: "name", value: (a) => h("strong", null, a.rule) },
    { label: "Summary", value: (a) => a.summary || "" },
    { label: "Value", num: true, value: (a) => fmt.num(a.value, 3) },
    { label: "Threshold", num: true, value: (a) => fmt.num(a.threshold, 3) },
    { label: "Scope", value: (a) => Object.entries(a.scope || {}).map(([k, v]) => h("span", { class: "tag", style: "margin-right:4px" }, `${k}=${v}`)) },
    { label: "Started", value: (a) => h("span", { title: a.started_at }, fmt.ago(a.started_at)) },
    { label: "Resolved", value: (a) => (a.resolved_at ? fmt.ago(a.resolved_at) : "—") },
    { label: "Incident", value: (a) => (a.incident_id ? ctx.link("/incidents/" + encodeURIComponent(a.incident_id), "open") : "—") },
  ], rows, { hideCaption: true }), { flush: true }));
  const rl = list(rules, "rules");
  root.append(panel("Rules", rl.length ? table("Alert rules", [
    { label: "Rule", cls: "name", value: (r) => h("strong", null, pick(r, "name")) },
    { label: "Signal", value: (r) => h("span", { class: "mono" }, pick(r, "signal", "metric") || "—") },
    { label: "Condition", value: (r) => h("span", { class: "mono" }, [pick(r, "op", "comparison"), pick(r, "threshold")].filter((x) => x !== undefined).join(" ") || "—") },
    { label: "For", value: (r) => pick(r, "for", "duration") || "—" },
    { label: "Severity", value: (r) => badge(pick(r, "severity") || "—", severityTone(pick(r, "severity"))) },
    { label: "Actions", value: (r) => h("span", { class: "small muted" }, (pick(r, "actions") || []).map((x) => (typeof x === "string" ? x : x.type || stringify(x))).join(", ") || "—") },
  ], rl, { hideCaption: true }) : empty("No alert rules", "Define rules with PUT /api/v1/control/config (YAML or JSON)."), { flush: rl.length > 0 }));
}
