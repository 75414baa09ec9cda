"""HTTP to the watchkeeper server with the standard library only: keep-alive, gzip, retries.

Retries 429/502/503/504 and connection errors with exponential backoff and full jitter, honouring
Retry-After. Other 4xx answers are final: the batch is counted as rejected, never retried.
"""

from __future__ import annotations

import gzip
import http.client
import random
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

RETRYABLE = frozenset({429, 502, 503, 504})


@dataclass
class Reply:
    status: int
    body: bytes
    retry_after: float | None = None


class Transport:
    def __init__(self, endpoint: str, api_key: str | None, project: str | None, timeout: float):
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            from ..errors import ConfigError

            raise ConfigError(f"endpoint {endpoint!r} is not an http(s) URL, e.g. http://127.0.0.1:4318")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "User-Agent": "watchkeeper-sdk"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        if project:
            self.headers["X-Watchkeeper-Project"] = project
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def post(self, path: str, payload: bytes) -> Reply:
        """One attempt. Raises OSError/HTTPException on connection trouble."""
        body = gzip.compress(payload, compresslevel=1)
        conn = self._connection()
        try:
            conn.request("POST", self.base + path, body=body, headers=self.headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        retry_after = _retry_after(resp.getheader("Retry-After"))
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return Reply(resp.status, data, retry_after)

    def get(self, path: str) -> Reply:
        conn = self._connection()
        headers = {k: v for k, v in self.headers.items() if k not in ("Content-Type", "Content-Encoding")}
        try:
            conn.request("GET", self.base + path, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return Reply(resp.status, data, _retry_after(resp.getheader("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full jitter: uniform between 0 and min(cap, base * 2**attempt)."""
    return random.uniform(0, min(cap, base * (2 ** attempt)))
