"""What a running server holds: config, stores, the ingest queue, metrics and auth."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request

from .auth import Authenticator, Principal
from .config import ServerConfig
from .metrics import ServerMetrics
from .queue import IngestQueue


@dataclass
class ServerState:
    config: ServerConfig
    store: object
    meta: object
    queue: IngestQueue
    metrics: ServerMetrics
    auth: Authenticator
    started: float = field(default_factory=time.time)
    extras: dict = field(default_factory=dict)  # per-feature state (monitors, traces, ...)


def state_of(request: Request) -> ServerState:
    return request.app.state.wk


def principal(request: Request, scope: str) -> Principal:
    return state_of(request).auth.principal(request, scope)
