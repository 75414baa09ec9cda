"""API keys: scopes, project isolation, refusing to run open on a public address."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient


def _h(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_keys_separate_projects_and_scopes(app):
    """A key of project A can neither read nor write project B, and scopes are enforced."""
    meta = app.state.wk.meta
    _, a_ingest = meta.create_key("a", ["ingest"])
    _, a_read = meta.create_key("a", ["read"])
    _, b_all = meta.create_key("b", ["ingest", "read"])
    with TestClient(app) as c:
        assert c.post("/api/v1/predictions", json=[{"model": "m", "output": 1}]).status_code == 401
        assert c.post("/api/v1/predictions", json=[{"model": "m", "output": 1}], headers=_h("wk_nope")).status_code == 401
        assert c.post("/api/v1/predictions", json=[{"model": "m", "output": 1, "request_id": "ra"}], headers=_h(a_ingest)).status_code == 200
        assert c.post("/api/v1/predictions", json=[{"model": "m", "output": 1, "request_id": "rb"}], headers=_h(b_all)).status_code == 200
        assert c.get("/api/v1/predictions", headers=_h(a_ingest)).status_code == 403  # no read scope
        got_a = c.get("/api/v1/predictions", headers=_h(a_read)).json()["predictions"]
        got_b = c.get("/api/v1/predictions", headers=_h(b_all)).json()["predictions"]
        assert [p["request_id"] for p in got_a] == ["ra"]
        assert [p["request_id"] for p in got_b] == ["rb"]
        # Asking for another project with a key is refused, not silently redirected.
        r = c.get("/api/v1/predictions", headers={**_h(a_read), "X-Watchkeeper-Project": "b"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert c.post("/api/v1/predictions", json=[{"model": "m", "output": 1}],
                      headers={**_h(a_ingest), "X-Watchkeeper-Project": "b"}).status_code == 403


def test_keys_are_stored_hashed(app):
    """The secret never appears in the store, only its hash."""
    meta = app.state.wk.meta
    _, secret = meta.create_key("a", ["admin"])
    rows = meta.rows("SELECT * FROM meta_api_keys")
    assert secret not in repr(rows)
    assert meta.find_key(secret).project == "a"


def test_admin_key_manages_keys_of_its_project_only(app):
    """An admin key creates keys for its own project and cannot mint keys for another."""
    _, admin = app.state.wk.meta.create_key("a", ["admin"])
    with TestClient(app) as c:
        r = c.post("/api/v1/keys", json={"scopes": ["ingest"]}, headers=_h(admin))
        assert r.status_code == 201 and r.json()["project"] == "a" and r.json()["key"].startswith("wk_")
        assert c.post("/api/v1/keys", json={"project": "b"}, headers=_h(admin)).status_code == 403
        assert all(k["project"] == "a" for k in c.get("/api/v1/keys", headers=_h(admin)).json()["keys"])


def test_cli_keys_create_and_server_refuses_public_bind_without_keys(tmp_path):
    """`keys create` prints a working key; `serve` on 0.0.0.0 without keys refuses to start."""
    store = "duckdb:////" + str(tmp_path / "k.duckdb").lstrip("/")
    out = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "serve", "--host", "0.0.0.0", "--port", "1", "--store", store],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "Refusing to listen on 0.0.0.0" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "keys", "create", "--project", "p", "--scope", "ingest",
                          "--store", store], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip()
    from watchkeeper.store import open_store

    s = open_store(store)
    assert s.find_key(secret).scopes == ("ingest",)
    s.close()
