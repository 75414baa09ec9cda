"""API key format and hashing, shared by every MetaStore backend."""

from __future__ import annotations

import hashlib
import secrets

SCOPES = ("ingest", "read", "admin")
PREFIX = "wk_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(30)


def hash_secret(secret: str) -> str:
    # Keys are 240 random bits, so a plain SHA-256 is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes) -> tuple[str, ...]:
    from ..errors import ConfigError

    out = []
    for scope in scopes:
        if scope not in SCOPES:
            raise ConfigError(f"Unknown scope {scope!r}. Expected one of: {', '.join(SCOPES)}.")
        out.append(scope)
    if not out:
        raise ConfigError(f"A key needs at least one scope: {', '.join(SCOPES)}.")
    return tuple(sorted(set(out)))
