// One incident: summary, frozen versions, timeline, preserved samples and the postmortem export.

import { get, getOrNull, getKey } from "../api.js";
import { h, table, badge, fmt, empty, panel, kv, tile } from "../dom.js";
import { setCrumbs } from "../main.js";
import { list, severityTone, stringify } from "../util.js";

export async function render(root, ctx) {
  const id = ctx.params[0];
  setCrumbs(ctx.link("/incidents", "Incidents"), h("h1", null, id));
  const inc = await getOrNull(`/api/v1/incidents/${encodeURIComponent(id)}`);
  if (!inc) { root.append(empty("Incident not found", `No incident ${id} in this project.`)); return; }
  setCrumbs(ctx.link("/incidents", "Incidents"), h("h1", null, inc.title || id));
  const samples = list(await get(`/api/v1/incidents/${encodeURIComponent(id)}/samples`).catch(() => null), "samples");
  const doc = inc.doc || {};
  root.append(h("div", { class: "tiles" },
    tile("Status", badge(inc.status, severityTone(inc.status)), inc.closed_at ? "closed " + fmt.time(inc.closed_at) : "opened " + fmt.ago(inc.opened_at)),
    tile("Severity", badge(inc.severity, severityTone(inc.severity)), inc.rule ? "rule " + inc.rule : "opened by hand"),
    tile("Model", inc.model || "—", inc.classification || "unclassified"),
    tile("Samples kept", fmt.int(samples.length), "preserved requests"),
  ));
  const exportBtn = h("button", { class: "btn", type: "button", onclick: () => download(id) }, "Export postmortem (Markdown)");
  root.append(h("div", { class: "row", style: "margin:0" }, h("span", { class: "grow" }), exportBtn));
  const frozen = doc.frozen || doc.versions || doc.frozen_versions || doc.release || null;
  const left = panel("Frozen versions", frozen ? versionsView(frozen) : empty("No versions were frozen", "The incident recorded no release for its scope."));
  const rest = Object.entries(doc).filter(([k]) => !["frozen", "versions", "frozen_versions", "release"].includes(k));
  const evidence = panel("Evidence", rest.length ? h("div", null, rest.map(([k, v]) => h("details", { open: typeof v !== "object" || JSON.stringify(v).length < 300 },
    h("summary", null, h("strong", null, k)), h("pre", { class: "block" }, stringify(v))))) : empty("No evidence recorded", ""));
  root.append(h("div", { class: "grid g2" }, left, evidence));
  const tl = inc.timeline || [];
  root.append(panel("Timeline", tl.length ? h("ol", { class: "timeline" }, tl.map((e) => h("li", null,
    h("time", { datetime: e.at }, fmt.time(e.at) + (e.actor ? " · " + e.actor : "")),
    h("strong", null, e.kind), e.body ? h("div", { class: "small" }, e.body.text || summarize(e.body)) : null))) : empty("No events yet", "")));
  root.append(panel("Samples", samples.length ? table("Preserved samples", [
    { label: "Time", value: (s) => fmt.time(s.timestamp) },
    { label: "Request", value: (s) => h("span", { class: "mono" }, s.request_id) },
    { label: "Version", value: (s) => s.model_version || "—" },
    { label: "Output", value: (s) => String(s.output ?? "—") },
    { label: "Label", value: (s) => String(s.label ?? "—") },
    { label: "Latency", num: true, value: (s) => fmt.ms(s.latency_ms) },
    { label: "Error", value: (s) => (s.error ? h("span", { style: "color:var(--bad)" }, s.error) : "") },
    { label: "Inputs", value: (s) => h("span", { class: "mono small" }, summarize(s.inputs)) },
  ], samples.slice(0, 100), { hideCaption: true }) : empty("No samples preserved", ""), { flush: samples.length > 0 }));
}

function versionsView(v) {
  if (typeof v !== "object") return h("div", null, String(v));
  return kv(Object.entries(v).map(([k, x]) => [k, typeof x === "object" ? h("pre", { class: "block" }, stringify(x)) : h("span", { class: "tag" }, String(x))]));
}

function summarize(o) {
  if (!o || typeof o !== "object") return String(o ?? "");
  const s = Object.entries(o).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");
  return s.length > 160 ? s.slice(0, 159) + "…" : s;
}

async function download(id) {
  const key = getKey();
  const resp = await fetch(`/api/v1/incidents/${encodeURIComponent(id)}/postmortem.md`, { headers: key ? { Authorization: "Bearer " + key } : {} });
  if (!resp.ok) { alert("Export failed: HTTP " + resp.status); return; }
  const blob = await resp.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: `postmortem-${id}.md` });
  document.body.append(a); a.click(); a.remove();
}
