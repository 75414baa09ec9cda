"""Kullback-Leibler divergence of the current distribution from the reference.

Definition: ``KL(ref || cur) = sum_i e_i * ln(e_i / a_i)`` (natural log) on binned shares, with empty
bins given a share of 1e-4 like PSI, so the value stays finite when a bin empties. This is the
direction Evidently's ``kl_div`` uses (``scipy.stats.entropy(reference, current)``); scipy renormalises
the smoothed shares, and so do we.

Default threshold: **0.1** (Evidently). Drift when ``KL >= threshold``. Not symmetric; prefer PSI or
Jensen-Shannon when you want a symmetric score.

Reference: ``scipy.stats.entropy(pk, qk)``; interop.md section 7.2.
"""

from __future__ import annotations

import numpy as np

from ._shares import DEFAULT_EPS, as_counts, smoothed_shares

__all__ = ["kl_divergence", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.1


def kl_divergence(ref_counts, cur_counts, eps: float = DEFAULT_EPS) -> float:
    """KL(reference || current) in nats between two aligned count vectors."""
    ref, cur = as_counts(ref_counts, cur_counts)
    p = smoothed_shares(ref, eps)
    q = smoothed_shares(cur, eps)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))
