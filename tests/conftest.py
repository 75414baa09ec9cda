"""Shared fixtures: an in-process app over in-memory DuckDB, and real servers on loopback."""

from __future__ import annotations

import os

import pytest
from helpers import LiveServer, duckdb_url

# Which event store the app/live_server fixtures use: WATCHKEEPER_TEST_STORE=duckdb (default) or chdb.
TEST_STORE = os.environ.get("WATCHKEEPER_TEST_STORE", "duckdb").strip().lower() or "duckdb"
if TEST_STORE not in ("duckdb", "chdb"):
    raise pytest.UsageError(f"WATCHKEEPER_TEST_STORE has value {TEST_STORE!r}. Expected duckdb or chdb.")
# WATCHKEEPER_TEST_META=postgresql: the app/live_server fixtures keep metadata in the session's real PostgreSQL.
TEST_META = os.environ.get("WATCHKEEPER_TEST_META", "").strip().lower()
if TEST_META not in ("", "postgresql"):
    raise pytest.UsageError(f"WATCHKEEPER_TEST_META has value {TEST_META!r}. Expected postgresql or nothing.")


def event_store_url(path) -> str:
    """A file-backed event store URL for the backend under test (``path`` without extension)."""
    if TEST_STORE == "chdb":
        return "chdb:////" + str(path).lstrip("/") + ".chdb"
    return duckdb_url(path.with_suffix(".duckdb") if hasattr(path, "with_suffix") else f"{path}.duckdb")


@pytest.fixture
def store_url(tmp_path):
    """A fresh file-backed event store URL of the backend under test."""
    return event_store_url(tmp_path / "wk")


@pytest.fixture
def live_server(tmp_path, request):
    servers = []

    def start(store_url: str | None = None, *args: str, env: dict | None = None) -> LiveServer:
        if TEST_META and "--meta" not in args:
            args = (*args, "--meta", request.getfixturevalue("postgres_url"))
        server = LiveServer(store_url or event_store_url(tmp_path / "wk"), args, env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def app(request):
    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    meta_url = request.getfixturevalue("postgres_url") if TEST_META else None
    return create_app(ServerConfig(store_url=f"{TEST_STORE}://:memory:", meta_url=meta_url))


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL on a free loopback port for the whole session, stopped by PID at the end."""
    from pg_server import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    import shutil
    import tempfile

    root = tempfile.mkdtemp(prefix="wk-postgres-")  # under /tmp: pytest's own tmp dir is private to root
    server = PgServer(root, bindir).init().start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40] + "_" + os.urandom(3).hex()
    return postgres_server.create_database(name)


_exit_status = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave without interpreter finalisation once pytest has printed its summary.

    Native extensions (DuckDB's nanobind bindings, chdb's engine) print reference-leak reports or
    crash while Python tears down module state; neither says anything about the tests, and the
    report would bury pytest's closing line. Servers the tests started are separate processes and
    were stopped by their fixtures.
    """
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status["code"])
