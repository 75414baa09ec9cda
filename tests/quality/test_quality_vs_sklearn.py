"""Quality metrics computed by SQL in the store agree with scikit-learn on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from watchkeeper.monitors.quality import model_quality

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z

SINCE, UNTIL = int((T0 - 10) * 1e6), int((T0 + 10 * 86400) * 1e6)


def _binary(n: int, seed: int):
    rng = np.random.default_rng(seed)
    score = np.round(rng.beta(2, 3, n), 2)  # rounding makes ties, which AUC must count as half
    truth = (rng.uniform(size=n) < score).astype(int)
    region = rng.choice(["emea", "amer", "apac"], n)
    return score, truth, region


def _load_binary(load, score, truth, region, model="clf"):
    load("predictions", [
        {"model": model, "request_id": f"r{i}", "timestamp": T0 + i, "output": int(s >= 0.5),
         "scores": {"0": 1 - float(s), "1": float(s)}, "model_version": "v1", "segment": {"region": str(g)}}
        for i, (s, g) in enumerate(zip(score, region))])
    load("labels", [{"request_id": f"r{i}", "label": int(y), "timestamp": T0 + i + 60} for i, y in enumerate(truth)])


def _ece(score, truth, bins=10):
    idx = np.minimum((score * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(truth[m].mean() - score[m].mean())
    return total


def _check_classification(metrics, score, truth):
    pred = (score >= 0.5).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(truth, pred).ravel()
    expected = {
        "accuracy": skm.accuracy_score(truth, pred),
        "precision": skm.precision_score(truth, pred),
        "recall": skm.recall_score(truth, pred),
        "f1": skm.f1_score(truth, pred),
        "roc_auc": skm.roc_auc_score(truth, score),
        "false_positive_rate": fp / (fp + tn),
        "brier": skm.brier_score_loss(truth, score),
        "calibration_error": _ece(score, truth),
        "label_coverage": 1.0,
    }
    for name, value in expected.items():
        got = metrics[name]
        assert got["value"] == pytest.approx(value, abs=1e-9), name
        assert got["lower"] <= got["value"] + 1e-12 and got["value"] <= got["upper"] + 1e-12, name


def test_classification_matches_sklearn(store, load):
    """Accuracy, precision, recall, F1, ROC AUC (with ties), FPR, Brier and ECE equal scikit-learn's."""
    score, truth, region = _binary(3000, 1)
    _load_binary(load, score, truth, region)
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=None)
    assert doc["task"] == "classification" and len(doc["summary"]) == 1
    _check_classification(doc["summary"][0]["metrics"], score, truth)


def test_segment_cohorts_match_sklearn_on_each_subset(store, load):
    """Grouping by a segment key gives each cohort the metrics of its own rows."""
    score, truth, region = _binary(3000, 2)
    _load_binary(load, score, truth, region)
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=None, by="segment:region")
    groups = {p["group"]: p["metrics"] for p in doc["summary"]}
    assert set(groups) == {"emea", "amer", "apac"}
    for g, metrics in groups.items():
        m = region == g
        _check_classification(metrics, score[m], truth[m])


def test_classification_on_clickhouse_engine_matches_sklearn(load_chdb):
    """The same query module runs on the ClickHouse engine (chdb) and gives the same numbers."""
    store, load = load_chdb
    score, truth, region = _binary(800, 3)
    _load_binary(load, score, truth, region)
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=3600)
    _check_classification(doc["summary"][0]["metrics"], score, truth)
    assert sum(p["predictions"] for p in doc["series"]) == 800


@pytest.fixture
def load_chdb():
    pytest.importorskip("chdb")
    from watchkeeper.ingest.records import validate
    from watchkeeper.store import open_store

    store = open_store("chdb://:memory:")

    def _load(kind, records, project="default"):
        store.write([validate(kind, records, project)])

    yield store, _load
    store.close()


def test_regression_matches_sklearn(store, load):
    """MAE, RMSE and MAPE equal scikit-learn's; MAPE skips zero labels."""
    rng = np.random.default_rng(4)
    y = rng.normal(100, 30, 1000)
    y[:5] = 0.0
    yhat = y + rng.normal(0, 8, 1000)
    load("predictions", [{"model": "reg", "request_id": f"q{i}", "timestamp": T0 + i, "output": float(v)}
                         for i, v in enumerate(yhat)])
    load("labels", [{"request_id": f"q{i}", "label": float(v), "timestamp": T0 + i} for i, v in enumerate(y)])
    doc = model_quality(store, "default", "reg", since_us=SINCE, until_us=UNTIL, bucket_s=None)
    m = doc["summary"][0]["metrics"]
    assert doc["task"] == "regression"
    assert m["mae"]["value"] == pytest.approx(skm.mean_absolute_error(y, yhat))
    assert m["rmse"]["value"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, yhat)))
    assert m["mape"]["value"] == pytest.approx(skm.mean_absolute_percentage_error(y[5:], yhat[5:]))
    assert m["mape"]["n"] == 995
    for name in ("mae", "rmse", "mape"):
        assert m[name]["lower"] < m[name]["value"] < m[name]["upper"]


def test_ranking_matches_sklearn_ndcg_and_mrr(store, load):
    """NDCG@k (graded and binary relevance) equals scikit-learn's ndcg_score; MRR the mean reciprocal rank."""
    rng = np.random.default_rng(5)
    items = [f"i{j}" for j in range(8)]
    preds, labels, true_rel, scores, rr = [], [], [], [], []
    for i in range(200):
        order = list(rng.permutation(items))
        grades = {it: int(g) for it, g in zip(items, rng.integers(0, 3, len(items)))}
        if i % 3 == 0:  # binary relevance: a list of relevant ids
            rel = [it for it, g in grades.items() if g == 2] or [items[0]]
            labels.append({"request_id": f"k{i}", "label": rel, "timestamp": T0})
            grades = {it: (1 if it in rel else 0) for it in items}
        else:
            labels.append({"request_id": f"k{i}", "label": {k: v for k, v in grades.items() if v}, "timestamp": T0})
        preds.append({"model": "rank", "request_id": f"k{i}", "timestamp": T0 + i, "output": order})
        if not any(grades.values()):
            continue
        true_rel.append([grades[it] for it in items])
        scores.append([len(items) - order.index(it) for it in items])
        first = next((pos for pos, it in enumerate(order, 1) if grades[it] > 0), None)
        rr.append(1.0 / first if first else 0.0)
    load("predictions", preds)
    load("labels", labels)
    doc = model_quality(store, "default", "rank", since_us=SINCE, until_us=UNTIL, bucket_s=None, k=5)
    m = doc["summary"][0]["metrics"]
    assert doc["task"] == "ranking"
    assert m["ndcg_at_k"]["value"] == pytest.approx(skm.ndcg_score(true_rel, scores, k=5))
    assert m["mrr"]["value"] == pytest.approx(np.mean(rr + [0.0] * (200 - len(rr))))


def test_minimum_sample_guard_nulls_value_with_reason(store, load):
    """Below min_samples a metric has value null, no interval and a reason naming the count."""
    score, truth, region = _binary(20, 6)
    _load_binary(load, score, truth, region)
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=None, min_samples=30)
    acc = doc["summary"][0]["metrics"]["accuracy"]
    assert acc["value"] is None and acc["lower"] is None and "at least 30" in acc["reason"] and acc["n"] == 20
    assert doc["summary"][0]["metrics"]["label_coverage"]["value"] == 1.0


def test_label_coverage_counts_unlabelled_predictions(store, load):
    """Label coverage is the share of predictions with a label; metrics use only the labelled ones."""
    score, truth, region = _binary(400, 7)
    _load_binary(load, score, truth, region)
    load("predictions", [{"model": "clf", "request_id": f"u{i}", "timestamp": T0 + i, "output": 1,
                          "scores": [0.1, 0.9], "model_version": "v1"} for i in range(100)])
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=None)
    point = doc["summary"][0]
    assert point["predictions"] == 500 and point["labelled"] == 400
    assert point["label_coverage"] == pytest.approx(0.8)
    _check_classification({**point["metrics"], "label_coverage": {"value": 1.0, "lower": 1, "upper": 1}}, score, truth)
