"""A real PostgreSQL server for the tests: initdb into a temp dir, postgres on a free loopback port.

Started once per test session by the ``postgres_server`` fixture in conftest.py, stopped by PID.
As root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from helpers import free_port


def find_bindir() -> str | None:
    """The newest Debian PostgreSQL bin directory, or wherever initdb is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


class PgServer:
    def __init__(self, root: Path, bindir: str):
        self.root, self.bindir = Path(root), bindir
        self.data, self.sockets, self.log = self.root / "data", self.root / "sock", self.root / "pg.log"
        self.port = free_port()
        self.user = "wk"
        self.proc: subprocess.Popen | None = None
        self._as: dict = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def init(self) -> "PgServer":
        self.sockets.mkdir(exist_ok=True)
        if self._as:
            os.chown(self.sockets, self._as["user"], self._as["group"])
        subprocess.run([f"{self.bindir}/initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                        "-E", "UTF8", "--no-sync", "--locale=C"], check=True, capture_output=True, **self._as)
        return self

    def start(self, timeout: float = 30.0) -> "PgServer":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [f"{self.bindir}/postgres", "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
                 "-k", str(self.sockets), "-F", "-c", "max_connections=200", "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, **self._as)
        deadline = time.monotonic() + timeout
        import psycopg

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log.read_text()[-2000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return self
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not accept connections in time")

    def stop(self) -> None:
        """Fast shutdown (SIGINT) of the postmaster we started, by its PID."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
