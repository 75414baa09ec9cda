"""Ingest routes: formats, errors, partial batches, reading back."""

from __future__ import annotations

import gzip
import json


def _pred(i: int, **extra) -> dict:
    rec = {"request_id": f"r{i}", "model": "churn", "model_version": "3", "inputs": {"tenure": i, "plan": "pro"},
           "output": i % 2, "scores": [0.3, 0.7], "latency_ms": 12.5, "segment": {"region": "eu"}, "cost": 0.001,
           "timestamp": 1_790_000_000 + i}
    rec.update(extra)
    return rec


def test_json_array_is_stored_and_read_back(client):
    """A JSON array of predictions is acknowledged and every field comes back through the API."""
    r = client.post("/api/v1/predictions", json=[_pred(i) for i in range(5)])
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 5, "rejected": []}
    got = client.get("/api/v1/predictions", params={"model": "churn"}).json()["predictions"]
    assert [p["request_id"] for p in got] == [f"r{i}" for i in range(5)]
    first = got[0]
    assert first["inputs"] == {"tenure": 0, "plan": "pro"}
    assert first["segment"] == {"region": "eu"}
    assert first["score"] == 0.7 and first["latency_ms"] == 12.5 and first["model_version"] == "3"
    assert first["timestamp"].startswith("2026-09-21")


def test_ndjson_and_gzip_are_accepted(client):
    """NDJSON bodies and gzip content encoding both work."""
    body = "\n".join(json.dumps(_pred(i)) for i in range(3)).encode()
    r = client.post("/api/v1/predictions", content=gzip.compress(body),
                    headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json()["accepted"] == 3


def test_invalid_record_rejects_the_whole_batch_with_index_and_field(client):
    """One bad record: 422 naming its index and field, and nothing stored."""
    batch = [_pred(0), _pred(1, latency_ms="fast"), _pred(2, timestamp="yesterday")]
    r = client.post("/api/v1/predictions", json=batch)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_records"
    assert {(d["index"], d["field"]) for d in err["details"]} == {(1, "latency_ms"), (2, "timestamp")}
    assert client.get("/api/v1/predictions").json()["predictions"] == []


def test_partial_mode_stores_valid_records_and_lists_the_rest(client):
    """With ?partial=true, valid records are stored and rejected ones are listed."""
    r = client.post("/api/v1/predictions?partial=true", json=[_pred(0), {"model": "x"}, _pred(2)])
    assert r.status_code == 200
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"] == [{"index": 1, "field": "output", "message": "is required"}]


def test_wrong_content_type_is_415_and_oversize_is_413(app):
    """Unsupported media types answer 415; bodies over the limit answer 413."""
    from fastapi.testclient import TestClient

    app.state.wk.config.max_body_bytes = 1000
    with TestClient(app) as c:
        r = c.post("/api/v1/predictions", content=b"model=x", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
        r = c.post("/api/v1/predictions", json=[_pred(i) for i in range(50)])
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
        bomb = gzip.compress(b"[" + b" " * 100_000 + b"]")
        r = c.post("/api/v1/predictions", content=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert r.status_code == 413


def test_labels_and_feedback(client):
    """Labels and feedback are validated; a list as label is a 4xx naming the field."""
    assert client.post("/api/v1/labels", json=[{"request_id": "r1", "label": 1}]).status_code == 200
    r = client.post("/api/v1/labels", json=[{"request_id": "r1", "label": [1, 2]}])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "label"
    assert client.post("/api/v1/feedback", json=[{"request_id": "r1", "kind": "thumbs", "value": -1}]).status_code == 200
    r = client.post("/api/v1/feedback", json=[{"kind": "thumbs"}])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "request_id"
    labels = client.get("/api/v1/labels").json()["labels"]
    assert labels[0]["request_id"] == "r1" and labels[0]["label_value"] == 1.0


def test_cursor_pagination_walks_every_prediction_once(client):
    """Following next_cursor returns every prediction exactly once, in time order."""
    client.post("/api/v1/predictions", json=[_pred(i) for i in range(25)])
    seen, cursor = [], None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/predictions", params=params).json()
        seen += [p["request_id"] for p in page["predictions"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"r{i}" for i in range(25)]
    assert client.get("/api/v1/predictions", params={"cursor": "garbage!"}).status_code == 400


def test_time_filters(client):
    """since/until select a half-open time window."""
    client.post("/api/v1/predictions", json=[_pred(i) for i in range(10)])
    got = client.get("/api/v1/predictions", params={"since": 1_790_000_003, "until": "2026-09-21T14:13:27Z"}).json()
    assert [p["request_id"] for p in got["predictions"]] == ["r3", "r4", "r5", "r6"]
    assert client.get("/api/v1/predictions", params={"since": "last tuesday"}).status_code == 400


def test_models_summary_and_label_coverage(client):
    """/api/v1/models counts predictions, versions, errors and labelled share."""
    client.post("/api/v1/predictions", json=[_pred(i) for i in range(4)] + [_pred(9, model_version="4", error="boom")])
    client.post("/api/v1/labels", json=[{"request_id": "r0", "label": 0}, {"request_id": "r1", "label": 1}])
    (m,) = client.get("/api/v1/models").json()["models"]
    assert m["model"] == "churn" and m["predictions"] == 5 and m["versions"] == ["3", "4"]
    assert m["errors"] == 1 and m["labelled"] == 2 and abs(m["label_coverage"] - 0.4) < 1e-9


def test_metrics_expose_server_and_model_series(client):
    """/metrics has ingest counters, rejections, and per-model class counts and latency buckets."""
    client.post("/api/v1/predictions", json=[_pred(i) for i in range(6)])
    client.post("/api/v1/predictions", json=[{"model": "churn"}])
    text = client.get("/metrics").text
    assert 'watchkeeper_ingested_events_total{kind="predictions"} 6.0' in text
    assert 'watchkeeper_rejected_events_total{kind="predictions",reason="invalid"} 1.0' in text
    assert 'watchkeeper_predictions_total{class="1",model="churn",project="default",version="3"} 3.0' in text
    assert 'watchkeeper_prediction_latency_seconds_bucket{le="0.025",model="churn",project="default",version="3"} 6.0' in text
    assert 'watchkeeper_prediction_latency_seconds_bucket{le="0.01",model="churn",project="default",version="3"} 0.0' in text
    assert "watchkeeper_store_write_seconds_count" in text and "watchkeeper_ingest_queue_depth" in text


def test_health_reports_store_and_queue(client, app):
    """/health is 200 with version and queue depth, and 503 once the store is gone."""
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["store"]["reachable"] is True and body["ingest_queue"]["depth"] == 0
    assert "version" in body and body["uptime_s"] >= 0
    app.state.wk.store.close()
    r = client.get("/health")
    assert r.status_code == 503 and r.json()["store"]["reachable"] is False


def test_latency_series(client):
    """Per-bucket P50/P95/P99 latency and counts for a model."""
    recs = [_pred(i, latency_ms=float(i + 1)) for i in range(100)]
    client.post("/api/v1/predictions", json=recs)
    r = client.get("/api/v1/models/churn/latency", params={"since": 1_790_000_000, "until": 1_790_000_100, "bucket": 100})
    (bucket,) = r.json()["series"]
    assert bucket["count"] == 100 and abs(bucket["p50"] - 50.5) < 1e-6 and abs(bucket["p99"] - 99.01) < 1e-6
