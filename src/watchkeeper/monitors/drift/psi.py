"""Population Stability Index.

Definition: ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` where ``e_i``/``a_i`` are the reference
("expected") and current ("actual") shares in bin ``i``; empty bins get a share of 1e-4 (Evidently's
``psi.py`` rule). PSI is symmetric in its two arguments and equals the symmetrised KL divergence.

Default threshold: **0.1** (Evidently; the industry table reads < 0.1 stable, 0.1-0.25 investigate,
> 0.25 act). Drift when ``PSI >= threshold``.

Reference: interop.md section 7.3; worked check E=(.25,.25,.25,.25), A=(.1,.2,.3,.4) gives 0.2282.
Binning matters: with k bins PSI has a no-drift bias of about ``(k-1)(1/n_ref + 1/n_cur)``, so numerical
columns are compared on ~10 reference-decile bins (see ``_shares.coarsen``).
"""

from __future__ import annotations

import numpy as np

from ._shares import DEFAULT_EPS, as_counts, smoothed_shares

__all__ = ["psi", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.1


def psi(ref_counts, cur_counts, eps: float = DEFAULT_EPS) -> float:
    """PSI between two aligned count (or share) vectors."""
    ref, cur = as_counts(ref_counts, cur_counts)
    e = smoothed_shares(ref, eps)
    a = smoothed_shares(cur, eps)
    return float(np.sum((a - e) * np.log(a / e)))
