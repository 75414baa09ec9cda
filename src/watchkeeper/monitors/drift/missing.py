"""Missing-rate change: flag a jump in the share of missing values.

Definition: ``delta = missing_cur/n_cur - missing_ref/n_ref``. Drift when ``abs(delta) > min_change``
(default **0.05**, an absolute effect size) *and* the pooled two-proportion z-test gives
``p < alpha`` (default **0.05**), so a tiny sample cannot flag on noise and a huge one cannot flag a
0.1-point wobble.

Why a separate signal: Evidently, NannyML and the other familiar tools drop missing values before
testing, so a column going from 1% to 20% missing with unchanged non-missing values is never flagged
(interop.md section 7.5). Missing here means null, NaN, or an infinite value.

Reference: two-proportion z-test, ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with pooled ``p``,
two-sided ``p-value = 2 * (1 - Phi(|z|))`` (Evidently's ``z`` stattest uses the same form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MissingChange", "missing_rate_change", "DEFAULT_MIN_CHANGE", "DEFAULT_ALPHA"]

DEFAULT_MIN_CHANGE = 0.05
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class MissingChange:
    reference: float
    current: float
    delta: float
    p_value: float
    drifted: bool


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when both rates are 0 or both are 1)."""
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return float(math.erfc(abs(z) / math.sqrt(2)))  # = 2 * (1 - Phi(|z|))


def missing_rate_change(
    missing_ref: int,
    n_ref: int,
    missing_cur: int,
    n_cur: int,
    min_change: float = DEFAULT_MIN_CHANGE,
    alpha: float = DEFAULT_ALPHA,
) -> MissingChange:
    """Compare missing shares of reference and current; see the module docstring for the rule."""
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("each side needs at least one row")
    r, c = missing_ref / n_ref, missing_cur / n_cur
    p = two_proportion_p_value(missing_ref, n_ref, missing_cur, n_cur)
    return MissingChange(r, c, c - r, p, bool(abs(c - r) > min_change and p < alpha))
