"""End to end: the real SDK sends to a real server on loopback; the API reads it all back."""

from __future__ import annotations

import json
import urllib.request

import pytest

import watchkeeper

pytestmark = pytest.mark.e2e


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def test_ten_thousand_predictions_and_labels_round_trip(live_server):
    """10,000 predictions and their labels logged through the SDK are all readable through the API."""
    server = live_server()
    client = watchkeeper.Client(endpoint=server.url, project="e2e", batch_size=1000, flush_interval=0.2)
    ids = []
    for i in range(10_000):
        ids.append(client.log_prediction("churn", {"tenure": i % 50, "plan": ["a", "b"][i % 2]}, i % 2,
                                         model_version="7", scores=[0.4, 0.6], latency_ms=5 + i % 20,
                                         segment={"region": "eu" if i % 3 else "us"}))
    for i, rid in enumerate(ids):
        client.log_label(rid, (i + 1) % 2)
    assert client.flush(timeout=60)
    stats = client.stats()
    assert stats["sent"] == 20_000 and stats["dropped"] == 0 and stats["rejected"] == 0
    client.shutdown()

    seen, cursor = [], None
    while True:
        url = f"{server.url}/api/v1/predictions?model=churn&limit=5000&project=e2e" + (f"&cursor={cursor}" if cursor else "")
        page = _get(url)
        seen += page["predictions"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(p["request_id"] for p in seen) == sorted(ids)
    by_id = {p["request_id"]: p for p in seen}
    assert by_id[ids[7]]["inputs"] == {"tenure": 7, "plan": "b"} and by_id[ids[7]]["output"] == "1"
    (model,) = _get(f"{server.url}/api/v1/models?project=e2e")["models"]
    assert model["predictions"] == 10_000 and model["labelled"] == 10_000 and model["label_coverage"] == 1.0
    metrics = urllib.request.urlopen(server.url + "/metrics").read().decode()
    assert 'watchkeeper_ingested_events_total{kind="labels"} 10000.0' in metrics


def test_sample_rate_limits_payloads_not_counts(live_server):
    """With sample_rate=0.1 every prediction is counted but only about a tenth carry inputs."""
    server = live_server()
    client = watchkeeper.Client(endpoint=server.url, project="s", sample_rate=0.1)
    for i in range(2000):
        client.log_prediction("m", {"x": i}, 0)
    assert client.flush(30)
    client.shutdown()
    rows = _get(f"{server.url}/api/v1/predictions?limit=5000&project=s")["predictions"]
    assert len(rows) == 2000
    with_inputs = sum(1 for r in rows if r["inputs"] is not None)
    assert 100 < with_inputs < 320
