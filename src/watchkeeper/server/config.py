"""Server configuration, resolved from arguments and the environment (see settings.py)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..settings import resolve


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 4318
    store_url: str | None = None
    meta_url: str | None = None
    insecure: bool | None = None
    max_body_bytes: int | None = None
    ingest_queue: int | None = None
    monitor_interval: float | None = None

    def __post_init__(self) -> None:
        self.store_url = resolve("store_url", self.store_url)
        self.meta_url = resolve("meta_url", self.meta_url)
        self.insecure = resolve("insecure", self.insecure)
        self.max_body_bytes = resolve("max_body_bytes", self.max_body_bytes)
        self.ingest_queue = resolve("ingest_queue", self.ingest_queue)
        self.monitor_interval = resolve("monitor_interval", self.monitor_interval)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
