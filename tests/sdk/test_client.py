"""The SDK client: never blocks, bounded, retries politely, fork-safe, configured by env."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import watchkeeper
from watchkeeper.errors import ConfigError


class Recorder(BaseHTTPRequestHandler):
    """A real HTTP server that answers 503 with Retry-After a set number of times, then 200."""

    failures = 0
    retry_after = "0.2"
    received: list = []
    times: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.times.append(time.monotonic())
        if cls.failures > 0:
            cls.failures -= 1
            self.send_response(503)
            self.send_header("Retry-After", cls.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        records = json.loads(gzip.decompress(body))
        cls.received.append((self.path, self.headers.get("Authorization"), records))
        out = json.dumps({"accepted": len(records), "rejected": []}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    Recorder.failures, Recorder.received, Recorder.times = 0, [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder
    server.shutdown()


def test_dead_server_never_blocks_and_drops_oldest():
    """With nothing listening, calls return at once; past max_queue the oldest are dropped and counted."""
    c = watchkeeper.Client(endpoint="http://127.0.0.1:9", max_queue=100, flush_interval=0.05, timeout=0.2)
    started = time.perf_counter()
    for i in range(1000):
        c.log_prediction("m", {"x": i}, 1)
    assert time.perf_counter() - started < 0.5
    s = c.stats()
    assert s["dropped"] >= 900 - 1000 // 1000 and s["queued"] <= 100
    assert c.flush(timeout=0.3) is False  # cannot drain, and says so instead of hanging
    c.shutdown(timeout=0.2)


def test_retries_503_honouring_retry_after(recorder):
    """A 503 with Retry-After is retried after that delay; nothing is lost."""
    url, rec = recorder
    rec.failures, rec.retry_after = 2, "0.3"
    c = watchkeeper.Client(endpoint=url, api_key="wk_test", flush_interval=0.05)
    rid = c.log_prediction("m", {"x": 1}, 1, latency_ms=3)
    c.log_label(rid, 1)
    assert c.flush(timeout=10)
    s = c.stats()
    assert s["retries"] >= 2 and s["sent"] == 2 and s["dropped"] == 0
    gaps = [b - a for a, b in zip(rec.times, rec.times[1:3])]
    assert all(g >= 0.25 for g in gaps), gaps
    paths = {p.split("?")[0] for p, _, _ in rec.received}
    assert paths == {"/api/v1/predictions", "/api/v1/labels"}
    assert all(auth == "Bearer wk_test" for _, auth, _ in rec.received)
    c.shutdown()


def test_environment_configures_the_client(monkeypatch, recorder):
    """WATCHKEEPER_* variables fill in what init() is not given; arguments win."""
    url, rec = recorder
    monkeypatch.setenv("WATCHKEEPER_ENDPOINT", url)
    monkeypatch.setenv("WATCHKEEPER_PROJECT", "from-env")
    monkeypatch.setenv("WATCHKEEPER_SAMPLE_RATE", "0.5")
    c = watchkeeper.Client()
    assert (c.endpoint, c.project, c.sample_rate) == (url, "from-env", 0.5)
    assert watchkeeper.Client(project="arg").project == "arg"
    monkeypatch.setenv("WATCHKEEPER_SAMPLE_RATE", "lots")
    with pytest.raises(ConfigError, match="WATCHKEEPER_SAMPLE_RATE has value 'lots'"):
        watchkeeper.Client()
    with pytest.raises(ConfigError, match="between 0 and 1"):
        watchkeeper.Client(sample_rate=1.5)


def test_module_functions_before_init_are_noops(caplog):
    """Before init() the module functions do nothing and warn once."""
    watchkeeper.shutdown()
    assert watchkeeper.log_prediction(model="m", output=1, request_id="x") == "x"
    watchkeeper.log_label("x", 1)
    assert watchkeeper.stats()["sent"] == 0
    assert sum("before watchkeeper.init()" in r.message for r in caplog.records) <= 1


def test_forked_child_sends_its_own_events(recorder):
    """After fork the child has a working queue and thread, and does not resend the parent's events."""
    url, rec = recorder
    c = watchkeeper.Client(endpoint=url, flush_interval=0.05)
    c.log_prediction("m", None, 1, request_id="parent")
    assert c.flush(5)
    pid = os.fork()
    if pid == 0:  # child
        c.log_prediction("m", None, 1, request_id="child")
        ok = c.flush(5)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    ids = [r["request_id"] for _, _, recs in rec.received for r in recs]
    assert ids.count("parent") == 1 and ids.count("child") == 1
    c.shutdown()


def test_unserialisable_values_do_not_break_the_batch(recorder):
    """Odd values (sets, objects) are stringified on the sender thread, never raised to the caller."""
    url, rec = recorder
    c = watchkeeper.Client(endpoint=url, flush_interval=0.05)
    c.log_prediction("m", {"s": {1, 2}, "o": object()}, 1)
    assert c.flush(5)
    (rec_,) = rec.received[0][2]
    assert rec_["inputs"]["s"] == [1, 2] and rec_["inputs"]["o"].startswith("<object")
    c.shutdown()
