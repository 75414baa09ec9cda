"""``watchkeeper.release(model, alias="production")``: which release should this service serve?

    rel = watchkeeper.release("fraud-detector")          # {"id": ..., "model_version": ..., "prompt_version": ...}
    model = load(rel["model_version"]); log_prediction(..., release=rel["id"])

Cheap: answers from memory for ``ttl`` seconds (default 30), then asks the server again. Survives
an outage: when the server cannot be reached, the last known answer is returned (from memory, or
from a small JSON file cache that outlives the process, under ``$WATCHKEEPER_CACHE_DIR`` or
``~/.cache/watchkeeper``). Only when there has never been an answer does it raise ``LookupError``.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from ..settings import resolve
from .transport import Transport

DEFAULT_TTL_S = 30.0
_cache: dict[tuple, tuple[float, dict]] = {}
_lock = threading.Lock()


def _cache_dir() -> Path:
    base = os.environ.get("WATCHKEEPER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "watchkeeper")
    return Path(base) / "releases"


def _file(key: tuple) -> Path:
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
    return _cache_dir() / f"{digest}.json"


def _save(key: tuple, value: dict) -> None:
    try:
        path = _file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".release-")
        with os.fdopen(fd, "w") as fh:
            json.dump({"key": list(key), "saved_at": time.time(), "release": value}, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only disk only costs the outage fallback across restarts


def _load(key: tuple) -> dict | None:
    try:
        doc = json.loads(_file(key).read_text())
        return doc["release"] if doc.get("key") == list(key) else None
    except (OSError, ValueError, KeyError):
        return None


def release(model: str, alias: str = "production", *, endpoint: str | None = None, api_key: str | None = None,
            project: str | None = None, ttl: float = DEFAULT_TTL_S, timeout: float = 2.0) -> dict:
    """The release ``alias`` of ``model`` points at (a dict of its versions and config).

    The answer carries ``stale: True`` when it is the last known one because the server did not answer.
    """
    from .default import get_client

    client = get_client()  # settings given to watchkeeper.init() apply here too
    if client is not None:
        endpoint = endpoint or client.endpoint
        api_key = api_key or client.api_key
        project = project or client.project
    endpoint = resolve("endpoint", endpoint)
    api_key = resolve("api_key", api_key)
    project = resolve("project", project)
    key = (endpoint.rstrip("/"), project, model, alias)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return dict(hit[1])
    try:
        transport = Transport(endpoint, api_key, project, timeout)
        try:
            reply = transport.get(f"/api/v1/aliases/{quote(model, safe='')}/{quote(alias, safe='')}")
        finally:
            transport.close()
    except OSError as exc:
        return _fallback(key, hit, f"server unreachable: {exc}")
    except Exception as exc:  # http.client errors and anything else on the wire
        return _fallback(key, hit, f"{type(exc).__name__}: {exc}")
    if reply.status == 200:
        value = json.loads(reply.body)
        value["stale"] = False
        with _lock:
            _cache[key] = (now, value)
        _save(key, value)
        return dict(value)
    if reply.status == 404:
        raise LookupError(f"model {model!r} has no alias {alias!r} on {endpoint}")
    if reply.status in (401, 403):
        raise PermissionError(f"the server refused the release lookup ({reply.status}): check the API key")
    return _fallback(key, hit, f"server answered {reply.status}")


def _fallback(key: tuple, hit: tuple | None, why: str) -> dict:
    value = hit[1] if hit is not None else _load(key)
    if value is None:
        raise LookupError(f"cannot resolve {key[2]!r}/{key[3]!r} ({why}) and no earlier answer is cached")
    out = dict(value, stale=True, stale_reason=why)
    with _lock:  # serve the stale answer for a while instead of hammering a dead server
        _cache[key] = (time.monotonic(), dict(out))
    return out


def clear_cache(files: bool = False) -> None:
    """Forget cached answers (memory; and the file cache with ``files=True``)."""
    with _lock:
        _cache.clear()
    if files:
        for path in _cache_dir().glob("*.json"):
            try:
                path.unlink()
            except OSError:
                pass
