"""Shared fixtures: an in-process app over in-memory DuckDB, and real servers on loopback."""

from __future__ import annotations

import pytest
from helpers import LiveServer, duckdb_url


@pytest.fixture
def live_server(tmp_path):
    servers = []

    def start(store_url: str | None = None, *args: str, env: dict | None = None) -> LiveServer:
        server = LiveServer(store_url or duckdb_url(tmp_path / "wk.duckdb"), args, env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def app():
    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    return create_app(ServerConfig(store_url="duckdb://:memory:"))


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
