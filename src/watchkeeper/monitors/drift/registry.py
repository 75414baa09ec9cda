"""Drift methods by name, with their default thresholds and the default choice per column.

Each :class:`Method` adapts one pure statistic to :class:`Inputs` (aligned counts plus, for numerical
columns, edges, per-bin sums, the reference std and, for small samples, the raw values).

Default choice (``default_method``), by column type and ``n = min(valid reference rows, valid current
rows)``; Evidently judges on the reference alone, we take the smaller side so a small current window
never gets an effect size whose noise floor is above its threshold:

================  =========================  ==================================
column type       n <= 1000                  n > 1000
================  =========================  ==================================
numerical         ``ks``, p < 0.05           ``wasserstein`` (normalised) >= 0.1
categorical       ``chi2``, p < 0.05         ``js`` (Jensen-Shannon) >= 0.1
================  =========================  ==================================

Above 1000 rows we use effect sizes, not p-values: at millions of rows a p-value test flags shifts
nobody would act on (interop.md 7.5). Every column also gets the missing-rate test (``missing.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...errors import UnknownMethod
from .chi2 import DEFAULT_THRESHOLD as CHI2_THRESHOLD, chi2_test
from .hellinger import DEFAULT_THRESHOLD as HELLINGER_THRESHOLD, hellinger
from .js import DEFAULT_THRESHOLD as JS_THRESHOLD, js_distance
from .kl import DEFAULT_THRESHOLD as KL_THRESHOLD, kl_divergence
from .ks import DEFAULT_THRESHOLD as KS_THRESHOLD, ks_binned, ks_samples
from .psi import DEFAULT_THRESHOLD as PSI_THRESHOLD, psi
from .wasserstein import DEFAULT_THRESHOLD as WASSERSTEIN_THRESHOLD, wasserstein_binned, wasserstein_samples
from ._shares import coarsen

__all__ = ["Inputs", "Method", "METHODS", "get_method", "default_method", "SMALL_SAMPLE"]

#: At or below this many valid rows (smaller side) the defaults use p-value tests.
SMALL_SAMPLE = 1000


@dataclass(frozen=True)
class Inputs:
    """What a method needs: aligned counts, plus numerical extras when the column is numerical."""

    kind: str  # "numerical" | "categorical"
    ref_counts: np.ndarray
    cur_counts: np.ndarray
    edges: np.ndarray | None = None
    ref_std: float = 0.0
    ref_sums: np.ndarray | None = None  # per-bin sums of the values, same layout as the counts
    cur_sums: np.ndarray | None = None
    ref_values: np.ndarray | None = None  # exact sorted values when the sample is small
    cur_values: np.ndarray | None = None

    def binned(self) -> tuple[np.ndarray, np.ndarray]:
        """Counts for share-based statistics: ~10 reference-decile bins for numerical columns."""
        if self.kind == "numerical":
            return coarsen(self.ref_counts, self.cur_counts, groups=10)
        return self.ref_counts, self.cur_counts


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "p_value": drift when p < threshold; "distance": drift when statistic >= threshold
    threshold: float
    applies_to: frozenset = field(default=frozenset({"numerical", "categorical"}))
    compute: Callable[[Inputs], tuple[float, float | None]] = field(default=None, repr=False)
    description: str = ""

    def is_drift(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        if self.kind == "p_value":
            return p_value is not None and p_value < threshold
        return statistic >= threshold


def _ks_method(x: Inputs):
    if x.ref_values is not None and x.cur_values is not None:
        return ks_samples(x.ref_values, x.cur_values)
    return ks_binned(x.ref_counts, x.cur_counts)


def _wasserstein_method(x: Inputs):
    if x.ref_values is not None and x.cur_values is not None:
        return wasserstein_samples(x.ref_values, x.cur_values), None
    value = wasserstein_binned(
        x.edges, x.ref_counts, x.cur_counts, x.ref_std, x.ref_sums, x.cur_sums
    )
    return value, None


def _distance(fn):
    return lambda x: (fn(*x.binned()), None)


NUMERICAL = frozenset({"numerical"})

METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("chi2", "p_value", CHI2_THRESHOLD, compute=lambda x: chi2_test(*x.binned()),
               description="two-sample chi-square test of homogeneity (p-value)"),
        Method("hellinger", "distance", HELLINGER_THRESHOLD, compute=_distance(hellinger),
               description="Hellinger distance on binned shares"),
        Method("js", "distance", JS_THRESHOLD, compute=_distance(js_distance),
               description="Jensen-Shannon distance (natural log) on binned shares"),
        Method("kl", "distance", KL_THRESHOLD, compute=_distance(kl_divergence),
               description="KL divergence KL(reference || current) on binned shares"),
        Method("ks", "p_value", KS_THRESHOLD, NUMERICAL, compute=_ks_method,
               description="two-sample Kolmogorov-Smirnov test (p-value)"),
        Method("psi", "distance", PSI_THRESHOLD, compute=_distance(psi),
               description="population stability index on reference-decile bins"),
        Method("wasserstein", "distance", WASSERSTEIN_THRESHOLD, NUMERICAL, compute=_wasserstein_method,
               description="Wasserstein-1 distance in reference standard deviations"),
    ]
}

ALIASES = {"jensenshannon": "js", "chisquare": "chi2", "kl_div": "kl", "wasserstein_norm": "wasserstein"}


def get_method(name: str) -> Method:
    """Look a method up by name (a few Evidently ids are accepted as aliases)."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    try:
        return METHODS[key]
    except KeyError:
        raise UnknownMethod(f"No drift method named {name!r}. Available: {', '.join(sorted(METHODS))}.") from None


def default_method(kind: str, n_ref: int, n_cur: int) -> Method:
    """The default method for a column type and sample size (table in the module docstring)."""
    small = min(n_ref, n_cur) <= SMALL_SAMPLE
    if kind == "numerical":
        return METHODS["ks" if small else "wasserstein"]
    return METHODS["chi2" if small else "js"]
