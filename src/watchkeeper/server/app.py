"""create_app(): wiring only. Features live in their route modules.

Every module in ``FEATURES`` exposes ``router`` (an APIRouter) and may expose ``install(state)``,
called once at startup to register hooks (ingest hooks, metrics hooks, background jobs).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from .responses import JSONResponse

from .. import __version__
from ..settings import resolve
from ..store import open_store
from .auth import Authenticator
from .config import ServerConfig
from .errors import install_error_handlers
from .metrics import ServerMetrics
from .queue import IngestQueue
from .state import ServerState

log = logging.getLogger("watchkeeper.server")

FEATURES = [
    "watchkeeper.server.routes.health",
    "watchkeeper.server.routes.ingest",
    "watchkeeper.server.routes.query",
    "watchkeeper.server.routes.keys",
    "watchkeeper.server.routes.privacy",
    "watchkeeper.server.routes.security",
    "watchkeeper.server.scheduler",
    "watchkeeper.server.routes.overview",
    "watchkeeper.ui.routes",
    "watchkeeper.server.routes.quality",
    "watchkeeper.server.routes.evals",
    "watchkeeper.server.routes.cost",
    "watchkeeper.server.routes.feedback",
    "watchkeeper.server.routes.otlp",
    "watchkeeper.server.routes.traces",
    "watchkeeper.server.routes.releases",
    "watchkeeper.server.routes.alerts",
    "watchkeeper.server.routes.incidents",
    "watchkeeper.server.routes.drift",
    "watchkeeper.server.routes.contracts",
]


# FastAPI >= 0.165 traces every request into whatever OpenTelemetry provider the process has: in
# `watchkeeper demo` (one process, with the SDK's provider) the server's own ingest calls became
# traces in its own store. The server is not the user's application: it reports through /metrics.
_NO_SELF_TELEMETRY = ({"telemetry": {"tracing": False, "metrics": False, "logs": False}}
                      if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {})


def open_meta(config: ServerConfig, store):
    if not config.meta_url:
        from ..store.meta import meta_for

        return meta_for(store)  # chdb keeps metadata in a DuckDB companion
    from ..store.meta import open_meta_store

    return open_meta_store(config.meta_url)


def create_app(config: ServerConfig | None = None, *, store=None, meta=None) -> FastAPI:
    config = config or ServerConfig()
    store = store if store is not None else open_store(config.store_url)
    meta = meta if meta is not None else open_meta(config, store)
    metrics_ = ServerMetrics()
    queue = IngestQueue(store.write, maxsize=config.ingest_queue,
                        on_write=lambda seconds, rows: metrics_.write_seconds.observe(seconds),
                        store=store, fsync=bool(resolve("ingest_fsync")))
    metrics_.queue_depth.set_function(lambda: queue.depth)
    state = ServerState(config=config, store=store, meta=meta, queue=queue, metrics=metrics_, auth=Authenticator(meta))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for start in state.extras.get("startup", ()):
            await start()
        try:
            yield
        finally:
            for stop in state.extras.get("shutdown", ()):
                try:
                    await stop()
                except Exception:  # pragma: no cover
                    log.exception("shutdown hook failed")
            queue.close()
            store.close()
            if meta is not store:
                meta.close()

    app = FastAPI(title="watchkeeper", version=__version__, default_response_class=JSONResponse,
                  lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
                  **_NO_SELF_TELEMETRY)
    app.state.wk = state
    install_error_handlers(app)
    for name in FEATURES:
        module = importlib.import_module(name)
        install = getattr(module, "install", None)
        if install is not None:
            install(state)
        if hasattr(module, "router"):
            app.include_router(module.router)
    return app
