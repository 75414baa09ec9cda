"""SQL histograms inside the store against reference edges equal numpy's, on DuckDB and chdb."""

from __future__ import annotations

import numpy as np

from watchkeeper.monitors.profile import profile_reference
from watchkeeper.store.queries import drift as q

T0 = 1_700_000_000.0


def _records(rng, n=4000):
    a = rng.normal(10, 3, n)
    a[rng.random(n) < 0.1] = np.nan
    b = rng.lognormal(3, 1, n)
    recs = []
    for i in range(n):
        inputs = {"a": None if np.isnan(a[i]) else float(a[i]), "b": float(b[i]),
                  "c": ["x", "y", "z", "w"][i % 4] if i % 9 else None}
        if i % 97 == 0:
            inputs = {"c": "x"}  # a payload without the numerical features: they count as missing
        recs.append({"model": "m", "inputs": inputs, "output": str(i % 3), "scores": [1 - i / n, i / n],
                     "timestamp": T0 + i, "segment": {"tenant": "acme" if i % 2 else "globex"}})
    return recs


def _numpy_counts(values, edges):
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    fin = v[np.isfinite(v)]
    return np.bincount(np.searchsorted(edges, fin, side="right"), minlength=len(edges) + 1), int((~np.isfinite(v)).sum())


def _as_vector(counts: dict, size: int):
    out = np.zeros(size, dtype=int)
    for k, v in counts.items():
        if k >= 0:
            out[k] = v
    return out


def test_histograms_match_numpy(any_store, load):
    """Per-bin counts, missing counts, categories, class mix and score bins equal numpy on the same rows."""
    rng = np.random.default_rng(3)
    recs = _records(rng)
    load(any_store, recs)
    ref_a = profile_reference(rng.normal(10, 3, 5000), "a")
    ref_b = profile_reference(rng.lognormal(3, 1, 5000), "b")
    score_edges = np.linspace(0, 1, 11)
    h = q.histograms(any_store, "default", "m", int(T0 * 1e6), int((T0 + 10_000) * 1e6),
                     numeric={"a": ref_a.edges, "b": ref_b.edges}, categorical=["c"], score_edges=score_edges,
                     output_label=True)
    for name, ref in (("a", ref_a), ("b", ref_b)):
        expected, missing = _numpy_counts([r["inputs"].get(name) for r in recs], ref.edges)
        assert _as_vector(h["numeric"][name], ref.edges.size + 1).tolist() == expected.tolist()
        assert h["numeric"][name].get(-1, 0) == missing
    cats = {}
    for r in recs:
        cats[r["inputs"].get("c")] = cats.get(r["inputs"].get("c"), 0) + 1
    assert h["categorical"]["c"] == cats
    assert h["categorical"]["@label"] == {"0": 1334, "1": 1333, "2": 1333}
    scores = [r["scores"][1] for r in recs]
    expected, _ = _numpy_counts(scores, score_edges)
    assert _as_vector(h["numeric"]["@score"], score_edges.size + 1).tolist() == expected.tolist()


def test_histograms_respect_window_and_segment(any_store, load):
    """Only rows inside [since, until) of the asked segment are counted."""
    rng = np.random.default_rng(4)
    recs = _records(rng, 2000)
    load(any_store, recs)
    ref = profile_reference(rng.normal(10, 3, 1000), "a")
    h = q.histograms(any_store, "default", "m", int((T0 + 100) * 1e6), int((T0 + 600) * 1e6),
                     numeric={"a": ref.edges}, segment={"tenant": "acme"})
    chosen = [r for r in recs[100:600] if r["segment"]["tenant"] == "acme"]
    assert h["rows"] == len(chosen) == 250
    expected, missing = _numpy_counts([r["inputs"].get("a") for r in chosen], ref.edges)
    assert _as_vector(h["numeric"]["a"], ref.edges.size + 1).tolist() == expected.tolist()


def test_bin_case_edges_are_exact(duck):
    """Values equal to an edge go to the bin above it, as searchsorted(side='right') does."""
    edges = np.array([0.0, 1.0, 2.5, 7.0])
    values = [-1.0, 0.0, 0.5, 1.0, 2.5, 6.999, 7.0, 100.0]
    sql = "SELECT " + ", ".join(f"{q.bin_case(repr(v), edges)} AS b{i}" for i, v in enumerate(values))
    got = list(duck.rows(sql)[0].values())
    assert got == np.searchsorted(edges, values, side="right").tolist()
    assert duck.rows(f"SELECT {q.bin_case('CAST(NULL AS DOUBLE)', edges)} AS b")[0]["b"] == -1
