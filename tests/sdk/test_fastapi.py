"""instrument_fastapi gives a user's model service /health, /metrics and prediction logging."""

from __future__ import annotations

import json
import urllib.request

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

import watchkeeper


@pytest.mark.e2e
def test_instrumented_service_exposes_metrics_and_logs_predictions(live_server):
    """Requests are counted and timed; predictions reach a real watchkeeper server."""
    server = live_server()
    watchkeeper.init(endpoint=server.url, project="svc", flush_interval=0.05)
    app = FastAPI()

    @app.post("/predict")
    def predict(body: dict):
        if body.get("amount", 0) < 0:
            raise HTTPException(400, "negative amount")
        return {"prediction": "fraud" if body["amount"] > 100 else "ok", "score": 0.9}

    watchkeeper.instrument_fastapi(app, model="fraud", version="2")
    with TestClient(app) as c:
        for amount in (5, 50, 500, 5000):
            assert c.post("/predict", json={"amount": amount, "country": "DE"}).status_code == 200
        assert c.post("/predict", json={"amount": -1}).status_code == 400
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["model"] == "fraud"
        text = c.get("/metrics").text
    assert 'watchkeeper_service_predictions_total{class="fraud",model="fraud"} 2.0' in text
    assert 'watchkeeper_service_predictions_total{class="ok",model="fraud"} 2.0' in text
    assert 'watchkeeper_service_requests_total{method="POST",model="fraud",route="/predict",status="400"} 1.0' in text
    assert 'watchkeeper_service_request_duration_seconds_count{model="fraud",route="/predict"} 5.0' in text
    assert 'watchkeeper_service_input_size_bucket{le="2.0",model="fraud"}' in text
    assert watchkeeper.flush(10)
    watchkeeper.shutdown()
    rows = json.loads(urllib.request.urlopen(server.url + "/api/v1/predictions?project=svc").read())["predictions"]
    assert len(rows) == 5
    assert {r["output"] for r in rows if not r["error"]} == {"fraud", "ok"}
    assert sum(1 for r in rows if r["error"] == "HTTP 400") == 1
    assert all(r["model_version"] == "2" and r["latency_ms"] > 0 for r in rows)
    assert {"amount": 500, "country": "DE"} in [r["inputs"] for r in rows]
