// A windowed span tree with a waterfall: only the rows in view exist in the DOM, spans arrive page by
// page from the API as the user scrolls, and subtrees collapse and expand from the keyboard or mouse.
// A 50,000-span trace costs one page of JSON and ~30 row elements.

import { h, fmt } from "./dom.js";

const ROW = 28;
const OVERSCAN = 8;

export class SpanTree {
  /** opts: {total, first (array of spans), fetchMore(): Promise<spans[]|null>, t0 (µs), durationUs, onSelect(span)} */
  constructor(opts) {
    this.o = opts;
    this.rows = opts.first.slice();
    this.total = opts.total;
    this.collapsed = new Set();
    this.visible = [];
    this.sel = 0;
    this.loading = false;
    this.pool = new Map();
    this.el = h("div", { class: "tree", role: "tree", "aria-label": `Span tree, ${opts.total} spans`, tabindex: "-1" });
    this.inner = h("div", { class: "tree-inner" });
    this.el.append(this.inner);
    this.el.addEventListener("scroll", () => this.draw(), { passive: true });
    this.el.addEventListener("keydown", (e) => this.key(e));
    this.el.addEventListener("click", (e) => {
      const row = e.target.closest(".tree-row");
      if (!row) return;
      const vi = Number(row.dataset.vi);
      if (e.target.closest(".tog")) this.toggle(this.visible[vi]);
      this.select(vi, true);
    });
    this.recompute();
  }

  hasKids(i) { return i + 1 < this.rows.length && (this.rows[i + 1].depth || 0) > (this.rows[i].depth || 0); }

  recompute() {
    const vis = [];
    let hideBelow = Infinity;
    for (let i = 0; i < this.rows.length; i++) {
      const d = this.rows[i].depth || 0;
      if (d > hideBelow) continue;
      hideBelow = Infinity;
      vis.push(i);
      if (this.collapsed.has(this.rows[i].span_id)) hideBelow = d;
    }
    this.visible = vis;
    const more = this.rows.length < this.total ? 1 : 0;
    this.inner.style.height = (vis.length + more) * ROW + "px";
    this.el.style.height = Math.min(520, Math.max(4, vis.length + more) * ROW + 2) + "px";
    this.pool.forEach((el) => el.remove());
    this.pool.clear();
    this.draw();
  }

  toggle(i) {
    const focused = this.el.contains(document.activeElement);
    const id = this.rows[i].span_id;
    if (this.collapsed.has(id)) this.collapsed.delete(id); else if (this.hasKids(i)) this.collapsed.add(id);
    const keep = this.visible[this.sel];
    this.recompute();
    const at = this.visible.indexOf(keep);
    if (at >= 0) this.sel = at;
    this.draw();
    if (focused) this.select(this.sel, false); // the old row element is gone: keep keyboard focus in the tree
  }

  /** Collapse every span at depth >= level (e.g. 1 leaves the roots' children visible). */
  collapseFrom(level) {
    for (let i = 0; i < this.rows.length; i++) if ((this.rows[i].depth || 0) >= level && this.hasKids(i)) this.collapsed.add(this.rows[i].span_id);
    this.sel = 0; this.recompute();
  }

  expandAll() { this.collapsed.clear(); this.recompute(); }

  async more() {
    if (this.loading || this.rows.length >= this.total) return;
    this.loading = true;
    try {
      const next = await this.o.fetchMore();
      if (next && next.length) { this.rows.push(...next); this.recompute(); } else this.total = this.rows.length;
    } finally { this.loading = false; }
  }

  draw() {
    const top = this.el.scrollTop, height = this.el.clientHeight || 520;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.visible.length - 1, Math.ceil((top + height) / ROW) + OVERSCAN);
    const want = new Set();
    for (let vi = first; vi <= last; vi++) {
      want.add(vi);
      let el = this.pool.get(vi);
      if (!el) { el = this.row(vi); this.pool.set(vi, el); this.inner.append(el); }
      const selected = vi === this.sel;
      el.setAttribute("aria-selected", selected ? "true" : "false");
      el.tabIndex = selected ? 0 : -1;
    }
    for (const [vi, el] of this.pool) if (!want.has(vi)) { el.remove(); this.pool.delete(vi); }
    if (this.rows.length < this.total) {
      if (!this.moreEl) {
        this.moreEl = h("div", { class: "tree-row muted", style: "cursor:default", role: "none" });
        this.inner.append(this.moreEl);
      }
      this.moreEl.style.top = this.visible.length * ROW + "px";
      this.moreEl.textContent = `Loading more spans… (${fmt.int(this.rows.length)} of ${fmt.int(this.total)} loaded)`;
      if (last >= this.visible.length - 1 - OVERSCAN) this.more();
    } else if (this.moreEl) { this.moreEl.remove(); this.moreEl = null; }
  }

  row(vi) {
    const i = this.visible[vi];
    const s = this.rows[i];
    const d = s.depth || 0;
    const kids = this.hasKids(i);
    const open = kids && !this.collapsed.has(s.span_id);
    const dur = this.o.durationUs || 1;
    const left = Math.max(0, Math.min(100, ((s.start_us - this.o.t0) / dur) * 100));
    const width = Math.max(0.15, Math.min(100 - left, ((s.end_us - s.start_us) / dur) * 100));
    const err = s.status === "error";
    const cls = "bar " + (err ? "error" : s.kind === "llm" ? "llm" : s.kind === "retriever" || s.kind === "reranker" ? "retrieval" : s.kind === "tool" ? "tool" : "");
    const el = h("div", {
      class: "tree-row", role: "treeitem", "aria-level": d + 1, "aria-expanded": kids ? String(open) : null,
      "aria-label": `${s.name}, ${s.kind}, ${fmt.ms(s.duration_ms)}${err ? ", error" : ""}`, dataset: { vi: String(vi) },
      style: `top:${vi * ROW}px`,
    },
      h("div", { class: "tree-name", style: `padding-left:${6 + Math.min(d, 40) * 14}px` },
        h("span", { class: "tog", "aria-hidden": "true" }, kids ? (open ? "▾" : "▸") : ""),
        err ? h("span", { class: "err", "aria-hidden": "true" }, "!") : null,
        h("span", { class: "lbl" }, s.name), h("span", { class: "faint small" }, s.kind !== "other" ? " · " + s.kind : "")),
      h("div", { class: "tree-bar" },
        h("div", { class: cls, style: `left:${left}%;width:${width}%` }),
        h("span", { class: "dur", style: left + width > 80 ? `right:${100 - left + 0.5}%` : `left:calc(${left + width}% + 4px)` }, fmt.ms(s.duration_ms))));
    return el;
  }

  select(vi, notify) {
    if (vi < 0 || vi >= this.visible.length) return;
    this.sel = vi;
    const top = vi * ROW;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + ROW > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + ROW - this.el.clientHeight;
    this.draw();
    const el = this.pool.get(vi);
    if (el) el.focus({ preventScroll: true });
    if (notify && this.o.onSelect) this.o.onSelect(this.rows[this.visible[vi]]);
  }

  key(e) {
    const i = this.visible[this.sel];
    const page = Math.max(1, Math.floor(this.el.clientHeight / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) { e.preventDefault(); this.select(Math.max(0, Math.min(this.visible.length - 1, this.sel + moves[e.key])), true); }
    else if (e.key === "Home") { e.preventDefault(); this.select(0, true); }
    else if (e.key === "End") { e.preventDefault(); this.select(this.visible.length - 1, true); }
    else if (e.key === "ArrowRight") { e.preventDefault(); if (this.collapsed.has(this.rows[i].span_id)) this.toggle(i); else this.select(this.sel + 1, true); }
    else if (e.key === "ArrowLeft") {
      e.preventDefault();
      if (this.hasKids(i) && !this.collapsed.has(this.rows[i].span_id)) this.toggle(i);
      else { const d = this.rows[i].depth || 0; for (let v = this.sel - 1; v >= 0; v--) if ((this.rows[this.visible[v]].depth || 0) < d) { this.select(v, true); break; } }
    } else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.toggle(i); this.select(this.sel, true); }
  }

  focus() { this.select(this.sel, false); }
}
