"""/health and /metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from ..responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from ... import __version__
from ...errors import StoreError
from ..state import state_of

router = APIRouter()


@router.get("/health")
async def health(request: Request):
    st = state_of(request)
    store = {"backend": getattr(st.store, "backend", "?"), "reachable": True}
    status = 200
    try:
        st.store.ping()
    except StoreError as exc:
        store.update(reachable=False, error=str(exc))
        status = 503
    except Exception as exc:  # a dead connection may raise anything
        store.update(reachable=False, error=f"{type(exc).__name__}: {exc}")
        status = 503
    if st.meta is not st.store:
        meta = {"backend": getattr(st.meta, "backend", "?"), "reachable": True}
        try:
            st.meta.ping()
        except Exception as exc:
            meta.update(reachable=False, error=str(exc))
            status = 503
    else:
        meta = {"backend": store["backend"], "reachable": store["reachable"]}
    body = {
        "status": "ok" if status == 200 else "unavailable",
        "version": __version__,
        "uptime_s": round(time.time() - st.started, 3),
        "store": store,
        "meta": meta,
        "ingest_queue": {"depth": st.queue.depth, "capacity": st.queue.capacity, "last_error": st.queue.last_error},
        "last_monitor_run": st.extras.get("last_monitor_run"),
    }
    pool = st.extras.get("ingest_pool")
    if pool is not None:
        body["ingest_queue"]["workers"] = pool.status()
    for name, section in st.extras.get("health", {}).items():  # e.g. security_scan (routes/security.py)
        body[name] = section()
    return JSONResponse(body, status_code=status)


@router.get("/metrics")
async def metrics(request: Request):
    st = state_of(request)
    for hook in st.extras.get("metrics_hooks", ()):
        hook()
    accept = request.headers.get("accept", "")
    if "application/openmetrics-text" in accept:
        return Response(generate_openmetrics(st.metrics.registry), media_type=OPENMETRICS_TYPE)
    return Response(generate_latest(st.metrics.registry), media_type=CONTENT_TYPE_LATEST)
