"""Normalised Wasserstein distance (Evidently's ``wasserstein``): W1 in units of the reference std.

Definition: ``W1 = integral |F_ref(x) - F_cur(x)| dx`` (the earth mover's distance between the two
one-dimensional distributions), divided by ``max(std(ref), 0.001)``. A value of 0.1 means the mass moved
on average a tenth of a reference standard deviation.

Default threshold: **0.1**, drift when ``value >= threshold`` (Evidently's default for numerical columns
with more than 1000 reference rows). An effect size: it does not grow with n, so big data does not
flag practically irrelevant shifts.

From histograms (``wasserstein_binned``): the CDFs are known at the shared edges, and per-bin value
sums give each bin's exact integral of F (``integral_a^b F = (b-a) F(a) + E[(b - X) 1{a<=X<b}]``), so
W1 is exact except inside bins where the two CDFs cross (there taken as linear). The open first and
last bins (below/above the reference range) use the same identity: ``integral_{x<e0} F = E[(e0-X)+]``.
With 100 reference-percentile bins the result is within about 1% of the raw-sample value.

Reference: ``scipy.stats.wasserstein_distance``; Evidently ``wasserstein_distance_norm.py``;
interop.md section 7.2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wasserstein_samples", "wasserstein_binned", "DEFAULT_THRESHOLD", "MIN_STD"]

DEFAULT_THRESHOLD = 0.1
#: Evidently's floor on the reference standard deviation, so a constant reference does not divide by 0.
MIN_STD = 0.001


def wasserstein_samples(ref_values, cur_values) -> float:
    """Normalised W1 from two raw samples (NaN removed)."""
    ref = np.asarray(ref_values, dtype=float)
    cur = np.asarray(cur_values, dtype=float)
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        raise ValueError("each sample needs at least one non-missing value")
    from scipy import stats  # imported on use: ~1 s, and the binned path never needs it

    return float(stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), MIN_STD))


def _abs_linear_integral(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Integral of |g| over each interval where g runs linearly from a to b."""
    same = a * b >= 0
    s = np.abs(a) + np.abs(b)
    crossing = np.divide(a * a + b * b, 2 * s, out=np.zeros_like(s), where=s > 0)
    return width * np.where(same, s / 2, crossing)


def _cdf_integrals(e: np.ndarray, counts: np.ndarray, sums: np.ndarray | None, n: float):
    """Per-bin integral of F over each interior bin, and the two tail integrals, from counts and sums.

    Over bin [a, b): integral F = (b - a) F(a) + E[(b - X) 1{a <= X < b}] = (b - a) F(a) + (c b - s) / n.
    Without sums the values are taken as spread evenly in the bin (s = c (a + b) / 2).
    """
    f_edges = np.cumsum(counts)[:-1] / n
    inner_c = counts[1:-1]
    width = np.diff(e)
    if sums is None:
        inner_s = inner_c * (e[:-1] + e[1:]) / 2
        low, high = counts[0] * e[0], counts[-1] * e[-1]
    else:
        inner_s, low, high = sums[1:-1], sums[0], sums[-1]
    inner = width * f_edges[:-1] + (inner_c * e[1:] - inner_s) / n
    below = (counts[0] * e[0] - low) / n  # E[(e0 - X)+]
    above = (high - counts[-1] * e[-1]) / n  # E[(X - e_k)+]
    return f_edges, inner, below, above


def wasserstein_binned(edges, ref_counts, cur_counts, ref_std: float, ref_sums=None, cur_sums=None) -> float:
    """Normalised W1 from histogram counts (and optionally per-bin value sums) over shared edges.

    ``edges`` has ``k + 1`` strictly increasing finite values; each counts vector has ``k + 2`` entries:
    ``[x < edges[0], k interior bins edges[i] <= x < edges[i+1], x >= edges[-1]]``. ``*_sums`` are the
    sums of the values in each of those bins (what ``SUM(x) ... GROUP BY bin`` gives). With sums, each
    bin's integral of ``F_ref - F_cur`` is exact, so W1 is exact unless the two CDFs cross inside a bin
    (there the CDFs are taken as linear); without sums, values are taken as spread evenly in each bin
    and values outside the edges as sitting on them.
    """
    e = np.asarray(edges, dtype=float)
    ref = np.asarray(ref_counts, dtype=float)
    cur = np.asarray(cur_counts, dtype=float)
    if ref.shape != cur.shape or ref.size != e.size + 1:
        raise ValueError(f"expected {e.size + 1} counts for {e.size} edges, got {ref.size} and {cur.size}")
    n_ref, n_cur = ref.sum(), cur.sum()
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("each side needs at least one counted value")
    rs = None if ref_sums is None else np.asarray(ref_sums, dtype=float)
    cs = None if cur_sums is None else np.asarray(cur_sums, dtype=float)
    fr, ir, rb, ra = _cdf_integrals(e, ref, rs, n_ref)
    fc, ic, cb, ca = _cdf_integrals(e, cur, cs, n_cur)
    a, b = fr[:-1] - fc[:-1], fr[1:] - fc[1:]
    crossing = a * b < 0
    inner = np.where(crossing, _abs_linear_integral(a, b, np.diff(e)), np.abs(ir - ic))
    w1 = float(inner.sum()) + abs(rb - cb) + abs(ra - ca)
    return float(w1 / max(float(ref_std), MIN_STD))
