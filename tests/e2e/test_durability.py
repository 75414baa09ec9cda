"""An acknowledged batch survives kill -9 of the server."""

from __future__ import annotations

import json
import urllib.request

import pytest

from helpers import LiveServer

pytestmark = pytest.mark.e2e


def _post(url: str, records: list) -> int:
    req = urllib.request.Request(url + "/api/v1/predictions", data=json.dumps(records).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def test_acknowledged_records_survive_sigkill(store_url):
    """Every record acknowledged before SIGKILL is there after restart."""
    url = store_url  # DuckDB, or chdb with WATCHKEEPER_TEST_STORE=chdb
    server = LiveServer(url).start()
    acked = []
    try:
        for b in range(20):
            batch = [{"request_id": f"b{b}-{i}", "model": "m", "output": i % 2, "inputs": {"f": i}} for i in range(500)]
            assert _post(server.url, batch) == 200
            acked += [r["request_id"] for r in batch]
    finally:
        server.kill()  # SIGKILL right after the last acknowledgement: no shutdown hooks run
    assert server.proc.returncode == -9
    again = LiveServer(url).start()
    try:
        ids = []
        cursor = None
        while True:
            q = f"{again.url}/api/v1/predictions?limit=10000" + (f"&cursor={cursor}" if cursor else "")
            page = json.loads(urllib.request.urlopen(q, timeout=30).read())
            ids += [p["request_id"] for p in page["predictions"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert set(acked) <= set(ids)
        assert len(ids) == len(acked)
    finally:
        again.stop()
