"""Render a drift report (``monitors.report.drift_report``) as one self-contained HTML file.

No scripts, fonts or stylesheets are fetched: charts are inline SVG drawn here from the report's
``histogram`` entries, so the file opens offline and can be attached to a ticket. Columns are sorted
with the drifted ones first, then by how far their statistic is past its threshold.
"""

from __future__ import annotations

import math
from html import escape

__all__ = ["render_html"]

REF_COLOR = "#4c78a8"
CUR_COLOR = "#f58518"
W, H, PAD = 560, 170, 36

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} .sub{color:#555;margin-bottom:18px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.drift{background:#fde0dc;color:#a3160b} .ok{background:#e3f4e1;color:#1d6b16} .skip{background:#eee;color:#555}
table{border-collapse:collapse;width:100%;margin:8px 0 24px} th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e5e5}
th{background:#fafafa;font-weight:600} td.num{font-variant-numeric:tabular-nums;text-align:right}
.card{border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:14px 0}
.card h2{font-size:16px;margin:0 0 4px} .reason{color:#444;margin:2px 0 8px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px -2px 12px;border-radius:2px}
svg text{font-size:11px;fill:#444} .flag{color:#a3160b;font-weight:700}
"""


def _severity(col: dict) -> float:
    if col.get("type") == "mismatched":
        return math.inf
    stat, p, thr = col.get("statistic"), col.get("p_value"), col.get("threshold") or 0
    if stat is None:
        return 0.0
    if p is not None:
        return -math.log10(max(p, 1e-300)) / -math.log10(max(thr, 1e-300)) if 0 < thr < 1 else 0.0
    return stat / thr if thr else 0.0


def _fmt(x, digits=3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return escape(str(x))


def _numeric_svg(h: dict) -> str:
    edges = h["edges"]
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    series = []
    for side in ("reference", "current"):
        dens = [s / max(b - a, span * 1e-9) for s, a, b in zip(h[side]["bins"], edges[:-1], edges[1:])]
        series.append(dens)
    top = max(max(d, default=0) for d in series) or 1.0
    x = lambda v: PAD + (v - lo) / span * (W - 2 * PAD)  # noqa: E731
    y = lambda d: H - 22 - d / top * (H - 34)  # noqa: E731
    parts = [f'<line x1="{PAD}" y1="{H - 22}" x2="{W - PAD}" y2="{H - 22}" stroke="#999"/>']
    for dens, color, fill in ((series[0], REF_COLOR, 0.35), (series[1], CUR_COLOR, 0.25)):
        pts = [f"{x(lo):.1f},{y(0):.1f}"]
        for d, a, b in zip(dens, edges[:-1], edges[1:]):
            pts += [f"{x(a):.1f},{y(d):.1f}", f"{x(b):.1f},{y(d):.1f}"]
        pts.append(f"{x(hi):.1f},{y(0):.1f}")
        parts.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="{fill}" '
                     f'stroke="{color}" stroke-width="1.5"/>')
    for v, anchor in ((lo, "start"), ((lo + hi) / 2, "middle"), (hi, "end")):
        parts.append(f'<text x="{x(v):.1f}" y="{H - 6}" text-anchor="{anchor}">{_fmt(v, 4)}</text>')
    notes = []
    for key, label in (("below", "below"), ("above", "above")):
        r, c = h["reference"][key], h["current"][key]
        if r or c:
            notes.append(f"{label} the plotted range: reference {r:.1%}, current {c:.1%}")
    svg = f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">{"".join(parts)}</svg>'
    if notes:
        notes = ["Plotted: the reference's 1st-99th percentile range (density)."] + notes
    return svg + "".join(f'<div class="reason">{escape(n)}</div>' for n in notes)


def _categorical_svg(h: dict) -> str:
    cats = h["categories"]
    row, label_w = 26, 150
    height = row * len(cats) + 10
    top = max(max(h["reference"], default=0), max(h["current"], default=0)) or 1.0
    bar = lambda s: s / top * (W - label_w - 70)  # noqa: E731
    parts = []
    for i, cat in enumerate(cats):
        y0 = 4 + i * row
        name = cat if len(cat) <= 22 else cat[:21] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y0 + 15}" text-anchor="end">{escape(name)}</text>')
        for j, (side, color) in enumerate((("reference", REF_COLOR), ("current", CUR_COLOR))):
            s = h[side][i]
            parts.append(f'<rect x="{label_w}" y="{y0 + j * 11}" width="{bar(s):.1f}" height="10" fill="{color}"/>')
            parts.append(f'<text x="{label_w + bar(s) + 4:.1f}" y="{y0 + j * 11 + 9}">{s:.1%}</text>')
    return f'<svg width="{W}" height="{height}" viewBox="0 0 {W} {height}" role="img">{"".join(parts)}</svg>'


def _card(name: str, col: dict) -> str:
    badge = '<span class="badge drift">drift</span>' if col["drifted"] else '<span class="badge ok">no drift</span>'
    miss = col.get("missing", {})
    head = (f'<h2>{escape(name)} {badge}</h2><div class="sub">{escape(col["type"])} · {escape(col["method"])} '
            f'{_fmt(col.get("statistic"))} (threshold {_fmt(col.get("threshold"))}'
            f'{", p=" + _fmt(col["p_value"]) if col.get("p_value") is not None else ""}) · missing '
            f'{miss.get("reference", 0):.1%} → {miss.get("current", 0):.1%}</div>')
    body = f'<div class="reason">{escape(col.get("reason", ""))}</div>'
    if col.get("new_categories"):
        body += f'<div class="reason">New categories: {escape(", ".join(col["new_categories"][:10]))}</div>'
    if col.get("vanished_categories"):
        body += f'<div class="reason">Vanished categories: {escape(", ".join(col["vanished_categories"][:10]))}</div>'
    h = col.get("histogram")
    if h and "edges" in h:
        body += _numeric_svg(h)
    elif h and "categories" in h:
        body += _categorical_svg(h)
    return f'<div class="card" id="col-{escape(name)}">{head}{body}</div>'


def render_html(report: dict, title: str = "Drift report", reference_label: str = "reference",
                current_label: str = "current") -> str:
    """The whole report as one HTML document (string)."""
    ds = report["dataset"]
    cols = sorted(report["columns"].items(), key=lambda kv: (not kv[1]["drifted"], -_severity(kv[1]), kv[0]))
    verdict = ('<span class="badge drift">dataset drift</span>' if ds["drifted"]
               else '<span class="badge ok">no dataset drift</span>')
    rows = []
    for name, col in cols:
        status = '<span class="badge drift">drift</span>' if col["drifted"] else '<span class="badge ok">ok</span>'
        miss = col.get("missing", {})
        rows.append(f'<tr><td><a href="#col-{escape(name)}">{escape(name)}</a></td><td>{escape(col["type"])}</td>'
                    f'<td>{escape(col["method"])}</td><td class="num">{_fmt(col.get("statistic"))}</td>'
                    f'<td class="num">{_fmt(col.get("p_value"))}</td><td class="num">{_fmt(col.get("threshold"))}</td>'
                    f'<td class="num{" flag" if miss.get("drifted") else ""}">'
                    f'{miss.get("reference", 0):.1%} → {miss.get("current", 0):.1%}</td>'
                    f'<td>{status}</td></tr>')
    for name, why in report.get("skipped", {}).items():
        rows.append(f'<tr><td>{escape(name)}</td><td colspan="6">{escape(why)}</td>'
                    '<td><span class="badge skip">skipped</span></td></tr>')
    table = ("<table><tr><th>column</th><th>type</th><th>method</th><th>statistic</th><th>p-value</th>"
             f"<th>threshold</th><th>missing</th><th>status</th></tr>{''.join(rows)}</table>")
    legend = (f'<div class="legend"><span style="background:{REF_COLOR}"></span>{escape(reference_label)}'
              f'<span style="background:{CUR_COLOR}"></span>{escape(current_label)}</div>')
    summary = (f'<div class="sub">{verdict} {ds["drifted_columns"]} of {ds["columns"]} columns drifted '
               f'({ds["share"]:.0%}). Distance methods flag at or above the threshold, tests below it; a jump in the '
               'missing share is flagged on its own.</div>')
    cards = "".join(_card(name, col) for name, col in cols)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<style>{CSS}</style></head><body><h1>{escape(title)}</h1>{summary}{table}{legend}{cards}</body></html>')
