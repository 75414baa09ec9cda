// Small DOM helpers: element builder, tables with real headers, empty states, number formats.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const svgNS = "http://www.w3.org/2000/svg";

export function panel(title, body, opts = {}) {
  return h("section", { class: "panel" + (opts.flush ? " flush" : ""), "aria-labelledby": opts.id || null },
    title ? h("div", { class: "panel-head" }, h("h2", { id: opts.id || null }, title), opts.hint ? h("span", { class: "hint muted small" }, opts.hint) : null) : null,
    body);
}

export function empty(title, ...lines) {
  return h("div", { class: "empty", role: "status" }, h("strong", null, title), ...lines.map((l) => (l instanceof Node ? l : h("div", null, l))));
}

export function errorBox(err) {
  return h("div", { class: "error-box", role: "alert" }, h("strong", null, "Could not load this view. "), String(err && err.message ? err.message : err));
}

export function tile(label, value, sub, tone) {
  return h("div", { class: "tile" + (tone ? " " + tone : "") }, h("div", { class: "k" }, label), h("div", { class: "v" }, value), sub ? h("div", { class: "s" }, sub) : null);
}

export function badge(text, tone) {
  return h("span", { class: "badge " + (tone || "") }, text);
}

/** A table: columns = [{label, value(row) -> Node|string, num?: bool}], rows; onRow makes rows activatable. */
export function table(caption, columns, rows, opts = {}) {
  const thead = h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label))));
  const tbody = h("tbody", null, rows.map((r) => {
    const tr = h("tr", { class: opts.onRow ? "clickable" : null },
      columns.map((c, i) => {
        const v = c.value(r);
        const cell = h(i === 0 && opts.rowHeader ? "th" : "td", { class: [c.num ? "num" : "", c.cls || ""].join(" ").trim() || null, scope: i === 0 && opts.rowHeader ? "row" : null }, v);
        return cell;
      }));
    if (opts.onRow) tr.addEventListener("click", (e) => { if (!e.target.closest("a,button")) opts.onRow(r, e); });
    return tr;
  }));
  const t = h("table", null, caption ? h("caption", { class: opts.hideCaption ? "sr-only" : null }, caption) : null, thead, tbody);
  return h("div", { class: "table-wrap" }, t);
}

export const fmt = {
  int(n) { return n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US"); },
  compact(n) {
    if (n === null || n === undefined) return "—";
    const a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return Math.round(n).toLocaleString("en-US");
  },
  pct(x, digits = 1) { return x === null || x === undefined || Number.isNaN(x) ? "—" : (x * 100).toFixed(digits) + "%"; },
  ms(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "—";
    if (x >= 10000) return (x / 1000).toFixed(1) + " s";
    if (x >= 1000) return (x / 1000).toFixed(2) + " s";
    if (x >= 100) return Math.round(x) + " ms";
    return x.toFixed(1) + " ms";
  },
  money(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "—";
    if (x === 0) return "$0";
    if (Math.abs(x) < 0.01) return "$" + x.toPrecision(2);
    return "$" + x.toFixed(2);
  },
  num(x, digits = 3) { return x === null || x === undefined || Number.isNaN(x) ? "—" : Number(x).toPrecision(digits).replace(/\.?0+(e|$)/, "$1"); },
  time(iso) {
    if (!iso) return "—";
    const d = typeof iso === "number" ? new Date(iso) : new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString("en-GB", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  },
  ago(iso) {
    if (!iso) return "—";
    const s = (Date.now() - new Date(iso).getTime()) / 1000;
    if (!Number.isFinite(s)) return String(iso);
    if (s < 60) return Math.max(0, Math.round(s)) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  },
};

/** A tiny inline SVG sparkline (no library: hundreds of these on an overview must stay cheap). */
export function sparkline(values, opts = {}) {
  const w = opts.width || 120, hgt = opts.height || 28;
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", hgt); svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", opts.label || "trend");
  if (!values || !values.length) return h("span", { class: "spark" }, svg);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (v / max) * (hgt - 4)).toFixed(1)}`);
  const area = document.createElementNS(svgNS, "path");
  area.setAttribute("d", `M0,${hgt} L${pts.join(" L")} L${w},${hgt} Z`);
  area.setAttribute("fill", opts.color || "var(--c1)"); area.setAttribute("opacity", ".12");
  const line = document.createElementNS(svgNS, "polyline");
  line.setAttribute("points", pts.join(" ")); line.setAttribute("fill", "none");
  line.setAttribute("stroke", opts.color || "var(--c1)"); line.setAttribute("stroke-width", "1.5");
  svg.append(area, line);
  return h("span", { class: "spark" }, svg);
}

export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter((p) => p && p[1] !== undefined && p[1] !== null && p[1] !== "").flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

export function statusTone(errorRate, p95, target) {
  if (errorRate >= 0.05) return "bad";
  if (errorRate >= 0.01 || (target && p95 > target)) return "warn";
  return "ok";
}
