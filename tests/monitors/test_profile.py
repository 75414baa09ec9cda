"""Column profiles: serialisation, merging, counts from elsewhere, and compare()."""

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.errors import SchemaError, UnknownMethod
from watchkeeper.monitors.profile import (
    ColumnProfile, compare, profile_current, profile_from_counts, profile_reference,
)

floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def test_numerical_profile_layout():
    """Edges come from reference quantiles; the reference falls inside them and counts add up."""
    x = np.arange(1000, dtype=float)
    p = profile_reference(x, "x")
    assert p.kind == "numerical" and p.rows == 1000 and p.missing == 0
    assert p.edges[0] == 0 and p.edges[-1] > 999 and p.counts[0] == 0 and p.counts[-1] == 0
    assert p.counts.sum() == 1000 and p.sums.sum() == pytest.approx(x.sum())
    assert p.std == pytest.approx(np.std(x)) and p.min == 0 and p.max == 999


def test_missing_counts_null_nan_and_inf():
    """Missing counts nulls, NaN and infinities; infinities are also counted on their own."""
    p = profile_reference(pa.array([1.0, None, float("nan"), float("inf"), 2.0, 3.0]), "x", kind="numerical")
    assert p.rows == 6 and p.missing == 3 and p.infinite == 1 and p.valid == 3


def test_profile_json_round_trip():
    """to_dict() is JSON-able and from_dict() restores an equal profile, sketches included."""
    rng = np.random.default_rng(0)
    p = profile_reference(rng.normal(size=5000), "x")
    q = ColumnProfile.from_dict(json.loads(json.dumps(p.to_dict())))
    assert np.array_equal(p.edges, q.edges) and np.array_equal(p.counts, q.counts)
    assert q.kll.get_quantile(0.5) == p.kll.get_quantile(0.5) and q.kll.n == 5000
    c = profile_reference(["a", "b", "a", None], "c")
    d = ColumnProfile.from_dict(json.loads(json.dumps(c.to_dict())))
    assert d.categories == {"a": 2, "b": 1} and d.missing == 1
    assert d.frequent.get_estimate("a") == 2


def test_compare_accepts_counts_from_sql():
    """compare() takes a plain counts vector (e.g. computed in SQL over the reference edges)."""
    rng = np.random.default_rng(1)
    ref = profile_reference(rng.normal(size=20_000), "x", sketches=False)
    x = rng.normal(1.0, 1, size=20_000)
    counts = np.bincount(np.searchsorted(ref.edges, x, side="right"), minlength=ref.edges.size + 1)
    result = compare(ref, counts)
    assert result.drifted and result.method == "wasserstein" and result.statistic > 0.8
    sums = np.bincount(np.searchsorted(ref.edges, x, side="right"), weights=x, minlength=ref.edges.size + 1)
    exact = compare(ref, profile_from_counts(ref, counts, sums=sums))
    assert exact.statistic == pytest.approx(compare(ref, profile_current(ref, x)).statistic)


def test_compare_categorical_counts_mapping():
    """A category -> count mapping works as the current side of a categorical compare."""
    ref = profile_reference(["a"] * 600 + ["b"] * 400, "c")
    result = compare(ref, {"a": 100, "b": 100, "z": 800})
    assert result.drifted and result.details["new_categories"] == ["z"]


def test_compare_rejects_unknown_method():
    """An unknown method name raises UnknownMethod listing the valid names."""
    ref = profile_reference(np.arange(100.0), "x")
    with pytest.raises(UnknownMethod, match=r"No drift method named 'psy'\. Available: chi2, hellinger, js, kl, ks"):
        compare(ref, profile_current(ref, np.arange(100.0)), method="psy")


def test_method_for_wrong_type_falls_back_with_note():
    """ks on a categorical column falls back to the categorical default and says so."""
    ref = profile_reference(["a", "b"] * 50, "c")
    result = compare(ref, profile_current(ref, ["a", "b"] * 50), method="ks")
    assert result.method == "chi2" and "numerical columns only" in result.reason


def test_threshold_override():
    """A threshold overrides the method default in both the decision and the report."""
    rng = np.random.default_rng(2)
    ref = profile_reference(rng.normal(size=5000), "x", sketches=False)
    cur = profile_current(ref, rng.normal(0.15, 1, size=5000))
    assert compare(ref, cur).drifted
    relaxed = compare(ref, cur, threshold=0.5)
    assert not relaxed.drifted and relaxed.threshold == 0.5


def test_merge_rejects_different_edges():
    """Profiles over different edges cannot be merged."""
    a = profile_reference(np.arange(10.0), "x")
    b = profile_reference(np.arange(20.0), "x")
    with pytest.raises(SchemaError, match="different bin edges"):
        a.merge(b)


@settings(max_examples=40, deadline=None)
@given(st.lists(floats, max_size=60), st.lists(floats, max_size=60), st.lists(floats, max_size=60))
def test_numerical_merge_is_associative(xs, ys, zs):
    """(a + b) + c and a + (b + c) give the same counts, sums, moments and (exact, small-n) sketch."""
    ref = profile_reference(np.array(xs + ys + zs + [0.0]), "x", kind="numerical")
    a, b, c = (profile_current(ref, np.array(v, dtype=float), sketches=True) for v in (xs, ys, zs))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    assert np.array_equal(left.counts, right.counts)
    assert np.allclose(left.sums, right.sums, rtol=1e-9, atol=1e-3)
    assert left.mean == pytest.approx(right.mean, rel=1e-9, abs=1e-6)
    assert left.m2 == pytest.approx(right.m2, rel=1e-6, abs=1e-3)
    assert left.rows == right.rows == len(xs) + len(ys) + len(zs)
    assert left.kll.n == right.kll.n
    if left.kll.n:
        assert left.kll.get_quantile(0.5) == right.kll.get_quantile(0.5)
    assert np.array_equal(left.values, right.values)


@settings(max_examples=40, deadline=None)
@given(*[st.lists(st.sampled_from(["a", "b", "c", None]), max_size=40) for _ in range(3)])
def test_categorical_merge_is_associative(xs, ys, zs):
    """Category counts and frequent-items estimates merge associatively."""
    a, b, c = (profile_reference(pa.array(v, type=pa.string()), "c", kind="categorical") for v in (xs, ys, zs))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    assert left.categories == right.categories and left.missing == right.missing
    for k in ("a", "b", "c"):
        assert left.frequent.get_estimate(k) == right.frequent.get_estimate(k)
