"""The one table of settings.

Each setting has one name, spelled three ways: ``store_url`` <-> ``WATCHKEEPER_STORE_URL`` <->
``--store-url``. Precedence: explicit argument > environment > default. ``watchkeeper settings``
prints each value and where it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError

__all__ = ["Setting", "SETTINGS", "resolve", "env_name", "parse_bool", "parse_float", "parse_int"]


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{env_name(name)} has value {raw!r}. Expected a boolean (1/0, true/false).")


def parse_float(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{env_name(name)} has value {raw!r}. Expected a number.") from None


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{env_name(name)} has value {raw!r}. Expected an integer.") from None


def parse_workers(name: str, raw: str) -> int | None:
    if raw.strip().lower() in ("", "auto"):
        return None
    value = parse_int(name, raw)
    if value < 0:
        raise ConfigError(f"{env_name(name)} has value {raw!r}. Expected 'auto' or an integer >= 0.")
    return value


def _parse_str(name: str, raw: str) -> str:
    return raw


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str, str], Any] = _parse_str
    side: str = "both"  # "sdk", "server" or "both"

    @property
    def env(self) -> str:
        return env_name(self.name)


def env_name(name: str) -> str:
    return "WATCHKEEPER_" + name.upper()


SETTINGS: tuple[Setting, ...] = (
    # SDK and client-side commands
    Setting("endpoint", "http://127.0.0.1:4318", "URL of the watchkeeper server."),
    Setting("api_key", None, "API key sent as a bearer token."),
    Setting("project", "default", "Project the SDK writes to when the server runs without keys."),
    Setting("sample_rate", 1.0, "Share (0..1) of predictions whose input payload is sent; counts are never sampled.", parse_float, "sdk"),
    Setting("disabled", False, "Turn the SDK into a no-op.", parse_bool, "sdk"),
    Setting("max_queue", 100_000, "Events the SDK buffers before dropping the oldest.", parse_int, "sdk"),
    Setting("batch_size", 1000, "Events per HTTP request the SDK sends.", parse_int, "sdk"),
    Setting("flush_interval", 1.0, "Seconds between SDK flushes.", parse_float, "sdk"),
    Setting("timeout", 10.0, "HTTP timeout of the SDK in seconds.", parse_float, "sdk"),
    # Server
    Setting("store_url", "duckdb:///.watchkeeper/watchkeeper.duckdb", "Event store URL: duckdb:///path, chdb:///path, clickhouse://...", side="server"),
    Setting("meta_url", None, "Metadata store URL (postgresql://...); defaults to the event store.", side="server"),
    Setting("max_body_bytes", 64 * 1024 * 1024, "Largest request body accepted, after decompression.", parse_int, "server"),
    Setting("ingest_queue", 256, "Batches waiting for the store writer before ingest answers 503.", parse_int, "server"),
    Setting("ingest_workers", None, "Processes that decode and validate large ingest batches (auto: one per core up to 4, none on a single core; 0: none).", parse_workers, "server"),
    Setting("ingest_fsync", False, "fsync the ingest log before acknowledging a batch (survive power loss, not only a crash).", parse_bool, "server"),
    Setting("insecure", False, "Allow running without API keys on a non-loopback address.", parse_bool, "server"),
    Setting("retention_interval", 3600.0, "Seconds between sweeps that delete events past a project's retention_days.", parse_float, "server"),
    Setting("monitor_interval", 30.0, "Seconds between scheduled monitor and rule evaluations.", parse_float, "server"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def resolve(name: str, value: Any = None, environ: dict[str, str] | None = None) -> Any:
    """Return the value of setting ``name``: the argument if given, else the environment, else the default."""
    setting = _BY_NAME[name]
    if value is not None:
        return value
    env = os.environ if environ is None else environ
    raw = env.get(setting.env)
    if raw is not None and raw != "":
        return setting.parse(name, raw)
    return setting.default
