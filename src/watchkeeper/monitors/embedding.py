"""Embedding drift: has the distribution of a vector-valued input moved? (numpy only)

Method: the squared **maximum mean discrepancy** with a Gaussian RBF kernel between a reference sample
``X`` and a current sample ``Y`` (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012, eq. 3, the
unbiased estimate)::

    MMD^2 = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j)
    k(a, b) = exp(-||a - b||^2 / (2 sigma^2)),  sigma^2 = median pairwise squared distance of X (the median heuristic)

Its p-value comes from a permutation test (pooled sample reshuffled ``permutations`` times); drift
when ``p < alpha`` (default 0.05) **and** ``MMD^2 >= min_effect`` (default 0.01), so a huge sample
cannot flag a negligible shift. A mean shift of a few tenths of a standard deviation in a 32-d
embedding is flagged at a few hundred vectors; a fresh sample of the same distribution is not.

Vectors arrive from the store as JSON text (``[0.1, 0.2, ...]``); samples are capped (``MAX_SAMPLE``)
so the kernel matrices stay small (500 x 500 doubles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

MAX_SAMPLE = 500
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_EFFECT = 0.01


@dataclass
class EmbeddingDrift:
    statistic: float  # unbiased MMD^2
    p_value: float
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    dim: int

    def to_dict(self) -> dict:
        return {"type": "embedding", "method": "mmd_rbf", "statistic": round(self.statistic, 6),
                "p_value": round(self.p_value, 6), "threshold": self.threshold, "drifted": self.drifted,
                "rows": {"reference": self.n_reference, "current": self.n_current}, "dim": self.dim}


def as_matrix(values, limit: int = MAX_SAMPLE) -> np.ndarray:
    """Rows of equal-length float vectors (lists, arrays or JSON texts) as a 2-d array; bad rows skipped."""
    rows, dim = [], None
    for v in values:
        if isinstance(v, (str, bytes)):
            try:
                v = json.loads(v)
            except ValueError:
                continue
        try:
            arr = np.asarray(v, dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            continue
        dim = dim or arr.size
        if arr.size == dim:
            rows.append(arr)
        if len(rows) >= limit:
            break
    return np.vstack(rows) if rows else np.empty((0, dim or 0))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aa, bb = (a * a).sum(1)[:, None], (b * b).sum(1)[None, :]
    return np.maximum(aa + bb - 2.0 * a @ b.T, 0.0)


def median_bandwidth(x: np.ndarray) -> float:
    d = _sq_dists(x, x)
    iu = np.triu_indices(len(x), 1)
    med = float(np.median(d[iu])) if len(iu[0]) else 1.0
    return med if med > 0 else 1.0


def _mmd2_from_kernel(k: np.ndarray, n: int) -> float:
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    m = k.shape[0] - n
    sxx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def mmd_rbf(x, y, sigma2: float | None = None) -> float:
    """Unbiased squared MMD between samples ``x`` (n x d) and ``y`` (m x d) with an RBF kernel."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sigma2 = sigma2 or median_bandwidth(x)
    z = np.vstack([x, y])
    return _mmd2_from_kernel(np.exp(-_sq_dists(z, z) / (2.0 * sigma2)), len(x))


def embedding_drift(reference, current, *, alpha: float = DEFAULT_ALPHA, min_effect: float = DEFAULT_MIN_EFFECT,
                    permutations: int = 200, seed: int = 0) -> EmbeddingDrift:
    """MMD^2 with a permutation p-value; see the module docstring for the rule."""
    x, y = as_matrix(reference), as_matrix(current)
    if len(x) < 5 or len(y) < 5:
        raise ValueError(f"embedding drift needs at least 5 vectors on each side, got {len(x)} and {len(y)}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"reference vectors have {x.shape[1]} dimensions, current ones {y.shape[1]}")
    sigma2 = median_bandwidth(x)
    z = np.vstack([x, y])
    k = np.exp(-_sq_dists(z, z) / (2.0 * sigma2))
    n = len(x)
    observed = _mmd2_from_kernel(k, n)
    rng = np.random.default_rng(seed)
    # All permutations at once: with group indicators A (N x P), the block sums are quadratic forms
    # of K, so one matrix product K @ A gives every permuted statistic (k(z, z) = 1 on the diagonal).
    total = len(z)
    m = total - n
    a = np.zeros((total, permutations))
    for j in range(permutations):
        a[rng.permutation(total)[:n], j] = 1.0
    b = 1.0 - a
    ka = k @ a
    kb = k.sum(1, keepdims=True) - ka
    sxx = ((a * ka).sum(0) - n) / (n * (n - 1))
    syy = ((b * kb).sum(0) - m) / (m * (m - 1))
    sxy = (b * ka).sum(0) / (n * m)
    hits = int(np.count_nonzero(sxx + syy - 2.0 * sxy >= observed - 1e-12))
    p = (hits + 1) / (permutations + 1)
    return EmbeddingDrift(observed, p, min_effect, bool(p < alpha and observed >= min_effect), len(x), len(y), x.shape[1])


def embedding_profile(values, limit: int = MAX_SAMPLE, seed: int = 0) -> dict:
    """What a reference keeps of a vector column: a random sample of at most ``limit`` vectors."""
    x = as_matrix(values, limit=10 * limit)
    if len(x) > limit:
        x = x[np.random.default_rng(seed).choice(len(x), limit, replace=False)]
    return {"kind": "embedding", "dim": int(x.shape[1]) if x.size else 0, "sample": x.round(6).tolist(),
            "mean": x.mean(0).round(6).tolist() if len(x) else []}


def looks_like_vector(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) >= 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:8])
