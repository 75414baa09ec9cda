"""Hellinger distance.

Definition: ``H = sqrt(1 - sum_i sqrt(p_i * q_i))`` = ``||sqrt(p) - sqrt(q)||_2 / sqrt(2)``, in [0, 1],
on binned shares (no smoothing needed).

Default threshold: **0.1** (Evidently's ``hellinger`` default). Drift when ``H >= threshold``.

Reference: Hellinger (1909); Evidently ``hellinger_distance.py`` and NannyML's ``hellinger`` method use
the same normalisation. Checked against the closed form on two Bernoulli distributions in the tests.
"""

from __future__ import annotations

import numpy as np

from ._shares import as_counts, shares

__all__ = ["hellinger", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.1


def hellinger(ref_counts, cur_counts) -> float:
    """Hellinger distance between two aligned count vectors."""
    ref, cur = as_counts(ref_counts, cur_counts)
    # the difference form is exact at 0, where 1 - sum(sqrt(p q)) loses everything to rounding
    diff = np.sqrt(shares(ref)) - np.sqrt(shares(cur))
    return float(min(np.sqrt(np.sum(diff * diff) / 2), 1.0))
