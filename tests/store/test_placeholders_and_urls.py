"""The ? placeholder translation of the ClickHouse and PostgreSQL backends, and their URL errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import free_port
from watchkeeper.errors import ConfigError, StoreError, StoreUnavailable
from watchkeeper.store import open_store
from watchkeeper.store.chbase import render
from watchkeeper.store.postgres import translate


def test_clickhouse_rendering_skips_quotes_and_comments():
    """Only bare ? are parameters; those inside literals, identifiers and comments stay as written."""
    sql = "SELECT '?', \"a?\", `b?` -- c?\n, ? /* d? */ FROM t WHERE x = ?"
    assert render(sql, ["it's", 2]) == "SELECT '?', \"a?\", `b?` -- c?\n, 'it\\'s' /* d? */ FROM t WHERE x = 2"


def test_clickhouse_literals_cover_the_parameter_types():
    """None, bools, numbers, strings with backslashes and lists render as ClickHouse literals."""
    got = render("SELECT ?, ?, ?, ?, ?, ?", [None, True, 3, 1.5, "a\\b'c", ["x", 2]])
    assert got == "SELECT NULL, true, 3, 1.5, 'a\\\\b\\'c', ['x', 2]"


def test_placeholder_count_mismatch_is_an_error():
    """Too few or too many parameters raise StoreError instead of running a different statement."""
    with pytest.raises(StoreError, match="more \\? placeholders"):
        render("SELECT ?, ?", [1])
    with pytest.raises(StoreError, match="1 \\? placeholders but 2"):
        render("SELECT ?", [1, 2])


def test_postgres_translation_doubles_percent_and_leaves_literals():
    """? becomes %s, a literal % becomes %%, and a ? inside quotes is text."""
    assert translate("SELECT '50% ?' AS a, x % 2 FROM t WHERE y = ?") == "SELECT '50%% ?' AS a, x %% 2 FROM t WHERE y = %s"


def test_unreachable_clickhouse_is_store_unavailable_and_bad_urls_say_why():
    """Nobody listening -> StoreUnavailable naming host and port; a URL without host or with a bad db name -> ConfigError."""
    port = free_port()
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port} is not reachable"):
        open_store(f"clickhouse://default:pw@127.0.0.1:{port}/wk")
    with pytest.raises(ConfigError, match="names no host"):
        open_store("clickhouse:///wk")
    with pytest.raises(ConfigError, match="not a plain identifier"):
        open_store("clickhouse://h:1/bad-name")
    with pytest.raises(ConfigError, match="retention_days"):
        open_store("chdb://:memory:?retention_days=soon")


def test_two_chdb_paths_in_one_process_are_refused_clearly(tmp_path):
    """chdb runs one engine per process: a second data directory while the first is open is a clear error."""
    first = open_store("chdb:////" + str(tmp_path / "a.chdb").lstrip("/"))
    try:
        with pytest.raises(StoreError, match="one engine per process"):
            open_store("chdb:////" + str(tmp_path / "b.chdb").lstrip("/"))
        side = open_store("chdb://:memory:")  # an in-memory store shares the open engine, in its own database
        assert side.counts("p")["predictions"] == 0 and side.database != first.database
        side.close()
    finally:
        first.close()


def test_serve_against_unreachable_postgres_is_one_line():
    """`serve --meta` naming a dead PostgreSQL exits 1 with one line and no traceback."""
    out = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "serve", "--port", str(free_port()), "--store",
                          "duckdb://:memory:", "--meta", f"postgresql://wk@127.0.0.1:{free_port()}/x"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "PostgreSQL is not reachable" in out.stderr and "Traceback" not in out.stderr
