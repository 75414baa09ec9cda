"""`watchkeeper demo`: the server plus a simulated production workload."""

from __future__ import annotations

import importlib
import os
import tempfile
import threading
import time
import urllib.request

import click

from .serve import build_app, run_app


def _wait_ready(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            return True
        except Exception:
            time.sleep(0.1)
    return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4318, show_default=True, type=int)
@click.option("--store", "store_url", default=None, help="Event store URL (default: a fresh DuckDB file in a temp dir).")
@click.option("--meta", "meta_url", default=None)
def demo(host, port, store_url, meta_url):
    """Run the server with a simulated workload: a drifting fraud model with delayed labels, and more."""
    from ..demo import SCENARIOS

    if store_url is None:
        folder = tempfile.mkdtemp(prefix="watchkeeper-demo-")
        store_url = "duckdb:////" + os.path.join(folder, "demo.duckdb").lstrip("/")
    app, config = build_app(host, port, store_url, meta_url, insecure=None)
    url = f"http://{host}:{port}"
    stop = threading.Event()

    def workload():
        if not _wait_ready(url):
            click.echo("demo: the server did not come up; no workload started", err=True)
            return
        for name in SCENARIOS:
            importlib.import_module(name).start(url, stop)
        click.echo(f"demo: workload running. Open {url}/ in a browser (API: {url}/api/v1/models, metrics: {url}/metrics)", err=True)

    threading.Thread(target=workload, name="demo-starter", daemon=True).start()
    try:
        run_app(app, config, banner="  [demo]")
    finally:
        stop.set()
