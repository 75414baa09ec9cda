"""Compare a current column profile with its reference profile: one :class:`ColumnResult`.

A column is *drifted* when its distribution statistic crosses the method's threshold (see
``registry.py`` for defaults) **or** its missing share jumped (``missing.py``). Profiles are duck-typed
(``watchkeeper.monitors.profile.ColumnProfile``); this module does not import them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .categories import align_categories, category_changes
from .missing import DEFAULT_MIN_CHANGE, MissingChange, missing_rate_change
from .registry import Inputs, Method, default_method, get_method

__all__ = ["ColumnResult", "compare", "display_histogram"]

DISPLAY_BINS = 40
DISPLAY_CATEGORIES = 20


@dataclass
class ColumnResult:
    """Outcome for one column; :meth:`to_dict` gives the report's per-column JSON."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    distribution_drifted: bool
    missing: MissingChange
    reason: str
    rows: tuple[int, int] = (0, 0)
    details: dict = field(default_factory=dict)

    @property
    def severity(self) -> float:
        """How far past (or short of) its threshold the statistic is; used to sort reports."""
        if self.statistic is None:
            return 0.0
        if self.p_value is not None:
            return -math.log10(max(self.p_value, 1e-300)) / -math.log10(max(self.threshold, 1e-300))
        return self.statistic / self.threshold if self.threshold else 0.0

    def to_dict(self) -> dict:
        d = {
            "type": self.kind,
            "method": self.method,
            "statistic": _num(self.statistic),
            "p_value": _num(self.p_value),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "distribution_drifted": self.distribution_drifted,
            "missing": {"reference": round(self.missing.reference, 6), "current": round(self.missing.current, 6),
                        "p_value": _num(self.missing.p_value), "drifted": self.missing.drifted},
            "rows": {"reference": self.rows[0], "current": self.rows[1]},
            "reason": self.reason,
        }
        d.update(self.details)
        return d


def _num(x):
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.6g}")


def _resolve(method, kind: str, n_ref: int, n_cur: int) -> tuple[Method, str]:
    if method is None:
        return default_method(kind, n_ref, n_cur), ""
    m = method if isinstance(method, Method) else get_method(method)
    if kind not in m.applies_to:
        fallback = default_method(kind, n_ref, n_cur)
        return fallback, f"{m.name} applies to numerical columns only; used {fallback.name}. "
    return m, ""


def _inputs(ref, cur) -> Inputs:
    if ref.kind == "numerical":
        exact = ref.values is not None and getattr(cur, "values", None) is not None
        return Inputs("numerical", ref.counts, cur.counts, edges=ref.edges, ref_std=ref.std,
                      ref_sums=ref.sums, cur_sums=cur.sums,
                      ref_values=ref.values if exact else None, cur_values=cur.values if exact else None)
    _, r, c = align_categories(ref.categories or {}, cur.categories or {})
    return Inputs("categorical", r, c)


def display_histogram(ref, cur) -> dict:
    """Small histogram of reference and current shares for plots (at most ~40 bins or 20 categories)."""
    if ref.kind == "numerical":
        # plot the reference 1st-99th percentile range; long tails would squash the picture
        trim = 1 if ref.edges.size > 21 else 0
        fine = ref.edges[trim:ref.edges.size - trim]
        k = fine.size - 1
        group = np.arange(k) * min(DISPLAY_BINS, k) // max(k, 1)
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        edges = np.r_[fine[starts], fine[-1]]
        shares = []
        for p in (ref, cur):
            total = max(p.counts.sum(), 1)
            inner = p.counts[1 + trim:p.counts.size - 1 - trim]
            inner = np.add.reduceat(inner, starts) if k else np.zeros(0)
            shares.append({"below": round(float(p.counts[:1 + trim].sum() / total), 6),
                           "bins": (inner / total).round(6).tolist(),
                           "above": round(float(p.counts[p.counts.size - 1 - trim:].sum() / total), 6)})
        return {"histogram": {"edges": [float(f"{e:.6g}") for e in edges], "reference": shares[0],
                              "current": shares[1]}}
    keys, r, c = align_categories(ref.categories or {}, cur.categories or {})
    rs, cs = r / max(r.sum(), 1), c / max(c.sum(), 1)
    order = np.argsort(-np.maximum(rs, cs), kind="stable")[:DISPLAY_CATEGORIES]
    hist = {"categories": [keys[i] for i in order], "reference": rs[order].round(6).tolist(),
            "current": cs[order].round(6).tolist()}
    if len(keys) > DISPLAY_CATEGORIES:
        hist["categories"].append("(other)")
        hist["reference"].append(round(1 - float(rs[order].sum()), 6))
        hist["current"].append(round(1 - float(cs[order].sum()), 6))
    return {"histogram": hist}


def compare(ref, current, method=None, threshold: float | None = None,
            missing_change: float = DEFAULT_MIN_CHANGE, histogram: bool = True) -> ColumnResult:
    """Compare ``current`` (a profile, a counts vector or a category->count mapping) with ``ref``.

    ``method`` is a registry name (``"psi"``, ``"js"``, ...) or None for the default by type and size;
    ``threshold`` overrides the method's default. Raises ``UnknownMethod`` for an unknown name.
    """
    if not hasattr(current, "kind"):
        from ..profile import profile_from_counts

        current = profile_from_counts(ref, dict(current) if isinstance(current, Mapping) else current)
    if current.kind != ref.kind:
        raise ValueError(f"column {ref.name!r} is {ref.kind} in the reference but {current.kind} in current")
    m, note = _resolve(method, ref.kind, ref.valid, current.valid)
    thr = float(m.threshold if threshold is None else threshold)
    miss = (missing_rate_change(ref.missing, ref.rows, current.missing, current.rows, missing_change)
            if ref.rows and current.rows else MissingChange(ref.missing_rate, current.missing_rate, 0.0, 1.0, False))
    statistic = p_value = None
    dist = False
    if ref.valid == 0:
        note += "no non-missing values in the reference; distribution not compared. "
    elif current.valid == 0:
        note += "no non-missing values in the current data; distribution not compared. "
    else:
        statistic, p_value = m.compute(_inputs(ref, current))
        dist = m.is_drift(statistic, p_value, thr)
        shown = f"p={p_value:.3g} {'<' if dist else '>='} {thr:g}" if m.kind == "p_value" else \
            f"{statistic:.3g} {'>=' if dist else '<'} {thr:g}"
        note += f"{m.name} {shown}{' (drift)' if dist else ''}. "
    if miss.drifted:
        note += f"missing share changed from {miss.reference:.1%} to {miss.current:.1%}. "
    details: dict = {}
    if ref.kind == "numerical":
        if ref.valid and ref.std == 0:
            note += "reference is constant. "
        if getattr(current, "infinite", 0) or ref.infinite:
            details["infinite"] = {"reference": ref.infinite, "current": current.infinite}
            note += "infinite values counted as missing. "
    else:
        if len(ref.categories or {}) == 1:
            note += "reference is constant. "
        ch = category_changes(ref.categories or {}, current.categories or {})
        details.update(new_categories=ch.new, vanished_categories=ch.vanished, new_share=round(ch.new_share, 6))
    if histogram and ref.valid and current.valid:
        details.update(display_histogram(ref, current))
    return ColumnResult(ref.name, ref.kind, m.name, statistic, p_value, thr, dist or miss.drifted, dist, miss,
                        note.strip(), (ref.rows, current.rows), details)
