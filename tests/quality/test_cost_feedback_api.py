"""Cost per correct prediction, tiered comparison, feedback rates and quality on /metrics, via the API."""

from __future__ import annotations

import numpy as np
import pytest

T0 = 1_700_000_000.0
WINDOW = {"since": str(T0 - 60), "until": str(T0 + 86400)}


def _post(client, kind, records):
    r = client.post(f"/api/v1/{kind}", json=records)
    assert r.status_code == 200, r.text


def test_cost_per_request_and_per_correct_from_explicit_tokens_and_compute(client):
    """Explicit cost wins, then tokens x price, then compute time x rate; cost per correct divides labelled cost."""
    r = client.put("/api/v1/prices/llm", json={"input_per_1k": 2.0, "output_per_1k": 6.0, "compute_per_s": 0.01})
    assert r.status_code == 200, r.text
    _post(client, "predictions", [
        {"model": "llm", "request_id": "a", "timestamp": T0, "output": 1, "cost": 0.5, "latency_ms": 100},
        {"model": "llm", "request_id": "b", "timestamp": T0 + 1, "output": 1, "input_tokens": 1000,
         "output_tokens": 500, "latency_ms": 300},                                       # 2.0 + 3.0 = 5.0
        {"model": "llm", "request_id": "c", "timestamp": T0 + 2, "output": 0, "latency_ms": 2000},  # 2 s x 0.01
        {"model": "llm", "request_id": "d", "timestamp": T0 + 3, "output": 0, "latency_ms": 500},   # unlabelled
    ])
    _post(client, "labels", [{"request_id": "a", "label": 1}, {"request_id": "b", "label": 0},
                             {"request_id": "c", "label": 0}])
    doc = client.get("/api/v1/models/llm/cost", params=WINDOW).json()
    s = doc["summary"][0]
    assert s["requests"] == 4 and s["total_cost"] == pytest.approx(0.5 + 5.0 + 0.02 + 0.005)
    assert s["cost_per_request"] == pytest.approx((0.5 + 5.0 + 0.02 + 0.005) / 4)
    assert s["correct"] == 2 and s["cost_per_correct"] == pytest.approx((0.5 + 5.0 + 0.02) / 2)
    assert s["p95_latency_ms"] == pytest.approx(np.quantile([100, 300, 2000, 500], 0.95))
    assert doc["series"][0]["requests"] == 4 and doc["price"]["input_per_1k"] == 2.0


def test_bad_price_is_422_naming_the_field(client):
    """A negative or non-numeric price is refused with the field named."""
    r = client.put("/api/v1/prices/m", json={"input_per_1k": -1})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "input_per_1k"
    r = client.put("/api/v1/prices/m", json={"input_per_1K": 1})
    assert r.status_code == 422 and "input_per_1K" in r.json()["error"]["message"]


def test_tiered_view_reports_quality_gained_against_cost_added(client):
    """A cheap model on all traffic, the expensive one on escalations: accuracy gain and added cost per request."""
    rng = np.random.default_rng(3)
    preds, labels = [], []
    for i in range(200):
        truth = int(rng.uniform() < 0.5)
        hard = i % 4 == 0
        cheap_out = (1 - truth) if (hard and i % 8 == 0) else truth  # wrong on half the hard ones
        preds.append({"model": "cheap", "request_id": f"q{i}", "timestamp": T0 + i, "output": cheap_out, "cost": 0.001})
        if hard:  # escalated: the expensive model is always right here
            preds.append({"model": "big", "request_id": f"q{i}", "timestamp": T0 + i + 1, "output": truth, "cost": 0.02})
        labels.append({"request_id": f"q{i}", "label": truth})
    _post(client, "predictions", preds)
    _post(client, "labels", labels)
    doc = client.get("/api/v1/cost/tiered", params={**WINDOW, "cheap": "cheap", "expensive": "big"}).json()
    g = doc["groups"][0]
    assert g["requests"] == 200 and g["escalated"] == 50 and g["escalation_rate"] == 0.25
    assert g["cheap_only"]["accuracy"] == pytest.approx(175 / 200) and g["tiered"]["accuracy"] == 1.0
    assert g["quality_gained"] == pytest.approx(25 / 200)
    assert g["cost_added_per_request"] == pytest.approx(50 * 0.02 / 200)
    assert g["on_escalated"] == {"labelled": 50, "cheap_accuracy": 0.5, "expensive_accuracy": 1.0}
    assert client.get("/api/v1/cost/tiered", params={"cheap": "cheap"}).status_code == 400


def test_feedback_rates_per_version_next_to_quality(client):
    """Thumbs, edits and tickets join predictions by request id or trace id; rates count each request once."""
    _post(client, "predictions", [
        {"model": "bot", "request_id": f"r{i}", "timestamp": T0 + i, "output": 1, "model_version": "v1" if i < 40 else "v2",
         "trace_id": f"{i:032x}"} for i in range(80)])
    _post(client, "labels", [{"request_id": f"r{i}", "label": 1 if i < 40 else int(i % 2)} for i in range(80)])
    fb = [{"request_id": f"r{i}", "kind": "thumbs", "value": "up"} for i in range(0, 30)]
    fb += [{"request_id": "r0", "kind": "thumbs", "value": "up"}]  # a double click counts once in the rate
    fb += [{"request_id": f"r{i}", "kind": "thumbs", "value": -1} for i in range(40, 60)]
    fb += [{"trace_id": f"{i:032x}", "kind": "ticket"} for i in range(60, 70)]
    fb += [{"request_id": f"r{i}", "kind": "edit", "value": "shortened"} for i in range(45, 50)]
    _post(client, "feedback", fb)
    r = client.get("/api/v1/models/bot/feedback", params=WINDOW)
    assert r.status_code == 200, r.text
    doc = r.json()
    groups = {g["group"]: g for g in doc["groups"]}
    v1, v2 = groups["v1"], groups["v2"]
    assert v1["feedback"]["thumbs"] == {"events": 31, "requests_with": 30, "rate": 0.75, "up": 31, "down": 0,
                                        "thumbs_up_share": 1.0}
    assert v2["feedback"]["thumbs"]["down"] == 20 and v2["feedback"]["thumbs"]["rate"] == 0.5
    assert v2["feedback"]["ticket"]["requests_with"] == 10 and v2["feedback"]["edit"]["rate"] == 5 / 40
    assert v1["quality"]["accuracy"] == 1.0 and v2["quality"]["accuracy"] == 0.5


def test_quality_snapshot_is_stored_and_exported_to_metrics(client):
    """A snapshot writes quality_points, the API reads them back, /metrics exports per version gauges."""
    rng = np.random.default_rng(9)
    s = rng.uniform(size=300)
    _post(client, "predictions", [{"model": "fraud", "request_id": f"r{i}", "timestamp": T0 + i, "output": int(v >= 0.5),
                                   "scores": [1 - v, v], "model_version": "v1"} for i, v in enumerate(s)])
    _post(client, "labels", [{"request_id": f"r{i}", "label": int(rng.uniform() < v)} for i, v in enumerate(s)])
    r = client.post("/api/v1/models/fraud/quality/snapshot", params={"until": str(T0 + 3600)})
    assert r.status_code == 200 and r.json()["points_written"] > 20
    stored = client.get("/api/v1/models/fraud/quality", params={**WINDOW, "since": str(T0 - 3600), "stored": "true",
                                                                "metric": "f1"}).json()
    assert {p["kind"] for p in stored["points"]} == {"realised", "estimated"}
    live = client.get("/api/v1/models/fraud/quality", params={**WINDOW, "bucket": "3600"}).json()
    realised = [p for p in stored["points"] if p["kind"] == "realised"]
    assert realised[0]["value"] == pytest.approx(live["series"][0]["metrics"]["f1"]["value"])
    text = client.get("/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith("watchkeeper_model_quality{")
                and 'metric="f1"' in ln and 'kind="realised"' in ln)
    assert 'model="fraud"' in line and 'version="v1"' in line
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(live["summary"][0]["metrics"]["f1"]["value"])
