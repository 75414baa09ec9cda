"""Exceptions raised by watchkeeper.

    WatchkeeperError
    ├── ConfigError (ValueError)       a setting or argument has a bad value
    │   └── UnknownMethod               a drift/quality method name that does not exist
    ├── SchemaError (ValueError)       a record or file does not have the expected shape
    ├── AuthError                       missing, unknown or insufficient API key
    └── StoreError                      the event or metadata store failed
        ├── StoreUnavailable            the store cannot be reached (ingest answers 503)
        ├── MigrationRequired           the store is at an older schema; run `watchkeeper migrate`
        └── ConflictError               a metadata write clashes with an existing record

The SDK's data path never raises these at the caller: it warns and counts drops.
"""

from __future__ import annotations

__all__ = [
    "WatchkeeperError",
    "ConfigError",
    "UnknownMethod",
    "SchemaError",
    "AuthError",
    "StoreError",
    "StoreUnavailable",
    "MigrationRequired",
    "ConflictError",
]


class WatchkeeperError(Exception):
    """Base class of every error watchkeeper raises on purpose."""


class ConfigError(WatchkeeperError, ValueError):
    """A setting, argument or file has a value watchkeeper cannot use."""


class UnknownMethod(ConfigError):
    """A method name (drift statistic, metric) that does not exist; the message lists valid ones."""


class SchemaError(WatchkeeperError, ValueError):
    """A record or data file does not have the expected shape."""


class AuthError(WatchkeeperError):
    """An API key is missing, unknown, or lacks the scope for the request."""


class StoreError(WatchkeeperError):
    """The event or metadata store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; retry later."""


class MigrationRequired(StoreError):
    """The store's schema is older than this version of watchkeeper needs."""


class ConflictError(StoreError):
    """A metadata write clashes with an existing record (duplicate name, stale version)."""
