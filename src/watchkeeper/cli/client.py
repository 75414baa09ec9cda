"""The one small HTTP client the CLI commands use to talk to a running server (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click


class ServerFailure(click.ClickException):
    """The server could not be reached or answered with an error: one line, exit code 1."""

    exit_code = 1


def call(endpoint: str, path: str, api_key: str | None, *, method: str | None = None, params: dict | None = None,
         body: Any = None, timeout: float = 60.0) -> Any:
    """Send ``body`` (JSON, or bytes as they are) to ``path`` and return the decoded JSON answer."""
    url = endpoint.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "")})
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except Exception:
            message = exc.reason
        raise ServerFailure(f"{endpoint} answered {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerFailure(f"cannot reach the watchkeeper server at {endpoint}: {getattr(exc, 'reason', exc)}") from None
