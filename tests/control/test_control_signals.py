"""Built-in signals against a real DuckDB store, checked by hand-counted data."""

from __future__ import annotations

import pytest
from watchkeeper.control import signals
from watchkeeper.ingest.records import validate
from watchkeeper.store.duckdb import DuckDBStore
from watchkeeper.store.queries import control as q

T0 = 1_700_000_000.0
US = 1_000_000


@pytest.fixture
def store():
    s = DuckDBStore(":memory:")
    s.migrate()
    preds = []
    for i in range(100):
        preds.append({"request_id": f"r{i}", "model": "m", "model_version": "v2" if i >= 50 else "v1",
                      "release": "rel-b" if i >= 50 else "rel-a", "timestamp": T0 + i, "output": 1 if i % 10 == 0 else 0,
                      "latency_ms": float(i), "cost": 0.01, "error": "boom" if i % 25 == 0 else None,
                      "segment": {"country": "US" if i % 2 else "GB"},
                      "inputs": {"amount": None if i % 4 == 0 else 1.0, "country": "US"}})
    labels = [{"request_id": f"r{i}", "label": 0, "timestamp": T0 + 200} for i in range(0, 100, 2)]
    # a duplicate label: r10's later label (1) replaces its first one (0)
    labels.append({"request_id": "r10", "label": 1, "timestamp": T0 + 300})
    s.write([validate("predictions", preds, "p"), validate("labels", labels, "p")])
    yield s
    s.close()


def _v(store, name, scope=None, **params):
    return signals.compute(name, store, "p", scope or {"model": "m"}, int(T0 * US), int((T0 + 100) * US), params)


def test_traffic_signals(store):
    """Error rate, throughput, cost and the latency median match hand counts."""
    assert _v(store, "error_rate") == pytest.approx(4 / 100)
    assert _v(store, "throughput_rps") == pytest.approx(1.0)
    assert _v(store, "cost_per_request") == pytest.approx(0.01)
    assert _v(store, "latency_p50_ms") == pytest.approx(49.5)


def test_confusion_with_latest_label_winning(store):
    """Even requests are labelled 0 except r10, whose later label 1 wins: one TP (r10), nine FPs (r0, r20, ... r90)."""
    c = q.confusion(store, "p", {"model": "m"}, int(T0 * US), int((T0 + 100) * US))
    assert c == {"tp": 1, "fp": 9, "fn": 0, "tn": 40, "correct": 41, "labelled": 50}
    assert _v(store, "false_positive_rate") == pytest.approx(9 / 49)
    assert _v(store, "precision") == pytest.approx(1 / 10)
    assert _v(store, "accuracy") == pytest.approx(41 / 50)
    assert _v(store, "label_coverage") == pytest.approx(0.5)


def test_scope_by_release_and_segment(store):
    """Release and segment scopes select their rows only."""
    assert _v(store, "error_rate", {"model": "m", "release": "rel-b"}) == pytest.approx(2 / 50)
    assert _v(store, "throughput_rps", {"model": "m", "segment": {"country": "US"}}) == pytest.approx(0.5)
    assert _v(store, "error_rate", {"model": "other"}) is None


def test_missing_rate_needs_a_feature(store):
    """missing_rate counts null/absent values of the named feature; without one it says what is missing."""
    assert _v(store, "missing_rate", feature="amount") == pytest.approx(0.25)
    from watchkeeper.errors import UnknownMethod

    with pytest.raises(UnknownMethod, match="params.feature"):
        _v(store, "missing_rate")
    with pytest.raises(UnknownMethod, match="known signals"):
        _v(store, "no_such_signal")


def test_shadow_disagreement_on_identical_inputs(store):
    """Two releases' outputs on the same input payload are paired and compared."""
    store.write([validate("predictions", [
        {"request_id": "s1", "model": "m", "model_version": "v9", "release": "shadow", "timestamp": T0 + 1,
         "output": 1, "inputs": {"k": 1}},
        {"request_id": "s2", "model": "m", "model_version": "v9", "release": "shadow", "timestamp": T0 + 2,
         "output": 0, "inputs": {"k": 2}},
        {"request_id": "p1", "model": "m", "model_version": "v8", "release": "prim", "timestamp": T0 + 1,
         "output": 0, "inputs": {"k": 1}},
        {"request_id": "p2", "model": "m", "model_version": "v8", "release": "prim", "timestamp": T0 + 2,
         "output": 0, "inputs": {"k": 2}}], "p")])
    d = q.shadow_disagreement(store, "p", {"release": "prim"}, {"release": "shadow"}, int(T0 * US), int((T0 + 100) * US), "inputs")
    assert d == {"pairs": 2, "differ": 1, "rate": 0.5, "join": "inputs"}


def test_optional_signals_are_wired_when_present():
    """Other modules' signals are registered lazily; the ones present show up in the registry."""
    wired = signals.load_optional(force=True)
    for name in wired:
        assert name in signals.names()
