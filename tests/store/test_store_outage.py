"""When ClickHouse (chdb) or PostgreSQL is unreachable: 503 with Retry-After, /health names the
dependency, and the SDK's buffered events all arrive once it is back."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from fastapi.testclient import TestClient

import watchkeeper
from watchkeeper.server.app import create_app
from watchkeeper.server.config import ServerConfig

ROW = [{"model": "m", "output": 1, "inputs": {"x": 1}}]


def test_closed_clickhouse_store_makes_ingest_503_and_health_name_it():
    """With the chdb event store gone, ingest answers 503 + Retry-After and /health says the store is down."""
    app = create_app(ServerConfig(store_url="chdb://:memory:"))
    with TestClient(app) as c:
        assert c.post("/api/v1/predictions", json=ROW).status_code == 200
        app.state.wk.store.close()
        r = c.post("/api/v1/predictions", json=ROW)
        assert r.status_code == 503 and r.headers["Retry-After"] and r.json()["error"]["code"] == "store_unavailable"
        health = c.get("/health")
        assert health.status_code == 503
        assert health.json()["store"] == {"backend": "chdb", "reachable": False, "error": "the chdb store is closed"}


def test_postgres_outage_is_503_then_recovers(postgres_server, postgres_url):
    """Stopping PostgreSQL turns ingest into 503 + Retry-After and /health names meta; restarting heals both."""
    app = create_app(ServerConfig(store_url="chdb://:memory:", meta_url=postgres_url))
    with TestClient(app) as c:
        assert c.post("/api/v1/predictions", json=ROW).status_code == 200
        body = c.get("/health").json()
        assert body["meta"]["backend"] == "postgresql" and body["meta"]["reachable"] is True
        postgres_server.stop()
        try:
            app.state.wk.auth.forget()  # drop the 5 s cache of "are there keys?" so the next request asks PostgreSQL
            r = c.post("/api/v1/predictions", json=ROW)
            assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
            health = c.get("/health")
            assert health.status_code == 503
            assert health.json()["store"]["reachable"] is True and health.json()["meta"]["reachable"] is False
        finally:
            postgres_server.start()
        app.state.wk.auth.forget()
        assert c.post("/api/v1/predictions", json=ROW).status_code == 200
        assert c.get("/health").status_code == 200
        assert app.state.wk.store.counts("default")["predictions"] == 2


@pytest.mark.e2e
def test_sdk_buffers_through_a_postgres_outage_and_nothing_is_lost(live_server, tmp_path, postgres_server, postgres_url):
    """A real server on chdb + PostgreSQL: events logged while PostgreSQL is down arrive after it is back."""
    store = "chdb:////" + str(tmp_path / "wk.chdb").lstrip("/")
    server = live_server(store, "--meta", postgres_url)
    client = watchkeeper.Client(endpoint=server.url, flush_interval=0.05, timeout=2.0)
    try:
        for i in range(50):
            client.log_prediction("m", {"x": i}, i % 2, request_id=f"before-{i}")
        assert client.flush(timeout=20) is True
        postgres_server.stop()
        try:
            time.sleep(5.5)  # the server re-checks "are there keys?" every 5 s; now it must ask PostgreSQL
            for i in range(50):
                client.log_prediction("m", {"x": i}, i % 2, request_id=f"during-{i}")
            assert client.flush(timeout=1.5) is False  # 503s: kept in the SDK's buffer, retried
            health = urllib.request.Request(server.url + "/health")
            try:
                urllib.request.urlopen(health, timeout=5)
                pytest.fail("/health should be 503 while PostgreSQL is down")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503 and json.loads(exc.read())["meta"]["reachable"] is False
        finally:
            postgres_server.start()
        assert client.flush(timeout=60) is True
    finally:
        client.shutdown(timeout=5)
    page = json.loads(urllib.request.urlopen(server.url + "/api/v1/predictions?limit=1000", timeout=10).read())
    ids = sorted(p["request_id"] for p in page["predictions"])
    assert ids == sorted([f"before-{i}" for i in range(50)] + [f"during-{i}" for i in range(50)])
    assert client.stats()["dropped"] == 0
