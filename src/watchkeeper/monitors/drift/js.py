"""Jensen-Shannon distance.

Definition: with ``m = (p + q) / 2``, ``JSD = (KL(p||m) + KL(q||m)) / 2`` in nats and the *distance* is
``sqrt(JSD)``, ranging 0 to sqrt(ln 2) ~ 0.833. Empty bins need no smoothing (``0 * ln 0 = 0``).

Default threshold: **0.1** (Evidently's default for categorical columns with more than 1000 reference
rows; NannyML's default univariate method). Drift when ``distance >= threshold``.

Reference: ``scipy.spatial.distance.jensenshannon(p, q)`` (natural log); interop.md section 7.2 and the
worked check in 7.3 (E=(.25,.25,.25,.25), A=(.1,.2,.3,.4) gives 0.1669).
"""

from __future__ import annotations

import numpy as np

from ._shares import as_counts, shares

__all__ = ["js_distance", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.1


def _kl_terms(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / m[mask])))


def js_distance(ref_counts, cur_counts) -> float:
    """Jensen-Shannon distance (natural log) between two aligned count vectors."""
    ref, cur = as_counts(ref_counts, cur_counts)
    p, q = shares(ref), shares(cur)
    m = (p + q) / 2
    div = (_kl_terms(p, m) + _kl_terms(q, m)) / 2
    return float(np.sqrt(max(div, 0.0)))
