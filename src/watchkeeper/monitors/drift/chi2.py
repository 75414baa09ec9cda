"""Chi-square test that the reference and current samples share one distribution.

Definition: the *two-sample* test of homogeneity on the 2 x k contingency table (rows = reference and
current, columns = bins or categories that are non-empty on either side), without Yates' correction:
``X2 = sum (O - E)^2 / E`` with ``E = row_total * col_total / N``, ``dof = k - 1``, p-value from the
chi-square survival function. Equal to ``scipy.stats.chi2_contingency(table, correction=False)``.

We deliberately do *not* run the one-sample goodness-of-fit form (Evidently's ``chisquare``: current
counts against reference shares taken as exact), which ignores the reference's own sampling noise and
flags stable columns at large n (interop.md section 7.5). For a 2 x 2 table this test is the pooled
two-proportion z-test squared, which is what Evidently uses for binary columns.

Default threshold: **0.05** on the p-value. Drift when ``p < threshold``. Use it for small samples
(<= 1000 rows); at millions of rows any p-value test flags practically irrelevant shifts.
"""

from __future__ import annotations

import numpy as np

from ._shares import as_counts

__all__ = ["chi2_test", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.05


def chi2_test(ref_counts, cur_counts) -> tuple[float, float]:
    """Return ``(statistic, p_value)`` of the two-sample chi-square test on aligned counts."""
    ref, cur = as_counts(ref_counts, cur_counts)
    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2:
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    from scipy.special import chdtrc  # imported here: scipy costs ~0.4 s and large-n paths never need it

    p_value = float(chdtrc(table.shape[1] - 1, statistic))
    return statistic, p_value
