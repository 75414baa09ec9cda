"""Test helpers: real servers on loopback and store URLs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real `watchkeeper serve` process on a free loopback port."""

    def __init__(self, store_url: str, extra_args: tuple[str, ...] = (), env: dict | None = None):
        self.store_url = store_url
        self.extra_args = extra_args
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "LiveServer":
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli", "serve", "--port", str(self.port), "--store", self.store_url,
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read().decode(errors='replace')}")
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def duckdb_url(path: Path) -> str:
    return "duckdb:////" + str(path).lstrip("/")


SECURITY_CORPUS = Path(os.environ.get("WATCHKEEPER_SECURITY_CORPUS",
                                      Path(__file__).resolve().parents[2] / "shared" / "corpora" / "security"))
SECURITY_LABELS = ("injection", "jailbreak", "extraction", "benign", "pii")


def security_texts(name: str) -> list[str]:
    """The ``text`` of every record of ``<name>.jsonl`` in the security corpus; skips the test without it."""
    import json

    import pytest

    if not SECURITY_CORPUS.is_dir():
        pytest.skip(f"security corpus not found at {SECURITY_CORPUS}")
    with (SECURITY_CORPUS / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def on_and_off(switch, fn, text):
    """(as the fast path ``switch`` is, with it off) answers of ``fn`` for ``text``; ``switch`` turns a fast
    path on or off and returns its previous setting (``textfacts.set_enabled``, ``literals.set_compiled``)."""
    prev = switch(False)
    try:
        slow = fn(text)
    finally:
        switch(prev)
    return fn(text), slow


def gated_and_ungated(fn, text):
    """(with the security fast-path gates, without them) answers of ``fn`` for ``text``."""
    from watchkeeper.security import textfacts

    return on_and_off(textfacts.set_enabled, fn, text)
