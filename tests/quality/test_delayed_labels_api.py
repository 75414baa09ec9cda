"""Delayed labels through the HTTP API: any arrival order, duplicates, unknown ids and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DAY = 86400
QUALITY = "/api/v1/models/fraud/quality"
WINDOW = {"since": str(T0 - 60), "until": str(T0 + DAY), "bucket": "3600"}


def _post(client, kind, records):
    r = client.post(f"/api/v1/{kind}", json=records)
    assert r.status_code == 200, r.text
    return r.json()


def _summary(client, **params):
    r = client.get(QUALITY, params={**WINDOW, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_weeks_labels_in_random_order_give_the_joined_numbers(client):
    """Labels for a day's predictions arriving over the next week, shuffled, some before their
    predictions, end at exactly the numbers of computing on the joined data at once."""
    rng = np.random.default_rng(11)
    n = 1500
    ts = np.sort(rng.uniform(T0, T0 + DAY - 1, n))
    score = rng.beta(2, 5, n)
    truth = (rng.uniform(size=n) < score).astype(int)
    early = rng.uniform(size=n) < 0.1  # labels posted before the prediction exists
    labels = [{"request_id": f"r{i}", "label": int(truth[i]), "timestamp": float(ts[i] + rng.uniform(0, 7 * DAY))}
              for i in range(n)]
    _post(client, "labels", [labels[i] for i in np.flatnonzero(early)])
    preds = [{"model": "fraud", "request_id": f"r{i}", "timestamp": float(ts[i]), "output": int(score[i] >= 0.5),
              "scores": {"1": float(score[i])}, "model_version": "v1"} for i in range(n)]
    for chunk in np.array_split(np.arange(n), 5):
        _post(client, "predictions", [preds[i] for i in chunk])
    rest = [labels[i] for i in rng.permutation(np.flatnonzero(~early))]
    coverage = []
    for day in np.array_split(np.arange(len(rest)), 7):  # one batch per day of the following week
        _post(client, "labels", [rest[i] for i in day])
        coverage.append(_summary(client)["summary"][0]["label_coverage"])
    assert coverage == sorted(coverage) and coverage[-1] == 1.0 and coverage[0] < 0.5

    doc = _summary(client)
    got = doc["summary"][0]["metrics"]
    pred = (score >= 0.5).astype(int)
    assert got["accuracy"]["value"] == pytest.approx(skm.accuracy_score(truth, pred))
    assert got["precision"]["value"] == pytest.approx(skm.precision_score(truth, pred))
    assert got["recall"]["value"] == pytest.approx(skm.recall_score(truth, pred))
    assert got["f1"]["value"] == pytest.approx(skm.f1_score(truth, pred))
    assert got["roc_auc"]["value"] == pytest.approx(skm.roc_auc_score(truth, score))
    assert got["brier"]["value"] == pytest.approx(skm.brier_score_loss(truth, score))
    # The hourly series adds up to the day and each bucket matches its own predictions.
    series = doc["series"]
    assert sum(p["labelled"] for p in series) == n
    first = series[0]
    assert first["predictions"] == int(((ts // 3600) == (ts[0] // 3600)).sum())


def test_label_before_prediction_is_kept_and_joined_later(client):
    """A label for an unknown request id is stored, and counts once its prediction shows up."""
    _post(client, "labels", [{"request_id": "late-pred", "label": 1, "timestamp": T0 + 5}])
    assert client.get("/api/v1/labels", params={"request_id": "late-pred"}).json()["labels"][0]["label"] == "1"
    _post(client, "predictions", [{"model": "fraud", "request_id": "late-pred", "timestamp": T0, "output": 1,
                                   "scores": [0.2, 0.8]}])
    m = _summary(client, min_samples="1")["summary"][0]
    assert m["labelled"] == 1 and m["metrics"]["accuracy"]["value"] == 1.0


def test_duplicate_labels_latest_timestamp_wins_then_latest_received(client):
    """Of several labels for one request, the latest timestamp wins; on a tie, the one received last."""
    _post(client, "predictions", [{"model": "fraud", "request_id": r, "timestamp": T0, "output": 1, "scores": [0.3, 0.7]}
                                  for r in ("a", "b")])
    _post(client, "labels", [{"request_id": "a", "label": 0, "timestamp": T0 + 100},
                             {"request_id": "a", "label": 1, "timestamp": T0 + 300},   # latest: wins
                             {"request_id": "a", "label": 0, "timestamp": T0 + 200}])
    _post(client, "labels", [{"request_id": "b", "label": 1, "timestamp": T0 + 100}])
    import time
    time.sleep(0.01)
    _post(client, "labels", [{"request_id": "b", "label": 0, "timestamp": T0 + 100}])  # same time, received later: wins
    m = _summary(client, min_samples="1")["summary"][0]
    assert m["labelled"] == 2
    assert m["metrics"]["precision"]["value"] == 0.5  # a correct (label 1), b wrong (label 0)


@pytest.mark.parametrize("label", [{"a": {"b": 1}}, [1, 2], [{"id": "x"}], {"x": -1}, {"x": "high"}])
def test_wrong_label_types_are_4xx_naming_the_field(client, label):
    """A label that is neither a scalar nor a ranking list/object of grades is refused, nothing stored."""
    r = client.post("/api/v1/labels", json=[{"request_id": "x", "label": label}])
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_records" and err["details"][0]["field"] == "label"
    assert client.get("/api/v1/labels").json()["labels"] == []


@pytest.mark.parametrize("params, field", [({"positive": "x' OR 1=1 --"}, "positive"), ({"by": "colour"}, "colour"),
                                           ({"task": "vibes"}, "task"), ({"bucket": "1", "since": "30d", "until": "now"}, "bucket"),
                                           ({"since": "yesterday-ish"}, "since"), ({"segment": "a'b"}, "unsafe")])
def test_bad_quality_parameters_are_400(client, params, field):
    """Bad query parameters get a 400 in the one error shape, naming what is wrong."""
    r = client.get(QUALITY, params={**WINDOW, **params})
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["message"]


def test_trace_id_labels_join_llm_predictions(client):
    """An LLM answer logged with a trace id is joined by a label that carries only that trace id's match."""
    _post(client, "predictions", [{"model": "fraud", "request_id": "req-1", "trace_id": "t" * 32, "timestamp": T0,
                                   "output": 1, "scores": [0.1, 0.9]}])
    _post(client, "labels", [{"request_id": "other-id", "trace_id": "t" * 32, "label": 1, "timestamp": T0}])
    m = _summary(client, min_samples="1")["summary"][0]
    assert m["labelled"] == 1 and m["metrics"]["recall"]["value"] == 1.0
