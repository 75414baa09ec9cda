"""DuckDB schema migrations: fresh stores are current, old ones are refused with the fix, gaps are filled."""

from __future__ import annotations

import subprocess
import sys

import pytest

from watchkeeper.errors import MigrationRequired
from watchkeeper.store import open_store
from watchkeeper.store.duckdb import DuckDBStore
from watchkeeper.store.migrations import latest_version


def _url(tmp_path):
    return "duckdb:////" + str(tmp_path / "m.duckdb").lstrip("/")


def test_old_store_is_refused_until_migrated(tmp_path):
    """A store missing a migration is refused with the command that fixes it; migrate fixes it."""
    s = open_store(_url(tmp_path))
    latest = latest_version("duckdb")
    s._cur().execute("DELETE FROM schema_migrations WHERE version = ?", [latest])
    s.close()
    with pytest.raises(MigrationRequired, match="watchkeeper migrate"):
        open_store(_url(tmp_path))
    raw = DuckDBStore(str(tmp_path / "m.duckdb"))
    raw._cur().execute("DELETE FROM schema_migrations WHERE version = ?", [latest])  # already deleted: no-op
    raw.close()
    out = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "serve", "--port", "1", "--store", _url(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "watchkeeper migrate" in out.stderr and "Traceback" not in out.stderr


def test_migrate_fills_a_gap_below_the_current_version(tmp_path):
    """A migration missing below the newest applied one is applied too (migrations merged out of order)."""
    s = open_store(_url(tmp_path))
    versions = [r[0] for r in s._cur().execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    if len(versions) < 2:
        pytest.skip("needs at least two migrations")
    s._cur().execute("DELETE FROM schema_migrations WHERE version = ?", [versions[0]])
    # Pretend the first migration never ran: drop one of its tables.
    s._cur().execute("DROP TABLE feedback")
    with pytest.raises(MigrationRequired, match="lacks migration"):
        s.check_schema()
    s._cur().execute("DROP TABLE predictions; DROP TABLE labels; DROP TABLE meta_api_keys; DROP TABLE meta_projects")
    assert s.migrate() == 1
    s.check_schema()
    s.close()
