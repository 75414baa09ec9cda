// Incidents: the list, newest first.

import { get, has } from "../api.js";
import { h, table, badge, fmt, empty, panel } from "../dom.js";
import { setCrumbs } from "../main.js";
import { list, severityTone } from "../util.js";

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Incidents"));
  if (!has("/api/v1/incidents")) {
    root.append(empty("Incidents are not available on this server yet", "When an alert opens an incident, its timeline, frozen versions and samples show here."));
    return;
  }
  const status = ctx.query.get("status") || "";
  const rows = list(await get("/api/v1/incidents", { status: status || null }), "incidents");
  root.append(h("div", { class: "row", role: "group", "aria-label": "Filter incidents by status", style: "margin-bottom:12px" },
    [["", "All"], ["open", "Open"], ["mitigated", "Mitigated"], ["resolved", "Resolved"]].map(([v, label]) =>
      h("button", { class: "btn small", type: "button", "aria-pressed": String(status === v), onclick: () => ctx.setQuery({ status: v || null }, { replace: false }) }, label))));
  if (!rows.length) { root.append(empty("No incidents", "Incidents are opened by alert rules (or by hand with POST /api/v1/incidents).")); return; }
  root.append(panel("Incidents", table("Incidents", [
    { label: "Incident", cls: "name", value: (i) => ctx.link("/incidents/" + encodeURIComponent(i.id), i.title || i.id) },
    { label: "Status", value: (i) => badge(i.status, severityTone(i.status)) },
    { label: "Severity", value: (i) => badge(i.severity, severityTone(i.severity)) },
    { label: "Model", value: (i) => (i.model ? ctx.link("/models/" + encodeURIComponent(i.model), i.model) : "—") },
    { label: "Rule", value: (i) => i.rule || "—" },
    { label: "Classification", value: (i) => i.classification || "—" },
    { label: "Opened", value: (i) => h("span", { title: i.opened_at }, fmt.ago(i.opened_at)) },
    { label: "Closed", value: (i) => (i.closed_at ? fmt.time(i.closed_at) : "—") },
  ], rows, { hideCaption: true, onRow: (i) => ctx.navigate("/incidents/" + encodeURIComponent(i.id)) }), { flush: true }));
}
