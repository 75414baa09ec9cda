"""New and vanished categories between reference and current.

Definition: ``new`` = categories seen in current but never in reference; ``vanished`` = categories seen
in reference but not in current; ``new_share`` = share of current (non-missing) rows that fall in new
categories. Reported next to the distribution statistic (chi-square or Jensen-Shannon already react
to them); no threshold of its own.

Reference: Evidently's ``ColumnCategoryMetric``/"new categories" data-quality check, and the usual
data-contract rule "the set of allowed values changed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["CategoryChange", "category_changes", "align_categories"]


@dataclass(frozen=True)
class CategoryChange:
    new: list[str]
    vanished: list[str]
    new_share: float


def align_categories(ref: Mapping[str, int], cur: Mapping[str, int]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Union of categories (reference order by count, then new ones by count) and aligned count vectors."""
    keys = sorted(ref, key=lambda k: (-ref[k], k))
    keys += sorted((k for k in cur if k not in ref), key=lambda k: (-cur[k], k))
    r = np.array([ref.get(k, 0) for k in keys], dtype=float)
    c = np.array([cur.get(k, 0) for k in keys], dtype=float)
    return keys, r, c


def category_changes(ref: Mapping[str, int], cur: Mapping[str, int], limit: int = 20) -> CategoryChange:
    """New and vanished categories (at most ``limit`` of each listed, largest first)."""
    new = sorted((k for k, v in cur.items() if v > 0 and ref.get(k, 0) == 0), key=lambda k: (-cur[k], k))
    vanished = sorted((k for k, v in ref.items() if v > 0 and cur.get(k, 0) == 0), key=lambda k: (-ref[k], k))
    total = sum(cur.values())
    new_share = sum(cur[k] for k in new) / total if total else 0.0
    return CategoryChange(new[:limit], vanished[:limit], float(new_share))
