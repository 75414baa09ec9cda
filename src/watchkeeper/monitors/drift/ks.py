"""Two-sample Kolmogorov-Smirnov test, from raw samples or from binned/sketched CDFs.

Definition: ``D = sup_x |F_ref(x) - F_cur(x)|`` over the two empirical CDFs. Two-sided p-value: exact
or asymptotic as ``scipy.stats.ks_2samp`` chooses for raw samples; for CDFs known only at some points
(histogram edges, KLL sketch split points) the asymptotic form scipy uses for large samples,
``kstwo.sf(D, round(n*m/(n+m)))``.

Binning can only *lower* D (the supremum is taken over fewer points), so the binned test is
conservative: it never reports drift the raw test would not, and with 100 percentile bins D is within
about 0.01 of the raw value.

Default threshold: **0.05** on the p-value, drift when ``p <= threshold`` (Evidently's ``ks`` rule for
numerical columns with <= 1000 reference rows). Use an effect size (normalised Wasserstein) above that:
at millions of rows KS flags shifts of a hundredth of a standard deviation.

Reference: ``scipy.stats.ks_2samp``; interop.md section 7.1-7.2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ks_samples", "ks_from_cdfs", "ks_binned", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.05


def ks_samples(ref_values, cur_values) -> tuple[float, float]:
    """Return ``(D, p_value)`` from two raw samples (NaN removed), exactly as ``scipy.stats.ks_2samp``."""
    ref = np.asarray(ref_values, dtype=float)
    cur = np.asarray(cur_values, dtype=float)
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        raise ValueError("each sample needs at least one non-missing value")
    from scipy import stats  # imported on use: ~1 s, and the large-sample defaults never need it

    result = stats.ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def ks_from_cdfs(ref_cdf, cur_cdf, n_ref: int, n_cur: int) -> tuple[float, float]:
    """Return ``(D, p_value)`` from two CDFs evaluated at the same points (e.g. KLL split points).

    ``n_ref``/``n_cur`` are the sample sizes behind each CDF; they set the p-value, not D.
    """
    fr = np.asarray(ref_cdf, dtype=float)
    fc = np.asarray(cur_cdf, dtype=float)
    if fr.shape != fc.shape:
        raise ValueError("CDFs must be evaluated at the same points")
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("each side needs at least one value")
    d = float(np.max(np.abs(fr - fc))) if fr.size else 0.0
    en = n_ref * n_cur / (n_ref + n_cur)
    from scipy import stats

    p = float(stats.kstwo.sf(d, max(int(round(en)), 1)))
    return d, min(max(p, 0.0), 1.0)


def ks_binned(ref_counts, cur_counts) -> tuple[float, float]:
    """Return ``(D, p_value)`` from aligned histogram counts over shared, ordered bins."""
    ref = np.asarray(ref_counts, dtype=float)
    cur = np.asarray(cur_counts, dtype=float)
    n_ref, n_cur = ref.sum(), cur.sum()
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("each side needs at least one counted value")
    return ks_from_cdfs(np.cumsum(ref) / n_ref, np.cumsum(cur) / n_cur, int(n_ref), int(n_cur))
