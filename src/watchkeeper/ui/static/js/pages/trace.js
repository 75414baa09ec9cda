// One trace: summary, the span tree with a waterfall (windowed, paged), span details, the token
// timeline (TTFT versus generation, slow tokens marked), retrieval with answer support, tool calls.

import { get, getOrNull, has } from "../api.js";
import { h, table, tile, badge, fmt, empty, panel, kv } from "../dom.js";
import { scatter } from "../charts.js";
import { setCrumbs } from "../main.js";
import { SpanTree } from "../spantree.js";
import { stringify } from "../util.js";
import { noTraces } from "./traces.js";

export const refresh = false; // auto-refresh must not reset an expanded tree or the selected span

const PAGE = 500;

export async function render(root, ctx) {
  const id = ctx.params[0];
  setCrumbs(ctx.link("/traces", "Traces"), h("h1", { class: "mono", style: "font-size:16px" }, id));
  if (!has("/api/v1/traces/{trace_id}")) { root.append(noTraces()); return; }
  const t = await getOrNull(`/api/v1/traces/${encodeURIComponent(id)}`, { span_limit: PAGE });
  if (!t) { root.append(empty("Trace not found", `No trace ${id} in this project (it may belong to another project, or it has not arrived yet).`)); return; }
  const s = t.summary || {};
  const ctxv = s.context || {};
  root.append(h("div", { class: "tiles" },
    tile("Duration", fmt.ms(s.duration_ms), s.name || ""),
    tile("Spans", fmt.int(t.span_count), s.errors ? `${s.errors} with errors` : "no errors", s.errors ? "bad" : null),
    tile("Tokens", s.input_tokens || s.output_tokens ? `${fmt.compact(s.input_tokens || 0)} → ${fmt.compact(s.output_tokens || 0)}` : "—", "input → output"),
    tile("Time to first token", fmt.ms(s.time_to_first_token_ms), s.verdict ? `${s.verdict.problem} problem` : ""),
    tile("Cost", fmt.money(s.cost), (s.models || []).join(", ")),
  ));
  const versions = [["Service", s.service], ["Started", fmt.time(s.start)], ["Status", badge(s.status || "ok", s.status === "error" ? "bad" : "ok")],
    ["Request", ctxv.request_id], ["Model version", ctxv.model_id], ["Prompt version", ctxv.prompt_version],
    ["Index version", ctxv.index_version], ["Policy version", ctxv.policy_version]];
  const head = panel("Context", h("div", null, kv(versions), s.verdict ? h("p", { class: "small", style: "margin:10px 0 0" }, h("strong", null, "Verdict: "), s.verdict.reason) : null));

  // tree + details
  const detail = panel("Span", h("div", { class: "muted" }, "Select a span to see its inputs, outputs and attributes."));
  let cursor = t.next_span_cursor;
  const tree = new SpanTree({
    total: t.span_count, first: t.spans, t0: s.start_us || (t.spans[0] && t.spans[0].start_us) || 0,
    durationUs: (s.duration_ms || 1) * 1000,
    fetchMore: async () => {
      if (!cursor) return null;
      const page = await get(`/api/v1/traces/${encodeURIComponent(id)}`, { span_limit: PAGE, span_cursor: cursor });
      cursor = page && page.next_span_cursor;
      return page ? page.spans : null;
    },
    onSelect: (span) => showSpan(detail, span),
  });
  const tools = h("div", { class: "row", style: "margin:0 0 8px" },
    h("button", { class: "btn small", type: "button", onclick: () => tree.collapseFrom(1) }, "Collapse all"),
    h("button", { class: "btn small", type: "button", onclick: () => tree.expandAll() }, "Expand all"),
    h("span", { class: "muted small" }, `${fmt.int(t.span_count)} spans · ↑↓ move, ←→ collapse/expand, Enter toggles`));
  const treePanel = panel("Span tree", h("div", null, tools, tree.el), { hint: "waterfall" });
  root.append(h("div", { class: "trace-layout" }, treePanel, h("div", { class: "grid" }, head, detail)));
  requestAnimationFrame(() => tree.draw());
  if (t.spans.length) showSpan(detail, t.spans[0]);

  // token timeline, retrieval, tools
  root.append(tokenSection(t.llm_calls || []));
  root.append(ragSection(t.rag, t.spans));
  root.append(toolSection(t.tools || []));
}

function showSpan(detail, s) {
  const head = detail.querySelector(".panel-head");
  const body = [kv([
    ["Name", h("strong", null, s.name)], ["Kind", s.kind], ["Status", badge(s.status, s.status === "error" ? "bad" : "ok")],
    ["Error", s.status_message || s.error_type], ["Duration", fmt.ms(s.duration_ms)], ["Service", s.service],
    ["Model", s.model ? `${s.model}${s.provider ? " (" + s.provider + ")" : ""}` : null],
    ["Tokens", s.input_tokens || s.output_tokens ? `${fmt.int(s.input_tokens || 0)} → ${fmt.int(s.output_tokens || 0)}` : null],
    ["Cost", s.cost ? fmt.money(s.cost) : null], ["TTFT", s.time_to_first_token_ms ? fmt.ms(s.time_to_first_token_ms) : null],
    ["Prompt", s.prompt && s.prompt.version ? s.prompt.version : null], ["Flags", (s.flags || []).length ? s.flags.map((f) => badge(f, "warn")) : null],
    ["Span id", h("span", { class: "mono" }, s.span_id)],
  ])];
  if (s.input) body.push(h("h3", { style: "margin-top:12px" }, "Input"), h("pre", { class: "block" }, s.input));
  if (s.output) body.push(h("h3", { style: "margin-top:12px" }, "Output"), h("pre", { class: "block" }, s.output));
  if (s.tool) body.push(h("h3", { style: "margin-top:12px" }, "Tool call"), h("pre", { class: "block" }, stringify({ arguments: s.tool.arguments, result: s.tool.result, error: s.tool.error })));
  const attrs = s.attributes || {};
  if (Object.keys(attrs).length) body.push(h("details", { style: "margin-top:12px" }, h("summary", null, `Attributes (${Object.keys(attrs).length})`), h("pre", { class: "block" }, stringify(attrs))));
  detail.replaceChildren(head, h("div", null, body));
}

function tokenSection(calls) {
  const p = panel("Token timeline", null, { hint: "time to first token versus generation; slow tokens marked" });
  const streamed = calls.filter((c) => c.token_timeline && c.token_timeline.length);
  if (!calls.length) { p.append(empty("No LLM calls in this trace", "")); return p; }
  if (!streamed.length) {
    p.append(empty("No token timing recorded", "Wrap streamed responses with watchkeeper's stream timer to record each token's arrival."));
    return p;
  }
  for (const c of streamed.slice(0, 4)) {
    const tl = c.token_timeline;
    const ttft = c.time_to_first_token_ms || 0, gen = c.generation_ms || 0, tot = ttft + gen || 1;
    const itl = c.inter_token_latency_ms || {};
    const cut = Math.max(2 * (itl.p50 || itl.mean || 0), itl.p95 || 0); // "slow": well above the typical gap
    const slow = new Set(tl.filter((k, i) => i > 0 && cut && k.gap_ms > cut).map((k) => k.index));
    const card = h("div", { style: "margin-bottom:14px" },
      h("div", { class: "row" }, h("strong", null, c.model || "LLM call"), h("span", { class: "muted small" }, `${fmt.int(c.tokens)} tokens · ${c.tokens_per_s ? c.tokens_per_s + " tok/s" : ""}`),
        c.verdict ? badge(c.verdict.problem + " problem", c.verdict.problem === "prompt" ? "warn" : "info") : null),
      h("div", { class: "ttft", role: "img", "aria-label": `time to first token ${fmt.ms(ttft)}, generation ${fmt.ms(gen)}` },
        h("div", { class: "first", style: `width:${(ttft / tot) * 100}%` }, "TTFT " + fmt.ms(ttft)),
        h("div", { class: "gen", style: `width:${(gen / tot) * 100}%` }, "generation " + fmt.ms(gen))),
      h("div", { class: "legend-inline" }, h("span", null, h("i", { style: "background:var(--c2)" }), "waiting for the first token"),
        h("span", null, h("i", { style: "background:var(--c1)" }), "generating"), h("span", null, h("i", { style: "background:var(--bad)" }), `slow tokens (${slow.size})`)),
      c.verdict ? h("p", { class: "small muted", style: "margin:6px 0" }, c.verdict.reason) : null);
    p.append(card);
    const x = tl.map((k) => k.index), y = tl.map((k, i) => (i === 0 ? null : k.gap_ms));
    scatter(card, x, y, (v, i) => slow.has(tl[i].index), { label: "gap before token", hiLabel: "slow token", fmt: (v) => fmt.ms(v), xLabel: "token index", height: 170, short: true, aria: "inter-token gaps with slow tokens marked" });
    const slowList = (c.slow_tokens || []).filter((k) => slow.has(k.index)).slice(0, 8);
    if (slowList.length) card.append(h("div", { class: "small muted" }, "Slowest: ", slowList.map((k) => h("span", { class: "tag", style: "margin-right:4px" }, `#${k.index} ${k.text ? JSON.stringify(k.text) : ""} ${fmt.ms(k.gap_ms)}`))));
  }
  return p;
}

function ragSection(rag, spans) {
  const p = panel("Retrieval", null, { hint: "chunks, scores and which answer sentences they support" });
  if (!rag) { p.append(empty("No retrieval in this trace", "Retriever and reranker spans (OpenInference or gen_ai) show their chunks here.")); return p; }
  const content = new Map();
  for (const s of spans) for (const d of (s.retrieval && s.retrieval.documents) || []) if (d.id != null) content.set(String(d.id), d.content);
  const docs = rag.documents || [];
  const maxScore = Math.max(1e-9, ...docs.map((d) => d.score || 0));
  const left = h("div", null, h("p", { class: "small muted", style: "margin:0 0 8px" },
    `${rag.retrieved.chunks} chunks retrieved (${fmt.int(rag.retrieved.tokens)} tokens); ${rag.used.chunks} used in the prompt (${fmt.int(rag.used.tokens)} tokens).`),
    docs.slice(0, 30).map((d) => h("div", { class: "chunk" },
      h("div", { class: "row" }, h("strong", { class: "mono" }, d.id ?? "?"), d.source ? h("span", { class: "muted small" }, d.source) : null,
        h("span", { class: "grow" }), d.stage ? h("span", { class: "faint small" }, d.stage) : null, badge(d.used ? "used" : "not used", d.used ? "ok" : ""),
        h("span", { class: "num small" }, "score " + fmt.num(d.score, 3))),
      h("div", { class: "meter", role: "meter", "aria-valuenow": d.score || 0, "aria-valuemin": 0, "aria-valuemax": maxScore, "aria-label": "retrieval score" }, h("span", { style: `width:${((d.score || 0) / maxScore) * 100}%` })),
      content.get(String(d.id)) ? h("div", { class: "small" }, truncate(content.get(String(d.id)), 280)) : null)));
  const att = rag.attribution;
  const right = h("div", null, h("h3", null, "Answer sentences"));
  if (!att) right.append(empty("No answer to attribute", ""));
  else {
    right.append(h("p", { class: "small muted", style: "margin:0 0 6px" }, `${att.sentences.length - att.unsupported.length} of ${att.sentences.length} sentences supported (${att.method}, threshold ${att.threshold}).`));
    for (const sn of att.sentences) right.append(h("div", { class: "sentence " + (sn.supported ? "supported" : "unsupported") },
      sn.sentence, h("div", { class: "small muted" }, sn.supported ? "supported by " + sn.support.slice(0, 3).map((x) => `${x.document_id} (${x.score})`).join(", ") : "not supported by any retrieved chunk")));
  }
  p.append(h("div", { class: "grid g2" }, left, right));
  return p;
}

function toolSection(tools) {
  const p = panel("Tool calls", null, { hint: "arguments, results and errors" });
  if (!tools.length) { p.append(empty("No tool calls in this trace", "")); return p; }
  p.append(table("Tool calls", [
    { label: "Tool", value: (t) => h("strong", null, t.name || "?") },
    { label: "Status", value: (t) => badge(t.error ? (t.timeout ? "timeout" : "error") : "ok", t.error ? "bad" : "ok") },
    { label: "Arguments", value: (t) => h("pre", { class: "block", style: "max-height:120px;margin:0" }, stringify(t.arguments)) },
    { label: "Result / error", value: (t) => (t.error ? h("span", { style: "color:var(--bad)" }, t.error) : h("pre", { class: "block", style: "max-height:120px;margin:0" }, truncate(stringify(t.result), 400))) },
    { label: "Retries", num: true, value: (t) => fmt.int(t.retries || 0) },
    { label: "Latency", num: true, value: (t) => fmt.ms(t.latency_ms) },
    { label: "Checks", value: (t) => (t.schema_violations || []).length ? badge("schema violation", "warn") : (t.side_effect ? badge("side effect", "info") : "") },
  ], tools.slice(0, 200), { hideCaption: true }));
  return p;
}

function truncate(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
