"""Drift statistics: one small module per method, each a pure function over aligned counts.

=================  ==========================  ==========  =============================
name               function                    threshold   drift when
=================  ==========================  ==========  =============================
``psi``            ``psi.psi``                 0.1         statistic >= threshold
``ks``             ``ks.ks_samples/ks_binned`` 0.05        p-value < threshold
``wasserstein``    ``wasserstein.*``           0.1         normalised W1 >= threshold
``js``             ``js.js_distance``          0.1         statistic >= threshold
``kl``             ``kl.kl_divergence``        0.1         statistic >= threshold
``hellinger``      ``hellinger.hellinger``     0.1         statistic >= threshold
``chi2``           ``chi2.chi2_test``          0.05        p-value < threshold
(missing rate)     ``missing.missing_rate_change``  |delta| > 0.05 and p < 0.05
(categories)       ``categories.category_changes``  reported, no threshold
=================  ==========================  ==========  =============================

``registry.get_method(name)`` looks one up; ``registry.default_method`` picks per type and size.
"""

from __future__ import annotations

from .categories import category_changes
from .chi2 import chi2_test
from .hellinger import hellinger
from .js import js_distance
from .kl import kl_divergence
from .ks import ks_binned, ks_from_cdfs, ks_samples
from .missing import missing_rate_change
from .psi import psi
from .registry import METHODS, default_method, get_method
from .wasserstein import wasserstein_binned, wasserstein_samples

__all__ = [
    "METHODS", "category_changes", "chi2_test", "default_method", "get_method", "hellinger", "js_distance",
    "kl_divergence", "ks_binned", "ks_from_cdfs", "ks_samples", "missing_rate_change", "psi",
    "wasserstein_binned", "wasserstein_samples",
]
