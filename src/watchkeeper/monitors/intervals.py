"""Confidence intervals computed from aggregates (counts and sums), never from raw rows.

* proportions (accuracy, precision, recall, false positive rate, label coverage): Wilson score;
* ROC AUC: Hanley & McNeil (1982) standard error from AUC and the two class sizes;
* means (MAE, MAPE, Brier, NDCG, MRR) and RMSE: normal approximation from sums of powers
  (RMSE: the interval of the mean squared error, square-rooted);
* F1 and calibration error: a bootstrap over the small aggregate (confusion counts or
  calibration bins), with a fixed seed so the same data always gives the same interval.

Every function returns ``(lower, upper)`` or ``(None, None)`` when there is nothing to estimate.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
DRAWS = 400  # bootstrap draws: enough for a 95% percentile interval at the second decimal


def wilson(k: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    if not n:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def hanley_mcneil(auc: float, n_pos: float, n_neg: float, z: float = Z95) -> tuple[float | None, float | None]:
    if auc is None or n_pos <= 0 or n_neg <= 0:
        return None, None
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return max(0.0, auc - z * se), min(1.0, auc + z * se)


def mean_interval(total: float, total_sq: float, n: float, z: float = Z95,
                  lo: float | None = None, hi: float | None = None) -> tuple[float | None, float | None]:
    """Normal interval of a mean from n, sum and sum of squares, optionally clipped to [lo, hi]."""
    if n is None or n < 2:
        return None, None
    mean = total / n
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    half = z * math.sqrt(var / n)
    lower, upper = mean - half, mean + half
    if lo is not None:
        lower = max(lo, lower)
    if hi is not None:
        upper = min(hi, upper)
    return lower, upper


def rmse_interval(sq_sum: float, quad_sum: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    lower, upper = mean_interval(sq_sum, quad_sum, n, z, lo=0.0)
    if lower is None:
        return None, None
    return math.sqrt(lower), math.sqrt(upper)


def f1_from_counts(tp, fp, fn):
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def quantile_rows(values: np.ndarray, qs=(0.025, 0.975)) -> list[tuple[float | None, ...]]:
    """Per row of ``values``, its ``qs`` quantiles ignoring NaN (all None for an all-NaN row).

    The same numbers as ``np.quantile`` on each row's non-NaN values, computed in one call for
    the rows without NaN."""
    values = np.asarray(values, dtype=float)
    out: list[tuple[float | None, ...]] = [tuple(None for _ in qs)] * len(values)
    if not len(values):
        return out
    nan = np.isnan(values).any(axis=1)
    full = np.flatnonzero(~nan)
    if full.size:
        got = np.quantile(values[full], list(qs), axis=1)
        for j, i in enumerate(full):
            out[i] = tuple(float(v) for v in got[:, j])
    for i in np.flatnonzero(nan):
        row = values[i][~np.isnan(values[i])]
        if row.size:
            out[i] = tuple(float(v) for v in np.quantile(row, list(qs)))
    return out


def f1_bootstrap(tp: int, fp: int, fn: int, tn: int, seed: int = 0) -> tuple[float | None, float | None]:
    return f1_bootstrap_many([(tp, fp, fn, tn)], seed)[0]


def f1_bootstrap_many(counts, seed: int = 0) -> list[tuple[float | None, float | None]]:
    """``f1_bootstrap`` of each (tp, fp, fn, tn): the same draws per row, the quantiles in one call."""
    out: list = [(None, None)] * len(counts)
    rows, draws = [], []
    for i, (tp, fp, fn, tn) in enumerate(counts):
        n = tp + fp + fn + tn
        if n == 0 or 2 * tp + fp + fn == 0:
            continue
        rng = np.random.default_rng(seed)
        d = rng.multinomial(n, np.array([tp, fp, fn, tn], dtype=float) / n, size=DRAWS)
        rows.append(i)
        draws.append(f1_from_counts(d[:, 0], d[:, 1], d[:, 2]))
    if rows:
        for i, iv in zip(rows, quantile_rows(np.vstack(draws))):
            out[i] = iv
    return out


def ece(counts: np.ndarray, positives: np.ndarray, score_sums: np.ndarray) -> float | None:
    """Expected calibration error: sum over bins of (bin share) x |observed rate - mean score|."""
    n = counts.sum()
    if n == 0:
        return None
    mask = counts > 0
    gap = np.abs(positives[mask] / counts[mask] - score_sums[mask] / counts[mask])
    return float((counts[mask] / n * gap).sum())


def ece_bootstrap(counts: np.ndarray, positives: np.ndarray, score_sums: np.ndarray,
                  seed: int = 0) -> tuple[float | None, float | None]:
    return ece_bootstrap_many([(counts, positives, score_sums)], seed)[0]


def ece_bootstrap_many(bins, seed: int = 0) -> list[tuple[float | None, float | None]]:
    """``ece_bootstrap`` of each (counts, positives, score_sums): per-row draws, quantiles in one call."""
    out: list = [(None, None)] * len(bins)
    rows, values = [], []
    for i, (counts, positives, score_sums) in enumerate(bins):
        n = int(counts.sum())
        if n == 0:
            continue
        rng = np.random.default_rng(seed)
        mask = counts > 0
        c, pos, s = counts[mask], positives[mask], score_sums[mask]
        mean_score = s / c
        rate = pos / c
        new_counts = rng.multinomial(n, c / n, size=DRAWS // 2)
        new_pos = rng.binomial(new_counts, rate)
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.abs(np.where(new_counts > 0, new_pos / np.maximum(new_counts, 1), 0) - mean_score)
        rows.append(i)
        values.append((new_counts / n * gap).sum(axis=1))
    if rows:
        for i, iv in zip(rows, quantile_rows(np.vstack(values))):
            out[i] = iv
    return out
