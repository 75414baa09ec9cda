"""Periodic jobs: the scheduler's timing, the worker's leader lock on PostgreSQL, the embedded
scheduler of `serve`, and `watchkeeper migrate` on every backend."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient

from watchkeeper.control import scheduler
from watchkeeper.store import open_store


@pytest.fixture
def job():
    """A test job registered for the duration of one test; calls are recorded."""
    calls: list[float] = []
    state = {"fail": False}

    state["store"] = None

    def fn(store, meta):
        if state["store"] is not None and store is not state["store"]:
            return  # another server's scheduler in this process (a still-open test app) ran the job
        calls.append(time.time())
        if state["fail"]:
            raise RuntimeError("job broke")

    scheduler.register_job("test.job", 10.0, fn)
    yield calls, state
    with scheduler._guard:
        scheduler._JOBS.pop("test.job", None)


def test_run_due_respects_intervals_and_records_failures(job):
    """A job runs when due, not again within its interval, and a failure is recorded and retried."""
    calls, state = job
    store = open_store("duckdb://:memory:")
    state["store"] = store
    sched = scheduler.Schedule()
    assert "test.job" in scheduler.run_due(store, store, now=1000.0, schedule=sched)
    assert "test.job" not in scheduler.run_due(store, store, now=1005.0, schedule=sched)
    state["fail"] = True
    assert "test.job" in scheduler.run_due(store, store, now=1010.0, schedule=sched)
    assert sched.last_error["test.job"] == "RuntimeError: job broke" and len(calls) == 2
    state["fail"] = False
    scheduler.run_due(store, store, now=1020.0, schedule=sched)
    assert sched.last_error["test.job"] is None and len(calls) == 3
    store.close()


def test_a_job_locked_elsewhere_is_skipped(job):
    """While another holder has the job's lock, run_due skips it."""
    calls, _ = job
    store = open_store("duckdb://:memory:")
    assert store.try_lock("watchkeeper.job.test.job")
    assert "test.job" not in scheduler.run_due(store, store, now=1.0, schedule=scheduler.Schedule())
    store.unlock("watchkeeper.job.test.job")
    assert "test.job" in scheduler.run_due(store, store, now=1.0, schedule=scheduler.Schedule()) and len(calls) == 1
    store.close()


def test_only_one_worker_leads_and_a_standby_takes_over(job, postgres_url):
    """Two workers on one PostgreSQL: one runs the jobs, the other stands by until the first is gone."""
    from watchkeeper.cli.worker import run_worker
    from watchkeeper.store.meta import open_meta_store

    calls, _ = job
    store = open_store("chdb://:memory:")
    first, second = open_meta_store(postgres_url), open_meta_store(postgres_url)
    said: list[str] = []
    stop = threading.Event()
    held = threading.Thread(target=run_worker, args=(store, first, stop), kwargs={"tick_s": 0.05, "say": lambda m, **k: said.append(m)})
    held.start()
    try:
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls, said
        assert run_worker(store, second, threading.Event(), once=True, say=lambda m, **k: said.append(m)) == []
        assert any("standing by" in m for m in said)
    finally:
        stop.set()
        held.join(10)
    first.close()  # its session ends: the leader lock is free
    ran = run_worker(store, second, threading.Event(), once=True, say=lambda m, **k: None)
    assert "test.job" in ran
    second.close()
    store.close()


def test_serve_runs_jobs_itself_unless_metadata_is_shared(job, monkeypatch, postgres_url):
    """Embedded mode runs due jobs in a background thread; with PostgreSQL metadata it leaves them to the worker."""
    from watchkeeper.server import scheduler as embedded
    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    calls, _ = job
    monkeypatch.setattr(embedded, "FIRST_DELAY_S", 0.05)
    app = create_app(ServerConfig(store_url="chdb://:memory:"))
    assert app.state.wk.extras["scheduler"]["mode"] == "embedded"
    with TestClient(app) as c:
        deadline = time.monotonic() + 15
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls
        deadline = time.monotonic() + 5
        while c.get("/health").json()["last_monitor_run"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "test.job" in c.get("/health").json()["last_monitor_run"]["jobs"]
    scaled = create_app(ServerConfig(store_url="chdb://:memory:", meta_url=postgres_url))
    assert scaled.state.wk.extras["scheduler"]["mode"] == "worker"
    with TestClient(scaled):
        pass


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli", *args], capture_output=True, text=True, timeout=120)


def test_migrate_and_worker_commands_on_chdb_with_postgres(tmp_path, postgres_url):
    """`migrate` creates both schemas then has nothing left to do; `worker --once` runs against them."""
    store = "chdb:////" + str(tmp_path / "wk.chdb").lstrip("/") + "?retention_days=30"
    out = _cli("migrate", "--store", store, "--meta", postgres_url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("migration(s); schema is current") == 2 and "applied 0" not in out.stdout
    again = _cli("migrate", "--store", store, "--meta", postgres_url)
    assert again.returncode == 0 and again.stdout.count("applied 0 migration(s)") == 2, again.stdout + again.stderr
    worker = _cli("worker", "--once", "--store", store, "--meta", postgres_url)
    assert worker.returncode == 0 and worker.stdout.startswith("ran:"), worker.stderr
    from watchkeeper.store.chdb import ChDBStore

    s = ChDBStore(str(tmp_path / "wk.chdb"))
    ddl = s.rows("SELECT create_table_query AS q FROM system.tables WHERE database = ? AND name = 'predictions'", [s.database])
    assert "TTL toDateTime(ts) + toIntervalDay(30)" in ddl[0]["q"]
    s.close()


def test_migrate_names_an_unreachable_metadata_store_in_one_line(tmp_path):
    """A PostgreSQL URL nobody answers at gives a one-line error, not a traceback."""
    store = "duckdb:////" + str(tmp_path / "wk.duckdb").lstrip("/")
    out = _cli("migrate", "--store", store, "--meta", "postgresql://nobody@127.0.0.1:9/none")
    assert out.returncode == 1 and "PostgreSQL is not reachable" in out.stderr and "Traceback" not in out.stderr
