"""Quality over time from one join per request: per-bucket metrics, engines agreeing, batched draws."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from watchkeeper.ingest.timestamps import parse_timestamp_us
from watchkeeper.monitors import cbpe
from watchkeeper.monitors.intervals import ece_bootstrap, ece_bootstrap_many, f1_bootstrap, f1_bootstrap_many
from watchkeeper.monitors.quality import model_quality

T0 = 1_699_999_200  # a whole hour
HOUR = 3600
SINCE, UNTIL = (T0 - 10) * 10**6, (T0 + 6 * HOUR) * 10**6


def _data(n: int, seed: int):
    """Predictions over 6 hours in 3 versions with tied scores, unscored and unlabelled rows, label
    words, and corrections (a later label, and one at the same timestamp: the greater text wins)."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.beta(2, 3, n), 2)
    truth = (rng.uniform(size=n) < score).astype(int)
    ts = T0 + np.sort(rng.integers(0, 6 * HOUR, n))
    preds, labels = [], []
    for i in range(n):
        p = {"model": "clf", "request_id": f"r{i}", "timestamp": int(ts[i]), "model_version": f"v{i % 3}",
             "output": int(score[i] >= 0.5), "segment": {"region": ["emea", "amer"][i % 2]}}
        if i % 17:
            p["scores"] = {"0": 1 - float(score[i]), "1": float(score[i])}
        preds.append(p)
        if i % 7 == 0:
            continue
        labels.append({"request_id": f"r{i}", "label": ["no", "yes"][truth[i]] if i % 5 == 0 else int(truth[i]),
                       "timestamp": int(ts[i]) + 60})
        if i % 11 == 0:
            labels.append({"request_id": f"r{i}", "label": int(1 - truth[i]), "timestamp": int(ts[i]) + 30})
        if i % 13 == 0 and truth[i] == 1:
            labels.append({"request_id": f"r{i}", "label": 0, "timestamp": int(ts[i]) + 60})
    return preds, labels, score, truth, ts


def test_every_bucket_and_the_whole_window_match_sklearn(store, load):
    """With a series, each bucket's and the summary's ROC AUC (with ties), accuracy, F1, FPR and
    Brier equal scikit-learn's on that bucket's labelled rows, although all come from one query."""
    preds, labels, score, truth, ts = _data(2400, 1)
    load("predictions", preds)
    load("labels", labels)
    doc = model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=HOUR, min_samples=1)
    idx = np.arange(len(preds))
    version, labelled, scored = idx % 3, idx % 7 != 0, idx % 17 != 0
    pred = (score >= 0.5).astype(int)
    assert len(doc["series"]) == 18 and len(doc["summary"]) == 3
    for p in doc["series"] + doc["summary"]:
        rows = labelled & (version == int(p["group"][1:]))
        if "time" in p:
            rows &= (ts // HOUR) * HOUR == parse_timestamp_us(p["time"]) // 10**6
        y, yh = truth[rows], pred[rows]
        tn, fp, fn, tp = skm.confusion_matrix(y, yh, labels=[0, 1]).ravel()
        expected = {"accuracy": skm.accuracy_score(y, yh), "f1": skm.f1_score(y, yh),
                    "false_positive_rate": fp / (fp + tn),
                    "roc_auc": skm.roc_auc_score(y[scored[rows]], score[rows & scored]),
                    "brier": skm.brier_score_loss(y[scored[rows]], score[rows & scored])}
        assert p["labelled"] == rows.sum()
        for name, value in expected.items():
            assert p["metrics"][name]["value"] == pytest.approx(value, abs=1e-9), (p.get("time"), p["group"], name)


def test_one_join_of_labels_per_request(store, load):
    """The series and the summary of a classification request read the labels table in one statement."""
    preds, labels, *_ = _data(300, 2)
    load("predictions", preds)
    load("labels", labels)
    statements = []
    rows = store.rows
    store.rows = lambda sql, params=(): (statements.append(sql), rows(sql, params))[1]
    try:
        model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL, bucket_s=HOUR)
    finally:
        del store.rows
    assert sum("FROM labels" in s for s in statements) == 1 and len(statements) == 2


def _documents(store, load):
    preds, labels, *_ = _data(1500, 3)
    load("predictions", preds)
    load("labels", labels)
    return {(by, bucket, positive): model_quality(store, "default", "clf", since_us=SINCE, until_us=UNTIL,
                                                  bucket_s=bucket, by=by, positive=positive, min_samples=5)
            for by in ("model_version", "segment:region") for bucket in (None, HOUR) for positive in ("1", "0")}


def _close(a, b, path=()):
    if isinstance(a, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for k in a:
            _close(a[k], b[k], path + (k,))
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, path + (i,))
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert a == pytest.approx(b, abs=1e-9), path
    else:
        assert a == b, path


def test_clickhouse_engine_gives_the_same_documents(store, load):
    """The one-pass query gives the same documents (series, summary, CBPE, intervals) on chdb as on DuckDB."""
    pytest.importorskip("chdb")
    from watchkeeper.ingest.records import validate
    from watchkeeper.store import open_store

    duck = _documents(store, load)
    ch = open_store("chdb://:memory:")
    try:
        docs = _documents(ch, lambda kind, records: ch.write([validate(kind, records, "default")]))
    finally:
        ch.close()
    assert any(p["metrics"]["roc_auc"]["value"] for d in docs.values() for p in d["series"])
    _close(duck, docs)


def test_cbpe_expected_auc_is_close_to_the_exact_one(store, load):
    """The CBPE expected ROC AUC, from score levels, is within 1e-5 of the exact expectation over
    every pair of scored predictions (continuous scores, so levels hold several distinct scores)."""
    rng = np.random.default_rng(4)
    s = rng.beta(2, 3, 3000)
    load("predictions", [{"model": "m", "request_id": f"c{i}", "timestamp": T0 + i, "output": int(v >= 0.5),
                          "scores": [1 - float(v), float(v)]} for i, v in enumerate(s)])
    doc = model_quality(store, "default", "m", since_us=SINCE, until_us=UNTIL, bucket_s=None)
    order = np.sort(s)
    below = np.concatenate([[0.0], np.cumsum(1 - order)[:-1]])  # sum of (1 - s_j) over s_j < s_i
    exact = (np.sum(order * below) + 0.5 * np.sum(order * (1 - order))) / (s.sum() * (1 - s).sum())
    assert doc["summary"][0]["estimated"]["roc_auc"]["value"] == pytest.approx(exact, abs=1e-5)


def test_batched_intervals_equal_one_at_a_time():
    """Intervals computed for many points at once are those of each point alone, in order,
    including points with nothing to estimate."""
    rng = np.random.default_rng(5)
    counts = [tuple(int(v) for v in rng.integers(0, 60, 4)) for _ in range(25)] + [(0, 0, 0, 0), (0, 0, 0, 9)]
    assert f1_bootstrap_many(counts) == [f1_bootstrap(*c) for c in counts]
    bins = [(rng.integers(0, 40, 10).astype(float), None, rng.uniform(0, 1, 10)) for _ in range(20)]
    bins = [(c, np.floor(c * rng.uniform(0, 1, 10)), c * s) for c, _, s in bins] + [(np.zeros(10),) * 3]
    assert ece_bootstrap_many(bins) == [ece_bootstrap(*b) for b in bins]
    rows = [{"e_npp": a, "e_npn": b, "e_tp": a * 0.7, "e_tp_var": a * 0.2, "e_fn": b * 0.1, "e_fn_var": b * 0.09}
            for a, b in rng.integers(0, 80, (30, 2))] + [{"e_npp": 0, "e_npn": 0}]
    aucs = [{"eu": 10.0, "e_pos": 5.0, "e_neg": 4.0}] * len(rows)
    assert cbpe.estimate_many(rows, aucs, min_n=30) == [cbpe.estimate(r, a, min_n=30) for r, a in zip(rows, aucs)]
    assert cbpe.estimate_many(rows, aucs, min_n=30)[-1] is None
