"""CBPE: quality estimated from calibrated scores before labels, checked against the realised value."""

from __future__ import annotations

import numpy as np

from watchkeeper.monitors import cbpe
from watchkeeper.monitors.quality import model_quality

T0 = 1_700_000_000.0
SINCE, UNTIL = int((T0 - 10) * 1e6), int((T0 + 86400) * 1e6)
NAMES = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "roc_auc")


def _calibrated(load, n: int, seed: int, label_share: float = 1.0):
    rng = np.random.default_rng(seed)
    score = rng.beta(1.5, 3.0, n)
    truth = (rng.uniform(size=n) < score).astype(int)  # calibrated by construction: P(y=1 | s) = s
    load("predictions", [{"model": "m", "request_id": f"r{i}", "timestamp": T0 + i * 20, "output": int(s >= 0.4),
                          "scores": {"0": 1 - float(s), "1": float(s)}} for i, s in enumerate(score)])
    labelled = np.flatnonzero(rng.uniform(size=n) < label_share)
    load("labels", [{"request_id": f"r{i}", "label": int(truth[i]), "timestamp": T0 + 86400} for i in labelled])


def test_estimate_lands_within_its_interval_of_the_realised_value(store, load):
    """On a calibrated synthetic model every CBPE estimate's interval holds the realised metric."""
    _calibrated(load, 4000, seed=21)
    doc = model_quality(store, "default", "m", since_us=SINCE, until_us=UNTIL, bucket_s=None)
    point = doc["summary"][0]
    for name in NAMES:
        est, real = point["estimated"][name], point["metrics"][name]
        assert est["lower"] <= real["value"] <= est["upper"], (name, est, real["value"])
        assert abs(est["value"] - real["value"]) < 0.05, name
        assert point["estimation_error"][name]["within_interval"] is True
        assert abs(point["estimation_error"][name]["error"] - (est["value"] - real["value"])) < 1e-12


def test_estimate_exists_before_any_label_and_error_is_reported_per_bucket(store, load):
    """With no labels CBPE still estimates; once labels land the series reports error and coverage."""
    _calibrated(load, 3000, seed=22, label_share=0.0)
    doc = model_quality(store, "default", "m", since_us=SINCE, until_us=UNTIL, bucket_s=3 * 3600)
    point = doc["summary"][0]
    assert point["labelled"] == 0 and point["metrics"]["accuracy"]["value"] is None
    assert 0.5 < point["estimated"]["accuracy"]["value"] < 0.9 and point["estimation_error"] == {}

    store.execute("DELETE FROM predictions")
    _calibrated(load, 3000, seed=23)
    doc = model_quality(store, "default", "m", since_us=SINCE, until_us=UNTIL, bucket_s=3 * 3600)
    errors = doc["estimation_error"]
    assert set(errors) == set(NAMES)
    for name in NAMES:
        assert errors[name]["buckets"] == len(doc["series"]) and errors[name]["mean_absolute_error"] < 0.08
        assert errors[name]["coverage"] >= 0.6  # 95% intervals over a handful of buckets


def test_interval_coverage_over_many_draws_is_near_nominal():
    """Across 300 calibrated samples the accuracy and recall intervals cover the realised value ~95% of the time."""
    rng = np.random.default_rng(3)
    hits = {"accuracy": 0, "recall": 0}
    trials = 300
    for t in range(trials):
        s = rng.beta(2, 3, 400)
        y = rng.uniform(size=400) < s
        pp = s >= 0.5
        row = {"e_npp": pp.sum(), "e_npn": (~pp).sum(), "e_tp": s[pp].sum(), "e_tp_var": (s * (1 - s))[pp].sum(),
               "e_fn": s[~pp].sum(), "e_fn_var": (s * (1 - s))[~pp].sum()}
        est = cbpe.estimate(row, None, min_n=30, seed=t)
        tp, fn = (y & pp).sum(), (y & ~pp).sum()
        real = {"accuracy": ((y == pp).mean()), "recall": tp / (tp + fn)}
        for name in hits:
            hits[name] += est[name]["lower"] <= real[name] <= est[name]["upper"]
    for name, h in hits.items():
        assert 0.9 <= h / trials <= 0.99, (name, h / trials)
