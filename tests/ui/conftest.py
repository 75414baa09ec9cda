"""Browser fixtures: one `watchkeeper demo` server for every UI test, Debian's Chromium driven by Playwright.

The demo fills the server with its simulated workload; on top of it the setup posts LLM traces over
OTLP/JSON (a RAG agent with streamed tokens, retrieval and tool calls, and one 50,000-span trace).
Screenshots land in test-artifacts/ui/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
WIDE_TRACE = "ab" * 16
WIDE_SPANS = 50_000

_spec = importlib.util.spec_from_file_location("ui_otlp_traces", Path(__file__).with_name("otlp_traces.py"))
otlp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(otlp)


def _require_browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (scripts/test does) to run the browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install 'watchkeeper[test]')")


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory):
    """A `watchkeeper demo` subprocess on a free loopback port, with LLM traces posted on top."""
    _require_browser()
    folder = tmp_path_factory.mktemp("ui-demo")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(folder / "demo.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "watchkeeper.cli", "demo", "--port", str(port), "--store",
                             "duckdb:////" + str(folder / "demo.duckdb").lstrip("/")], stdout=log, stderr=subprocess.STDOUT,
                            cwd=folder)
    try:
        deadline = time.monotonic() + 40
        while True:
            if proc.poll() is not None:
                raise RuntimeError("demo exited: " + (folder / "demo.log").read_text(errors="replace")[-2000:])
            try:
                _get(url + "/health", 1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError("demo server did not come up")
                time.sleep(0.2)
        rng = random.Random(11)
        now = time.time()
        for i in range(24):
            otlp.post(url, otlp.rag_trace(rng, now - 1500 + i * 60, prompt_version="v4" if i % 2 else "v3",
                                          tool_error=i % 6 == 3, slow=i % 5 == 0))
        spans = otlp.wide_trace(WIDE_TRACE, WIDE_SPANS, now - 900, rng)
        for i in range(0, len(spans), 10_000):
            otlp.post(url, spans[i:i + 10_000], service="indexer")
        deadline = time.monotonic() + 40  # the demo back-fills history, then labels trickle in
        while time.monotonic() < deadline:
            models = _get(url + "/api/v1/overview?since=1h")["models"]
            traces = _get(url + "/api/v1/traces?limit=30")["traces"]
            if models and models[0]["labelled"] > 0 and len(traces) >= 25:
                break
            time.sleep(1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def ui_artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Console:
    """Console errors, uncaught exceptions and requests that left the server's origin."""

    def __init__(self, page, origin: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.foreign.append(r.url) if not r.url.startswith((origin, "data:", "blob:")) else None)


@pytest.fixture
def ui(browser, demo_url):
    """A fresh browser context on the demo server; fails the test on any console error or off-origin request."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    console = Console(page, demo_url)
    page.base = demo_url
    page.console = console
    page.open = lambda path: open_page(page, path)
    page.shoot = lambda name: shoot(page, name)
    yield page
    ctx.close()
    assert not console.errors, console.errors
    assert not console.foreign, f"the UI fetched assets from elsewhere: {console.foreign[:5]}"


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_page(page, path: str) -> None:
    """Navigate and wait until the page's main data is rendered."""
    page.goto(page.base + path)
    page.wait_for_selector("main[data-ready]")
