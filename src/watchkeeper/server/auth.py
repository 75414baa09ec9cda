"""Who is calling: an API key (Authorization: Bearer or X-API-Key) mapped to a project and scopes.

With no keys in the store the server runs open (allowed only on loopback, or with --insecure), and
the project comes from the X-Watchkeeper-Project header or defaults to "default". As soon as one key
exists, every request needs a key, and a key only ever sees its own project.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from fastapi import Request

from ..errors import AuthError
from ..store.base import KeyRecord

DEFAULT_PROJECT = "default"
_PROJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_CACHE_TTL = 30.0


@dataclass(frozen=True)
class Principal:
    project: str
    scopes: tuple[str, ...]
    key_id: str | None = None

    def require(self, scope: str) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            err = AuthError(f"this key lacks the {scope!r} scope")
            err.status = 403  # type: ignore[attr-defined]
            raise err


class Authenticator:
    def __init__(self, meta):
        self.meta = meta
        self._keys: dict[str, tuple[float, KeyRecord | None]] = {}
        self._has_keys: tuple[float, bool] = (0.0, False)

    def keys_exist(self) -> bool:
        checked, value = self._has_keys
        now = time.monotonic()
        if now - checked > 5.0:
            value = self.meta.has_keys()
            self._has_keys = (now, value)
        return value

    def forget(self) -> None:
        self._keys.clear()
        self._has_keys = (0.0, False)

    def _lookup(self, secret: str) -> KeyRecord | None:
        now = time.monotonic()
        hit = self._keys.get(secret)
        if hit is not None and now - hit[0] < _CACHE_TTL:
            return hit[1]
        record = self.meta.find_key(secret)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[secret] = (now, record)
        return record

    def principal(self, request: Request, scope: str) -> Principal:
        secret = _secret(request)
        wanted = request.headers.get("x-watchkeeper-project") or request.query_params.get("project")
        if secret is None:
            if self.keys_exist():
                raise AuthError("an API key is required: send Authorization: Bearer <key>")
            project = wanted or DEFAULT_PROJECT
            if not _PROJECT_RE.match(project):
                raise AuthError(f"invalid project name {project[:64]!r}")
            return Principal(project, ("ingest", "read", "admin"))
        record = self._lookup(secret)
        if record is None:
            raise AuthError("unknown or revoked API key")
        if wanted and wanted != record.project:
            err = AuthError(f"this key belongs to project {record.project!r}, not {wanted[:64]!r}")
            err.status = 403  # type: ignore[attr-defined]
            raise err
        principal = Principal(record.project, record.scopes, record.id)
        principal.require(scope)
        return principal


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key else None
