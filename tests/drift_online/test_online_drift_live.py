"""Online drift through a real server: reference via the CLI, traffic via the SDK, results via the API."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _training(path, rng, n=5000):
    table = pa.table({"amount": rng.lognormal(3.6, 0.9, n), "age": rng.normal(400, 150, n),
                      "tenure": rng.integers(1, 2000, n).astype(float), "country": rng.choice(["US", "GB", "DE"], n),
                      "label": rng.choice(["0", "1"], n, p=[0.9, 0.1])})
    pq.write_table(table, path)


def _traffic(client, rng, t0, n, shifted):
    for i in range(n):
        inputs = {"amount": float(rng.lognormal(4.4 if shifted else 3.6, 0.9)),
                  "age": None if shifted and rng.random() < 0.3 else float(rng.normal(400, 150)),
                  "tenure": float(rng.integers(1, 2000)), "country": str(rng.choice(["US", "GB", "DE"]))}
        client.log_prediction("fraud", inputs, str(int(rng.random() < 0.1)), timestamp=t0 + i * 0.5)


def test_live_drift_flags_shift_and_missing_jump(live_server, tmp_path):
    """A shifted feature and a missing-rate jump are flagged, stable features are not; /metrics has the gauges."""
    from watchkeeper.sdk.client import Client

    server = live_server()
    rng = np.random.default_rng(5)
    _training(tmp_path / "train.parquet", rng)
    done = _cli("reference", "set", "fraud", "--data", str(tmp_path / "train.parquet"), "--label-column", "label",
                "--endpoint", server.url)
    assert done.returncode == 0, done.stderr
    assert "4 features" in done.stdout

    client = Client(endpoint=server.url, project="default", flush_interval=0.2)
    now = time.time()
    _traffic(client, rng, now - 3000, 2000, shifted=False)  # [now-3000, now-2000): like training
    _traffic(client, rng, now - 1500, 2000, shifted=True)   # [now-1500, now-500): shifted
    assert client.flush(30)
    client.shutdown()

    with httpx.Client(base_url=server.url, timeout=60) as http:
        stable = http.get("/api/v1/models/fraud/drift", params={"since": now - 3000, "until": now - 2000}).json()
        assert stable["rows"] == 2000
        assert stable["dataset"]["drifted_features"] == 0, stable["features"]

        run = http.post("/api/v1/models/fraud/drift/run", params={"since": now - 1500, "until": now - 500})
        assert run.status_code == 200, run.text
        doc = run.json()
        by = {f["feature"]: f for f in doc["features"]}
        assert by["amount"]["drifted"] and by["amount"]["distribution_drifted"]
        assert by["age"]["drifted"] and by["age"]["missing"]["drifted"]
        assert 0.25 < by["age"]["missing"]["current"] < 0.35
        assert not by["tenure"]["drifted"] and not by["country"]["drifted"]
        assert set(by["amount"]["histogram"]) >= {"edges", "reference", "current"}
        assert doc["stored"] >= 4

        metrics = http.get("/metrics").text
        assert 'watchkeeper_drift_score{feature="amount",method="wasserstein",model="fraud",project="default"}' in metrics
        assert 'watchkeeper_feature_missing_ratio{feature="age",model="fraud",project="default"}' in metrics
        assert 'watchkeeper_drifted_features{model="fraud",project="default"} 2.0' in metrics

        series = http.get("/api/v1/models/fraud/drift/series", params={"since": now - 4000, "feature": "amount"}).json()
        assert series["series"][0]["points"][0]["drifted"] is True


def test_reference_from_window_and_errors(client):
    """A reference set from a logged window drives drift; bad requests get the one error shape."""
    rng = np.random.default_rng(6)
    now = time.time()
    recs = [{"model": "m", "inputs": {"x": float(rng.normal(0, 1)), "k": str(rng.choice(["a", "b"]))}, "output": "1",
             "timestamp": now - 2000 + i * 0.4} for i in range(2000)]
    recs += [{"model": "m", "inputs": {"x": float(rng.normal(1.0, 1)), "k": str(rng.choice(["a", "b"]))}, "output": "1",
              "timestamp": now - 900 + i * 0.4} for i in range(2000)]
    assert client.post("/api/v1/predictions", json=recs).status_code == 200
    missing = client.get("/api/v1/models/m/drift")
    assert missing.status_code == 404 and "reference" in missing.json()["error"]["message"]
    made = client.post("/api/v1/models/m/reference/from-window", params={"since": now - 2000, "until": now - 1100})
    assert made.status_code == 200, made.text
    assert set(made.json()["summary"]["features"]) == {"x", "k"}
    doc = client.get("/api/v1/models/m/drift", params={"since": now - 900, "until": now}).json()
    by = {f["feature"]: f for f in doc["features"]}
    assert by["x"]["drifted"] and not by["k"]["drifted"]
    assert client.get("/api/v1/models/m/drift", params={"segment": "nokey"}).json()["error"]["code"] == "invalid_argument"
    bad = client.put("/api/v1/models/m/reference", content=b'{"nope": 1}')
    assert bad.status_code == 422 and "columns" in bad.json()["error"]["message"]
