"""The ingest log: acknowledged batches survive a crash before they reach DuckDB; torn tails are ignored."""

from __future__ import annotations

import json
import os
import urllib.request

import pyarrow as pa
import pytest
from helpers import LiveServer, duckdb_url

from watchkeeper.server.ingest_log import IngestLog


def test_log_round_trip_and_torn_tail(tmp_path):
    """Intact records come back in order; a half-written last record is dropped, not misread."""
    log = IngestLog(str(tmp_path / "x.log"))
    t1 = pa.table({"a": [1, 2, 3]})
    t2 = pa.table({"b": ["x", "y"]})
    p1 = log.append([("predictions", t1)])
    p2 = log.append([("labels", t2), ("predictions", t1)])
    log.close()
    with open(tmp_path / "x.log", "ab") as f:
        f.write(b"\x10\x00\x00\x00garbage")  # a torn record: length says 16, CRC cannot match
    log = IngestLog(str(tmp_path / "x.log"))
    got = list(log.records())
    assert [pos for pos, _ in got] == [p1, p2]
    assert got[1][1][0][0] == "labels" and got[1][1][0][1].equals(t2)
    assert log.end == p2  # the garbage was cut off
    assert list(log.records(p1))[0][0] == p2
    gen = log.gen
    log.reset()
    assert log.empty and log.gen == gen + 1 and list(log.records()) == []


def test_a_table_with_its_ipc_stream_at_hand_is_logged_as_that_stream(tmp_path):
    """An ingest worker's Arrow IPC stream goes into the log as it is (no second serialisation) and reads
    back as the same table; a table without one is serialised."""
    from watchkeeper.ingest.prepare import pack, unpack
    from watchkeeper.ingest.records import Batch

    cols = {"project": ["p"] * 3, "kind": ["thumbs"] * 3, "request_id": ["a", "b", "c"], "value": ["1", "0", "1"]}
    from watchkeeper.store.schema import TABLES

    cols.update({name: [None] * 3 for name, _ in TABLES["feedback"] if name not in cols})
    batch = unpack(pack(Batch("feedback", cols, rows=3)))
    assert batch.ipc and batch.table.num_rows == 3
    log = IngestLog(str(tmp_path / "s.log"))
    other = pa.table({"a": [1, 2]})
    log.append([("feedback", batch.table), ("labels", other)], [batch.ipc, None])
    assert batch.ipc in open(tmp_path / "s.log", "rb").read()
    (_, tables), = list(log.records())
    assert tables[0][1].equals(batch.table) and tables[1][1].equals(other)


@pytest.mark.e2e
def test_rows_only_in_the_log_are_replayed_after_sigkill(tmp_path):
    """A batch acknowledged and killed before any commit to DuckDB is there after restart."""
    url = duckdb_url(tmp_path / "crash.duckdb")
    server = LiveServer(url).start()
    try:
        body = json.dumps([{"request_id": f"c{i}", "model": "m", "output": 1} for i in range(300)]).encode()
        req = urllib.request.Request(server.url + "/api/v1/predictions", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
        assert urllib.request.urlopen(req, timeout=30).status == 200
    finally:
        server.kill()  # well inside the 1 s commit window: the rows are only in the ingest log
    assert os.path.getsize(str(tmp_path / "crash.duckdb") + ".ingest-log") > 1000
    again = LiveServer(url).start()
    try:
        page = json.loads(urllib.request.urlopen(again.url + "/api/v1/predictions?limit=1000", timeout=30).read())
        assert sorted(p["request_id"] for p in page["predictions"]) == sorted(f"c{i}" for i in range(300))
    finally:
        again.stop()
    assert os.path.getsize(str(tmp_path / "crash.duckdb") + ".ingest-log") < 100  # emptied after replay


def test_reads_see_every_acknowledged_row_at_once(tmp_path):
    """A query right after a 200 sees the batch (the writer commits pending rows before reads)."""
    from fastapi.testclient import TestClient

    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    app = create_app(ServerConfig(store_url=duckdb_url(tmp_path / "r.duckdb")))
    assert app.state.wk.store.ingest_log_path is not None
    with TestClient(app) as client:
        _post_and_read(client)


def _post_and_read(client) -> None:
    for k in range(5):
        r = client.post("/api/v1/predictions", json=[{"request_id": f"r{k}-{i}", "model": "m", "output": 0} for i in range(50)])
        assert r.status_code == 200
        n = len(client.get("/api/v1/predictions", params={"limit": 1000}).json()["predictions"])
        assert n == 50 * (k + 1)


def test_metadata_reads_and_background_jobs_do_not_force_commits(tmp_path, monkeypatch):
    """Only a query on an event table waits for acknowledged rows; settings lookups and scheduled jobs
    (relaxed reads) see what is committed, so they never break up the group commits."""
    import threading

    from fastapi.testclient import TestClient

    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig
    from watchkeeper.server import queue as q
    from watchkeeper.server.queue import relax_reads

    monkeypatch.setattr(q, "COMMIT_AGE_S", 120.0)  # no commit by age during the test
    app = create_app(ServerConfig(store_url=duckdb_url(tmp_path / "m.duckdb")))
    store, queue = app.state.wk.store, app.state.wk.queue
    with TestClient(app) as client:
        r = client.post("/api/v1/predictions", json=[{"request_id": f"m{i}", "model": "m", "output": 0} for i in range(50)])
        assert r.status_code == 200 and queue.pending_rows == 50  # acknowledged, only in the ingest log
        store.rows("SELECT name, value FROM project_settings WHERE project = ?", ["default"])
        assert queue.pending_rows == 50
        seen = []
        job = threading.Thread(target=lambda: (relax_reads(), seen.append(store.rows("SELECT count(*) AS n FROM predictions"))))
        job.start()
        job.join(10)
        assert seen and queue.pending_rows == 50
        assert store.rows("SELECT count(*) AS n FROM predictions")[0]["n"] == 50  # an event read commits first
        assert queue.pending_rows == 0


def test_heavy_ingest_commits_in_bigger_groups_and_a_trickle_still_every_commit_age(tmp_path, monkeypatch):
    """Few pending rows commit after COMMIT_AGE_S; past BUSY_ROWS the writer waits up to BUSY_COMMIT_AGE_S so
    that DuckDB gets large commits. Either way a read commits first."""
    import time

    from watchkeeper.ingest.records import Batch
    from watchkeeper.server import queue as q
    from watchkeeper.store import open_store
    from watchkeeper.store.schema import TABLES, to_arrow

    monkeypatch.setattr(q, "COMMIT_AGE_S", 0.3)
    monkeypatch.setattr(q, "BUSY_COMMIT_AGE_S", 3.0)
    monkeypatch.setattr(q, "BUSY_ROWS", 100)
    store = open_store(duckdb_url(tmp_path / "c.duckdb"))
    iq = q.IngestQueue(store.write, store=store)

    def batch(prefix: str, n: int) -> Batch:
        cols = {"project": ["default"] * n, "model": ["m"] * n, "model_version": ["1"] * n,
                "request_id": [f"{prefix}{i}" for i in range(n)], "ts": [1_700_000_000_000_000] * n,
                "received_at": [1_700_000_000_000_000] * n}
        cols.update({name: [None] * n for name, _ in TABLES["predictions"] if name not in cols})
        return Batch("predictions", cols, rows=n, table=to_arrow("predictions", cols))

    def committed() -> int:
        q._relaxed.on = True  # count what is in DuckDB without forcing a commit
        try:
            return store.rows("SELECT count(*) AS n FROM predictions")[0]["n"]
        finally:
            q._relaxed.on = False

    try:
        iq.submit([batch("a", 10)]).result(10)
        time.sleep(1.0)
        assert iq.pending_rows == 0 and committed() == 10  # a trickle: committed after COMMIT_AGE_S
        iq.submit([batch("b", 500)]).result(10)
        time.sleep(1.0)
        assert iq.pending_rows == 500 and committed() == 10  # heavy: still waiting for a bigger group
        deadline = time.monotonic() + 10
        while iq.pending_rows and time.monotonic() < deadline:
            time.sleep(0.1)
        assert iq.pending_rows == 0 and committed() == 510  # committed by BUSY_COMMIT_AGE_S
        iq.submit([batch("c", 500)]).result(10)
        assert store.rows("SELECT count(*) AS n FROM predictions")[0]["n"] == 1010  # a read commits at once
    finally:
        iq.close()
        store.close()


def _prediction_batch(prefix: str, n: int):
    from watchkeeper.ingest.records import Batch
    from watchkeeper.store.schema import TABLES, to_arrow

    cols = {"project": ["default"] * n, "model": ["m"] * n, "model_version": ["1"] * n,
            "request_id": [f"{prefix}{i}" for i in range(n)], "ts": [1_700_000_000_000_000] * n,
            "received_at": [1_700_000_000_000_000] * n}
    cols.update({name: [None] * n for name, _ in TABLES["predictions"] if name not in cols})
    return Batch("predictions", cols, rows=n, table=to_arrow("predictions", cols))


def _request_ids(store) -> list[str]:
    from watchkeeper.server import queue as q

    q._relaxed.on = True  # what is in DuckDB, without forcing a commit
    try:
        return [r["request_id"] for r in store.rows("SELECT request_id FROM predictions")]
    finally:
        q._relaxed.on = False


def test_acknowledgements_go_on_while_a_commit_runs(tmp_path, monkeypatch):
    """A slow commit to the store does not hold up acknowledgements: the writer goes on appending to the log."""
    import threading
    import time

    from watchkeeper.server import queue as q
    from watchkeeper.store import open_store

    monkeypatch.setattr(q, "COMMIT_AGE_S", 0.05)
    store = open_store(duckdb_url(tmp_path / "s.duckdb"))
    write_tables, entered, release = store.write_tables, threading.Event(), threading.Event()

    def slow_write_tables(tables, marker=None):
        entered.set()
        release.wait(20)
        write_tables(tables, marker=marker)

    store.write_tables = slow_write_tables
    iq = q.IngestQueue(store.write, store=store)
    try:
        iq.submit([_prediction_batch("a", 10)]).result(10)
        assert entered.wait(10)  # the first commit is running and blocked
        started = time.monotonic()
        iq.submit([_prediction_batch("b", 10)]).result(10)
        assert time.monotonic() - started < 5 and iq.pending_rows == 20
        release.set()
        assert sorted(r["request_id"] for r in store.rows("SELECT request_id FROM predictions")) == sorted(
            [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)])  # a read waits for both commits
        assert iq.pending_rows == 0
    finally:
        release.set()
        iq.close()
        store.close()


def test_a_large_log_is_sealed_and_dropped_once_committed(tmp_path, monkeypatch):
    """Under steady ingest the log is never empty after a commit; past SEAL_BYTES it is moved aside and
    deleted once its rows are in the store, so it cannot grow without bound."""
    import time

    from watchkeeper.server import queue as q
    from watchkeeper.server.ingest_log import sealed_path
    from watchkeeper.store import open_store

    monkeypatch.setattr(q, "COMMIT_AGE_S", 0.0)
    monkeypatch.setattr(q, "SEAL_BYTES", 20_000)
    store = open_store(duckdb_url(tmp_path / "g.duckdb"))
    write_tables = store.write_tables

    def slow_write_tables(tables, marker=None):  # the store lags behind: appends arrive during every commit
        time.sleep(0.05)
        write_tables(tables, marker=marker)

    store.write_tables = slow_write_tables
    iq = q.IngestQueue(store.write, store=store)
    log_path = store.ingest_log_path
    sizes, seen_sealed = [], False
    try:
        for k in range(60):
            iq.submit([_prediction_batch(f"g{k}-", 100)]).result(10)
            try:
                sizes.append(os.path.getsize(log_path))
            except FileNotFoundError:  # read between the seal's rename and the new log's creation
                pass
            seen_sealed |= os.path.exists(sealed_path(log_path))
            time.sleep(0.01)
        assert seen_sealed
        ids = [r["request_id"] for r in store.rows("SELECT request_id FROM predictions")]
        assert len(ids) == 6000 and len(set(ids)) == 6000
        assert max(sizes) < 0.3 * 60 * sizes[0]  # the log never held more than a few commits' worth of batches
        assert not os.path.exists(sealed_path(log_path))
    finally:
        iq.close()
        store.close()


@pytest.mark.parametrize("committed", ["nothing", "the sealed log"])
def test_start_up_replays_a_sealed_log_and_then_the_current_one(tmp_path, committed):
    """A crash while a sealed log waited for its commit: start-up replays what the store lacks, once."""
    from watchkeeper.server import queue as q
    from watchkeeper.server.ingest_log import sealed_path
    from watchkeeper.store import open_store

    store = open_store(duckdb_url(tmp_path / "r.duckdb"))
    log = IngestLog(store.ingest_log_path)
    old = _prediction_batch("old", 40)
    end = log.append([("predictions", old.table)])
    if committed == "the sealed log":
        store.ingest_log_marker()  # creates the marker table, as the queue does on start-up
        store.write_tables([("predictions", old.table)], marker=(log.gen, end))
    sealed_gen = log.seal()
    log.append([("predictions", _prediction_batch("new", 30).table)])
    log.close()
    assert os.path.exists(sealed_path(store.ingest_log_path)) and sealed_gen < IngestLog(store.ingest_log_path).gen
    iq = q.IngestQueue(store.write, store=store)
    try:
        ids = _request_ids(store)
        assert sorted(ids) == sorted([f"new{i}" for i in range(30)] + [f"old{i}" for i in range(40)])
        assert not os.path.exists(sealed_path(store.ingest_log_path))
    finally:
        iq.close()
        store.close()


def test_a_new_log_after_a_sealed_one_takes_a_later_generation(tmp_path):
    """If the process dies between sealing and starting the new log, the log made at start-up still
    comes after the sealed one."""
    path = str(tmp_path / "x.log")
    log = IngestLog(path)
    log.reset(7)
    log.close()
    os.replace(path, path + ".sealed")
    assert IngestLog(path).gen == 8
