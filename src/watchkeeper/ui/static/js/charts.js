// Charts on uPlot (vendored, served locally): time series, histograms and category bars, themed from CSS.

import { h } from "./dom.js";

function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
export function color(i) { return css("--c" + ((i % 7) + 1)); }

const live = new Set();
const resizer = typeof ResizeObserver !== "undefined" ? new ResizeObserver((entries) => {
  for (const e of entries) {
    const u = e.target.__uplot;
    if (u && e.contentRect.width > 0) u.setSize({ width: Math.floor(e.contentRect.width), height: u.height });
  }
}) : null;

/** Destroy charts whose elements left the document (called on every navigation). */
export function sweep() {
  for (const u of live) {
    if (!document.body.contains(u.root)) { u.destroy(); live.delete(u); }
  }
}

function axes(yFmt, yLabel, xTime = true) {
  const stroke = css("--muted"), grid = css("--grid");
  const base = { stroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1, size: 4 }, font: "11px system-ui, sans-serif", labelFont: "600 11px system-ui, sans-serif" };
  return [
    { ...base, ...(xTime ? {} : { values: (u, v) => v.map((x) => fmtAxis(x)) }) },
    { ...base, label: yLabel || null, labelSize: yLabel ? 18 : 0, size: 56, values: (u, vals) => vals.map((v) => (yFmt ? yFmt(v) : fmtAxis(v))) },
  ];
}

function fmtAxis(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + "k";
  if (a > 0 && a < 0.01) return v.toExponential(0);
  return +v.toFixed(3) + "";
}

function mount(el, opts, data) {
  const wrap = h("div", { class: "chart" + (opts.short ? " short" : ""), role: "img", "aria-label": opts.aria || opts.title || "chart" });
  el.append(wrap);
  if (typeof uPlot === "undefined") { wrap.append(h("div", { class: "muted small" }, "chart library failed to load")); return wrap; }
  const width = Math.max(240, Math.floor(wrap.clientWidth || el.clientWidth || 600));
  const u = new uPlot({ width, height: opts.height || 220, ...opts.uplot }, data, wrap);
  wrap.__uplot = u;
  live.add(u);
  if (resizer) resizer.observe(wrap);
  return wrap;
}

/** Time series: x = epoch seconds; series = [{label, values, color?, fmt?, dash?, fill?, scale?}]. */
export function timeChart(el, x, series, opts = {}) {
  const yFmt = opts.yFmt;
  const s = [{}].concat(series.map((sr, i) => ({
    label: sr.label, stroke: sr.color || color(i), width: sr.width || 1.75, dash: sr.dash, scale: sr.scale || "y",
    fill: sr.fill ? sr.fill : undefined, points: { show: x.length < 3 },
    value: (u, v) => (v === null || v === undefined ? "—" : (sr.fmt || yFmt || fmtAxis)(v)), spanGaps: false,
  })));
  const ax = axes(yFmt, opts.yLabel);
  const scales = { x: { time: true }, y: { auto: true, range: (u, min, max) => [opts.zero === false ? min : Math.min(0, min), max > 0 ? max * 1.08 : 1] } };
  if (opts.y2) {
    scales.y2 = { auto: true, range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] };
    ax.push({ ...ax[1], side: 1, scale: "y2", label: opts.y2.label, labelSize: 18, grid: { show: false }, values: (u, vals) => vals.map((v) => (opts.y2.fmt ? opts.y2.fmt(v) : fmtAxis(v))) });
  }
  if (opts.xRange) scales.x.range = () => opts.xRange;
  return mount(el, { ...opts, uplot: { scales, axes: ax, series: s, legend: { live: true }, cursor: { drag: { x: false, y: false } } } },
    [x, ...series.map((sr) => sr.values)]);
}

/** Bars over a numeric axis: edges (n+1) and one or more count arrays (normalised to shares when opts.share). */
export function histogram(el, edges, sets, opts = {}) {
  const mids = edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2);
  return barsOn(el, mids, sets, { ...opts, xTime: false });
}

/** Bars for categories: labels and one or more count arrays. */
export function categoryBars(el, labels, sets, opts = {}) {
  const x = labels.map((_, i) => i);
  return barsOn(el, x, sets, { ...opts, xTime: false, labels });
}

function barsOn(el, x, sets, opts) {
  const n = sets.length;
  const data = sets.map((s) => {
    if (!opts.share) return s.values;
    const tot = s.values.reduce((a, b) => a + b, 0) || 1;
    return s.values.map((v) => v / tot);
  });
  const bars = typeof uPlot !== "undefined" && uPlot.paths && uPlot.paths.bars;
  const series = [{}].concat(sets.map((s, i) => ({
    label: s.label, stroke: s.color || color(i), fill: (s.color || color(i)) + "b0", width: 1,
    paths: bars ? bars(n > 1 ? grouped(x, i, n) : { size: [0.75, 80] }) : undefined,
    points: { show: false },
    value: (u, v) => (v === null || v === undefined ? "—" : opts.share ? (v * 100).toFixed(1) + "%" : fmtAxis(v)),
  })));
  const ax = axes(opts.share ? (v) => (v * 100).toFixed(0) + "%" : null, opts.yLabel, false);
  if (opts.labels) {
    ax[0].values = (u, vals) => vals.map((v) => (Number.isInteger(v) && opts.labels[v] !== undefined ? truncate(String(opts.labels[v]), 12) : ""));
    ax[0].splits = () => x;
  } else if (opts.xFmt) {
    ax[0].values = (u, vals) => vals.map((v) => opts.xFmt(v));
  }
  if (opts.xLabel) { ax[0].label = opts.xLabel; ax[0].labelSize = 18; }
  const pad = x.length > 1 ? (x[1] - x[0]) / 2 : 0.5;
  const scales = { x: { time: false, range: () => [x[0] - pad, x[x.length - 1] + pad] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } };
  return mount(el, { ...opts, uplot: { scales, axes: ax, series, legend: { live: true }, cursor: { drag: { x: false, y: false } } } }, [x, ...data]);
}

// Side-by-side bars: series i of n gets a slice of each x slot (left edge and width in x units).
function grouped(x, i, n) {
  const dx = x.length > 1 ? x[1] - x[0] : 1;
  const w = (0.84 * dx) / n;
  return { disp: { x0: { unit: 1, values: () => x.map((v) => v - 0.42 * dx + i * w) }, size: { unit: 1, values: () => [w] } } };
}

function truncate(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

/** A scatter of points (x numeric) with a per-point highlight predicate, e.g. token gaps with slow ones marked. */
export function scatter(el, x, y, highlight, opts = {}) {
  const hi = y.map((v, i) => (highlight(v, i) ? v : null));
  const lo = y.map((v, i) => (highlight(v, i) ? null : v));
  const series = [{}, { label: opts.label || "value", stroke: color(0), fill: color(0), width: 0, paths: () => null, points: { show: true, size: 4, fill: color(0) }, value: (u, v) => (v == null ? "—" : (opts.fmt || fmtAxis)(v)) },
    { label: opts.hiLabel || "flagged", stroke: css("--bad"), fill: css("--bad"), width: 0, paths: () => null, points: { show: true, size: 7, fill: css("--bad") }, value: (u, v) => (v == null ? "—" : (opts.fmt || fmtAxis)(v)) }];
  const ax = axes(opts.fmt, opts.yLabel, false);
  if (opts.xLabel) { ax[0].label = opts.xLabel; ax[0].labelSize = 18; }
  return mount(el, { ...opts, uplot: { scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } }, axes: ax, series, legend: { live: true }, cursor: { drag: { x: false, y: false } } } }, [x, lo, hi]);
}
