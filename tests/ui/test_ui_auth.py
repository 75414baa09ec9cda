"""The UI with API keys on: it asks for a key, and a key only ever shows its own project's data."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from helpers import duckdb_url


def _key(store_url: str, project: str) -> str:
    out = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "keys", "create", "--project", project, "--scope", "read",
                          "--scope", "ingest", "--store", store_url, "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["key"]


def _predict(url: str, key: str, model: str) -> None:
    body = json.dumps([{"model": model, "inputs": {"x": i}, "output": i % 2, "latency_ms": 10.0 + i} for i in range(20)]).encode()
    req = urllib.request.Request(url + "/api/v1/predictions", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    assert urllib.request.urlopen(req, timeout=10).status in (200, 202)


@pytest.fixture
def keyed(live_server, tmp_path):
    store = duckdb_url(tmp_path / "keyed.duckdb")
    keys = {"alpha": _key(store, "alpha"), "beta": _key(store, "beta")}
    server = live_server(store)
    _predict(server.url, keys["alpha"], "alpha-model")
    _predict(server.url, keys["beta"], "beta-model")
    return server.url, keys


def _sign_in(page, key: str) -> None:
    page.wait_for_selector("#login[open]")
    page.fill("#login-key", key)
    page.click("#login button[type=submit]")
    page.wait_for_selector("main[data-ready]")


def _wait_for_model(page, model: str) -> None:
    for _ in range(20):  # ingest is asynchronous: give the queue a moment
        if page.locator("tbody tr", has_text=model).count():
            return
        page.wait_for_timeout(250)
        page.click("#reload")
        page.wait_for_selector("main[data-ready]")


def test_ui_asks_for_a_key_and_isolates_projects(browser, keyed, ui_artifacts):
    """Without a key the UI asks for one; beta's key sees beta's model only, and alpha's deep link stays hidden."""
    url, keys = keyed
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    page.wait_for_selector("#login[open]")
    page.screenshot(path=str(ui_artifacts / "auth-prompt.png"))
    page.fill("#login-key", "wk_not_a_real_key")
    page.click("#login button[type=submit]")
    page.wait_for_function("() => document.querySelector('#login-error').textContent.length > 0")
    assert page.locator("#login[open]").count() == 1
    page.fill("#login-key", keys["beta"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("main[data-ready=overview]")
    _wait_for_model(page, "beta-model")
    assert page.locator("tbody tr", has_text="beta-model").count() == 1
    assert "alpha-model" not in page.locator("main").inner_text()
    assert "beta" in page.locator("#project").inner_text()
    requests = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/" in r.url else None)
    page.goto(url + "/models/alpha-model")
    page.wait_for_selector("main[data-ready]")
    assert "No model named" in page.locator("main").inner_text()
    assert requests and all(r.headers.get("authorization") == "Bearer " + keys["beta"] for r in requests)
    page.click("#signout")
    _sign_in(page, keys["alpha"])
    _wait_for_model(page, "alpha-model")
    assert "beta-model" not in page.locator("main").inner_text()
    assert not errors, errors
    ctx.close()
