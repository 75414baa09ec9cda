"""Small helpers shared by the drift statistics: counts -> shares, smoothing, coarsening.

Every statistic in this package works on *aligned counts*: two arrays of the same length where
position ``i`` is the same histogram bin (over shared edges) or the same category in both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_counts", "shares", "smoothed_shares", "coarsen", "DEFAULT_EPS"]

#: Share given to an empty bin by PSI and KL, as Evidently and most PSI write-ups do.
DEFAULT_EPS = 1e-4


def as_counts(ref_counts, cur_counts) -> tuple[np.ndarray, np.ndarray]:
    """Return both count vectors as float arrays, checking they are aligned and non-negative."""
    ref = np.asarray(ref_counts, dtype=float).ravel()
    cur = np.asarray(cur_counts, dtype=float).ravel()
    if ref.shape != cur.shape:
        raise ValueError(f"count vectors are not aligned: {ref.size} reference bins vs {cur.size} current bins")
    if ref.size == 0:
        raise ValueError("count vectors are empty")
    if (ref < 0).any() or (cur < 0).any() or not (np.isfinite(ref).all() and np.isfinite(cur).all()):
        raise ValueError("counts must be finite and non-negative")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("each side needs at least one counted value")
    return ref, cur


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts divided by their total."""
    return counts / counts.sum()


def smoothed_shares(counts: np.ndarray, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Shares with empty bins set to ``eps`` (Evidently's PSI rule: eps = 1e-4, or min-nonzero/1e6 if smaller).

    The result is *not* renormalised, matching Evidently and the usual PSI tables.
    """
    p = shares(counts)
    nonzero = p[p > 0]
    floor = eps if nonzero.size == 0 or nonzero.min() > eps else nonzero.min() / 1e6
    return np.where(p > 0, p, floor)


def coarsen(ref_counts: np.ndarray, cur_counts: np.ndarray, groups: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Merge fine numerical bins into about ``groups`` reference-quantile bins, keeping the two tail bins.

    Input layout is the profile's: ``[below-range, interior..., above-range]``. Interior bins are grouped by
    the reference cumulative share at their midpoint, so 100 percentile bins become 10 decile bins, the
    binning PSI tables assume. The tail bins (values outside the reference range) stay separate because
    mass there is exactly what a shift produces.
    """
    ref = np.asarray(ref_counts, dtype=float)
    cur = np.asarray(cur_counts, dtype=float)
    inner_r, inner_c = ref[1:-1], cur[1:-1]
    if inner_r.size <= groups:
        return ref, cur
    total = inner_r.sum()
    if total <= 0:
        return ref, cur
    cum = np.cumsum(inner_r)
    mid = (cum - inner_r / 2) / total
    group = np.minimum((mid * groups).astype(np.intp), groups - 1)
    r = np.bincount(group, weights=inner_r, minlength=groups)
    c = np.bincount(group, weights=inner_c, minlength=groups)
    keep = (r + c) > 0
    return (np.concatenate([[ref[0]], r[keep], [ref[-1]]]), np.concatenate([[cur[0]], c[keep], [cur[-1]]]))
