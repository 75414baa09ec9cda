"""Column profiles: summarise a column once, compare it later, merge profiles of the same column.

A numerical profile keeps histogram counts over bin edges taken from the *reference* quantiles
(100 percentile bins by default, duplicates dropped), plus one bin below and one above the
reference range. Bin ``j`` holds ``edges[j-1] <= x < edges[j]`` (``edges[-1]`` and ``edges[k+1]``
being -inf/+inf), i.e. ``j = searchsorted(edges, x, side="right")``, so a store can count a current
window in SQL with the same rule and hand the counts to :func:`compare`. The top edge is the
reference maximum nudged up one ulp, so the maximum itself is inside the range.

Each bin also keeps the sum of its values (``SUM(x) ... GROUP BY bin`` in SQL), which makes the
binned Wasserstein distance exact except where the two CDFs cross inside a bin.

A categorical profile keeps exact category counts. Both kinds keep row and missing counts (missing =
null, NaN or +-inf), and optionally Apache DataSketches: a KLL quantile sketch (numerical) and a
frequent-items sketch (categorical). Small columns (<= 1000 valid values) also keep the sorted values,
so KS and Wasserstein are exact there.

Profiles serialise to JSON-able dicts (:meth:`ColumnProfile.to_dict` / :meth:`ColumnProfile.from_dict`)
and merge associatively when they share edges (:meth:`ColumnProfile.merge`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SchemaError
from .columns import infer_kind, kind_of_type, to_categorical, to_numeric
from .drift.compare import ColumnResult, compare

__all__ = [
    "ColumnProfile", "profile_reference", "profile_current", "profile_from_counts", "compare", "ColumnResult",
    "as_arrow", "DEFAULT_BINS", "EXACT_LIMIT",
]

DEFAULT_BINS = 100
#: Columns with at most this many valid values keep them, for exact KS/Wasserstein.
EXACT_LIMIT = 1000
#: Edges come from a strided sample of at most this many reference values (counts are always exact).
EDGE_SAMPLE = 200_000
KLL_K = 200
FREQUENT_LG_MAP = 10


@dataclass
class ColumnProfile:
    """Summary of one column; see the module docstring for the bin layout."""

    name: str
    kind: str  # "numerical" | "categorical"
    rows: int = 0
    missing: int = 0
    infinite: int = 0
    edges: np.ndarray | None = None
    counts: np.ndarray | None = None
    sums: np.ndarray | None = None
    mean: float = 0.0
    m2: float = 0.0
    min: float | None = None
    max: float | None = None
    values: np.ndarray | None = None
    categories: dict[str, int] | None = None
    kll: object | None = field(default=None, repr=False)
    frequent: object | None = field(default=None, repr=False)

    @property
    def valid(self) -> int:
        return self.rows - self.missing

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    @property
    def std(self) -> float:
        """Population standard deviation of the valid values (``numpy.std`` with ddof=0)."""
        return float(np.sqrt(self.m2 / self.valid)) if self.valid > 0 else 0.0

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Profile of the two inputs' rows together; both must share kind and edges."""
        if self.kind != other.kind:
            raise SchemaError(f"cannot merge a {self.kind} profile with a {other.kind} profile")
        out = replace(self, rows=self.rows + other.rows, missing=self.missing + other.missing,
                      infinite=self.infinite + other.infinite)
        if self.kind == "numerical":
            if not np.array_equal(self.edges, other.edges):
                raise SchemaError(f"cannot merge profiles of {self.name!r} with different bin edges")
            out.counts = self.counts + other.counts
            out.sums = None if self.sums is None or other.sums is None else self.sums + other.sums
            out.mean, out.m2 = _combine_moments(self.valid, self.mean, self.m2, other.valid, other.mean, other.m2)
            out.min = _opt(min, self.min, other.min)
            out.max = _opt(max, self.max, other.max)
            both = [v for v in (self.values, other.values) if v is not None]
            exact = self.values is not None and other.values is not None and out.valid <= EXACT_LIMIT
            out.values = np.sort(np.concatenate(both)) if exact else None
        else:
            cats = dict(self.categories or {})
            for k, v in (other.categories or {}).items():
                cats[k] = cats.get(k, 0) + v
            out.categories = cats
        out.kll = _merge_sketch(self.kll, other.kll)
        out.frequent = _merge_sketch(self.frequent, other.frequent)
        return out

    def to_dict(self) -> dict:
        """JSON-able dict; :meth:`from_dict` reverses it."""
        d = {"version": 1, "name": self.name, "kind": self.kind, "rows": self.rows, "missing": self.missing,
             "infinite": self.infinite}
        if self.kind == "numerical":
            d.update(edges=self.edges.tolist(), counts=self.counts.astype(np.int64).tolist(),
                     sums=None if self.sums is None else self.sums.tolist(), mean=float(self.mean), m2=float(self.m2),
                     min=self.min, max=self.max,
                     values=None if self.values is None else self.values.tolist())
        else:
            d["categories"] = dict(self.categories or {})
        d["sketches"] = {k: _b64(s) for k, s in (("kll", self.kll), ("frequent", self.frequent)) if s is not None}
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnProfile:
        import datasketches as ds

        p = cls(name=d["name"], kind=d["kind"], rows=int(d["rows"]), missing=int(d["missing"]),
                infinite=int(d.get("infinite", 0)))
        if p.kind == "numerical":
            p.edges = np.asarray(d["edges"], dtype=float)
            p.counts = np.asarray(d["counts"], dtype=np.int64)
            p.sums = None if d.get("sums") is None else np.asarray(d["sums"], dtype=float)
            p.mean, p.m2, p.min, p.max = float(d["mean"]), float(d["m2"]), d["min"], d["max"]
            p.values = None if d.get("values") is None else np.asarray(d["values"], dtype=float)
        else:
            p.categories = {str(k): int(v) for k, v in d["categories"].items()}
        sk = d.get("sketches", {})
        if "kll" in sk:
            p.kll = ds.kll_doubles_sketch.deserialize(base64.b64decode(sk["kll"]))
        if "frequent" in sk:
            p.frequent = ds.frequent_strings_sketch.deserialize(base64.b64decode(sk["frequent"]))
        return p


def _opt(fn, a, b):
    vals = [v for v in (a, b) if v is not None]
    return fn(vals) if vals else None


def _combine_moments(n1, mean1, m2_1, n2, mean2, m2_2):
    """Chan et al. parallel update of (mean, sum of squared deviations)."""
    n = n1 + n2
    if n == 0:
        return 0.0, 0.0
    delta = mean2 - mean1
    return mean1 + delta * n2 / n, m2_1 + m2_2 + delta * delta * n1 * n2 / n


def _b64(sketch) -> str:
    return base64.b64encode(sketch.serialize()).decode("ascii")


def _merge_sketch(a, b):
    if a is None or b is None:
        return None
    out = type(a).deserialize(a.serialize())
    out.merge(b)
    return out


def as_arrow(values) -> pa.ChunkedArray:
    """Any column-like input (Arrow, numpy, pandas Series, list) as an Arrow ChunkedArray."""
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    try:
        return pa.chunked_array([pa.array(values, from_pandas=True)])
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: compare as text
        obj = np.asarray(values, dtype=object)
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in obj], dtype=bool)
        text = np.where(missing, None, obj.astype(str))
        return pa.chunked_array([pa.array(text, type=pa.string())])


def _float_chunks(values: pa.ChunkedArray):
    """Yield ``(finite_values, missing, infinite, rows)`` per chunk without copying clean float chunks."""
    for chunk in values.chunks:
        if len(chunk) == 0:
            continue
        arr = chunk.to_numpy(zero_copy_only=False)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        finite = np.isfinite(arr)
        bad = arr.size - int(np.count_nonzero(finite))
        infinite = int(np.count_nonzero(np.isinf(arr))) if bad else 0
        yield (arr[finite] if bad else arr), bad, infinite, arr.size


def _edges_from(parts: list[np.ndarray], valid: int, lo: float, hi: float, bins: int) -> np.ndarray:
    step = max(1, -(-valid // EDGE_SAMPLE))
    sample = np.concatenate([p[::step] for p in parts]) if parts else np.empty(0)
    q = np.quantile(sample, np.linspace(0, 1, bins + 1)) if sample.size else np.array([lo])
    q[0], q[-1] = lo, hi
    edges = np.unique(q)
    edges[-1] = np.nextafter(hi, np.inf)
    if edges.size == 1:
        edges = np.array([lo, np.nextafter(hi, np.inf)])
    return edges


def _bin_stats(arr: np.ndarray, edges: np.ndarray, block: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Counts and value sums per bin (profile layout) in one pass: sort a block, bisect the edges into it.

    This is what ``np.histogram`` does internally for uneven bins, plus one cumulative sum for the sums.
    """
    counts = np.zeros(edges.size + 1, dtype=np.int64)
    sums = np.zeros(edges.size + 1)
    for start in range(0, arr.size, block):
        sa = np.sort(arr[start:start + block])
        cut = np.r_[0, np.searchsorted(sa, edges, side="left"), sa.size]
        cs = np.r_[0.0, np.cumsum(sa)]
        counts += np.diff(cut)
        sums += np.diff(cs[cut])
    return counts, sums


def _count_numeric(p: ColumnProfile, parts: list[np.ndarray]) -> None:
    """Fill counts, sums and moments of ``p`` from finite value chunks, against ``p.edges``."""
    counts = np.zeros(p.edges.size + 1, dtype=np.int64)
    sums = np.zeros(p.edges.size + 1)
    n, mean, m2 = 0, 0.0, 0.0
    for arr in parts:
        if arr.size == 0:
            continue
        c, s = _bin_stats(arr, p.edges)
        counts += c
        sums += s
        m = float(arr.mean())
        n, mean, m2 = n + arr.size, *_combine_moments(n, mean, m2, arr.size, m, float(np.square(arr - m).sum()))
    p.counts, p.sums, p.mean, p.m2 = counts, sums, mean, m2


def _numeric_profile(name, values, edges, bins, sketches) -> ColumnProfile:
    parts, rows, missing, infinite = [], 0, 0, 0
    kll = None
    if sketches:
        import datasketches as ds

        kll = ds.kll_doubles_sketch(KLL_K)
    for arr, bad, inf, size in _float_chunks(to_numeric(values)):
        parts.append(arr)
        rows, missing, infinite = rows + size, missing + bad, infinite + inf
        if kll is not None:
            for start in range(0, arr.size, 1 << 20):  # the binding wants a writable array: copy in slices
                kll.update(np.array(arr[start:start + (1 << 20)], dtype=np.float64))
    valid = rows - missing
    lo = min((float(a.min()) for a in parts if a.size), default=None)
    hi = max((float(a.max()) for a in parts if a.size), default=None)
    if edges is None:
        edges = _edges_from(parts, valid, lo, hi, bins) if valid else np.array([0.0, np.nextafter(0.0, 1.0)])
    p = ColumnProfile(name, "numerical", rows=rows, missing=missing, infinite=infinite, edges=edges,
                      min=lo, max=hi, kll=kll)
    _count_numeric(p, parts)
    if valid <= EXACT_LIMIT:
        p.values = np.sort(np.concatenate(parts)) if parts else np.empty(0)
    return p


def _categorical_profile(name, values, sketches) -> ColumnProfile:
    text = to_categorical(values)
    vc = pc.value_counts(text)
    keys = vc.field("values")
    if pa.types.is_dictionary(keys.type):
        keys = keys.cast(keys.type.value_type)
    cats = {k: int(c) for k, c in zip(keys.to_pylist(), vc.field("counts").to_pylist()) if k is not None}
    p = ColumnProfile(name, "categorical", rows=len(values), missing=int(values.null_count), categories=cats)
    p.missing = p.rows - sum(cats.values())
    if sketches:
        import datasketches as ds

        p.frequent = ds.frequent_strings_sketch(FREQUENT_LG_MAP)
        for k, c in cats.items():
            p.frequent.update(k, c)
    return p


def profile_reference(values, name: str = "", kind: str | None = None, bins: int = DEFAULT_BINS,
                      sketches: bool = True) -> ColumnProfile:
    """Profile a reference column once: edges from its quantiles, counts, moments, sketches.

    ``kind`` is ``"numerical"`` or ``"categorical"``; left out, it is inferred (see ``columns.py``).
    ``sketches=False`` skips the DataSketches (about 35 ns a value), which the drift report does not use.
    """
    arr = as_arrow(values)
    kind = kind or infer_kind(arr)
    if kind in ("datetime", "null"):
        kind = "numerical"
    if pa.types.is_null(arr.type):  # all-null column: profile as an empty column of the asked kind
        arr = arr.cast(pa.float64() if kind == "numerical" else pa.string())
    if kind == "numerical":
        if kind_of_type(arr.type) not in ("numerical", "datetime"):
            raise SchemaError(f"column {name!r} has type {arr.type}, which is not numerical")
        return _numeric_profile(name, arr, None, bins, sketches)
    if kind == "categorical":
        return _categorical_profile(name, arr, sketches)
    raise SchemaError(f"column {name!r} has type {arr.type}, which drift cannot compare")


def profile_current(reference: ColumnProfile, values, sketches: bool = False) -> ColumnProfile:
    """Profile a current column against the reference's bin edges (or as categories)."""
    arr = as_arrow(values)
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.float64() if reference.kind == "numerical" else pa.string())
    if reference.kind == "numerical":
        if kind_of_type(arr.type) not in ("numerical", "datetime"):
            raise SchemaError(f"column {reference.name!r} is numerical in the reference but {arr.type} here")
        return _numeric_profile(reference.name, arr, reference.edges, DEFAULT_BINS, sketches)
    return _categorical_profile(reference.name, arr, sketches)


def profile_from_counts(reference: ColumnProfile, counts, missing: int = 0, sums=None) -> ColumnProfile:
    """A current profile from counts computed elsewhere (e.g. SQL over the reference edges).

    Numerical: ``counts`` has ``len(reference.edges) + 1`` entries in the profile's bin layout and
    ``sums`` the per-bin sums of the values (``SUM(x) ... GROUP BY bin``; optional, they make Wasserstein
    exact). Categorical: a mapping category -> count.
    """
    if reference.kind == "categorical":
        cats = {str(k): int(v) for k, v in dict(counts).items()}
        return ColumnProfile(reference.name, "categorical", rows=sum(cats.values()) + missing, missing=missing,
                             categories=cats)
    c = np.asarray(counts, dtype=np.int64)
    if c.size != reference.edges.size + 1:
        raise SchemaError(f"expected {reference.edges.size + 1} counts for column {reference.name!r}, got {c.size}")
    return ColumnProfile(reference.name, "numerical", rows=int(c.sum()) + missing, missing=missing,
                         edges=reference.edges, counts=c, sums=None if sums is None else np.asarray(sums, float))
