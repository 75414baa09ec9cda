"""Large batches are prepared in ingest worker processes; the server's answers must not change."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request

import pytest

from helpers import LiveServer

EMAIL = "jane.roe@example.org"


def _post(url: str, path: str, records: list) -> tuple[int, dict]:
    req = urllib.request.Request(url + path, data=json.dumps(records).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _batch(tag: str, n: int = 400, model: str = "churn") -> list[dict]:
    # ~100 bytes per record uncompressed: 400 records are well over the pool's size threshold.
    return [{"request_id": f"{tag}-{i}", "model": model, "model_version": "v2", "output": i % 3,
             "inputs": {"tenure": i, "plan": "pro", "note": f"contact {EMAIL}" if i == 7 else "none"},
             "latency_ms": 5.0 + i % 40, "timestamp": time.time() - 60} for i in range(n)]


def _workers(server: LiveServer) -> dict:
    return _get(server.url + "/health")["ingest_queue"]["workers"]


def _start_pool(srv: LiveServer) -> None:
    assert _post(srv.url, "/api/v1/predictions", _batch("warm"))[0] == 200  # starts the pool
    deadline = time.monotonic() + 90
    while not _workers(srv)["ready"]:
        assert time.monotonic() < deadline, "ingest workers did not start"
        time.sleep(0.2)


@pytest.fixture
def server(store_url):
    srv = LiveServer(store_url, env={"WATCHKEEPER_INGEST_WORKERS": "1"}).start()
    try:
        _start_pool(srv)
        yield srv
    finally:
        srv.stop()


def test_worker_batches_are_validated_redacted_stored_and_counted(server):
    before = _workers(server)["batches_in_workers"]
    status, body = _post(server.url, "/api/v1/predictions", _batch("a"))
    assert (status, body["accepted"], body["rejected"]) == (200, 400, [])
    assert _workers(server)["batches_in_workers"] == before + 1

    rows = _get(server.url + "/api/v1/predictions?model=churn&limit=10000")["predictions"]
    mine = {r["request_id"]: r for r in rows if r["request_id"].startswith("a-")}
    assert len(mine) == 400
    assert mine["a-5"]["inputs"]["tenure"] == 5 and mine["a-5"]["output"] in (2, "2")
    assert EMAIL not in json.dumps(mine["a-7"]) and "[EMAIL]" in mine["a-7"]["inputs"]["note"]

    with urllib.request.urlopen(server.url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    count = [ln for ln in text.splitlines()
             if ln.startswith("watchkeeper_prediction_latency_seconds_count") and 'model="churn"' in ln]
    assert count and float(count[0].rsplit(" ", 1)[1]) == 800.0  # the warm-up batch and this one
    classes = {ln.split('class="')[1].split('"')[0]: float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
               if ln.startswith("watchkeeper_predictions_total") and 'model="churn"' in ln}
    assert classes == {"0": 268.0, "1": 266.0, "2": 266.0}


def test_worker_batches_name_bad_records_and_store_nothing(server):
    records = _batch("bad")
    records[5]["timestamp"] = "yesterday-ish"
    records[250]["latency_ms"] = -3
    status, body = _post(server.url, "/api/v1/predictions", records)
    assert status == 422 and body["error"]["code"] == "invalid_records"
    assert [(d["index"], d["field"]) for d in body["error"]["details"]] == [(5, "timestamp"), (250, "latency_ms")]
    rows = _get(server.url + "/api/v1/predictions?model=churn&limit=10000")["predictions"]
    assert not [r for r in rows if r["request_id"].startswith("bad-")]

    status, body = _post(server.url, "/api/v1/predictions?partial=true", records)
    assert status == 200 and body["accepted"] == 398 and len(body["rejected"]) == 2

    labels = [{"request_id": f"a-{i}", "label": i % 2} for i in range(600)]
    assert _post(server.url, "/api/v1/labels", labels)[0] == 200


def test_a_dead_worker_costs_no_batch(server):
    children = [int(p) for p in os.popen(f"pgrep -P {server.proc.pid}").read().split()]
    workers = [p for p in children if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
    assert workers, "no ingest worker process found"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    for k in range(3):  # the first may meet the broken pool; none may fail
        status, body = _post(server.url, "/api/v1/predictions", _batch(f"after{k}"))
        assert (status, body["accepted"]) == (200, 400)
    rows = _get(server.url + "/api/v1/predictions?model=churn&limit=10000")["predictions"]
    assert len([r for r in rows if r["request_id"].startswith("after")]) == 1200
    assert _get(server.url + "/health")["status"] == "ok"


def test_workers_leave_when_the_server_is_killed(store_url):
    srv = LiveServer(store_url, env={"WATCHKEEPER_INGEST_WORKERS": "2"}).start()
    try:
        _start_pool(srv)
        children = [int(p) for p in os.popen(f"pgrep -P {srv.proc.pid}").read().split()]
        workers = [p for p in children if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
        assert len(workers) >= 2
    finally:
        srv.kill()  # SIGKILL: the server cannot shut its pool down
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if os.path.exists(f"/proc/{p}") and b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
    assert not alive, f"ingest workers {alive} outlived the killed server"
