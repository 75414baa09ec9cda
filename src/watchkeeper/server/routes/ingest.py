"""POST /api/v1/{predictions,labels,feedback}: batches as a JSON array or NDJSON, optionally gzip.

A 200 means every accepted record is committed to the store. A batch with invalid records is
refused whole (422, every bad record listed by index and field) unless ``?partial=true``, in which
case the valid records are stored and the invalid ones are listed in the 200 reply.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from ..responses import JSONResponse

from ...errors import StoreError
from ...ingest.decode import BodyError
from ...settings import resolve
from ..body import read_body
from ..errors import ApiError
from ..ingest_pool import IngestPool
from ..queue import QueueFull
from ..state import principal, state_of

router = APIRouter()


async def ingest(request: Request, kind: str):
    st = state_of(request)
    who = principal(request, "ingest")
    limit = st.config.max_body_bytes
    body = await read_body(request, limit)
    steps = [step_for(who.project) for step_for in st.extras.get("ingest_steps", ())]  # e.g. redaction
    try:
        batch = await st.extras["ingest_pool"].prepare(kind, body, request.headers.get("content-type"),
                                                       request.headers.get("content-encoding"), limit,
                                                       who.project, steps)
    except BodyError as exc:
        if exc.code == "batch_too_large":
            st.metrics.reject(kind, "batch_too_large", exc.records)
        raise
    records = batch.rows + len(batch.errors)
    partial = request.query_params.get("partial", "").lower() in ("1", "true", "yes")
    rejected = [e.as_dict() for e in batch.errors]
    if batch.errors:
        st.metrics.reject(kind, "invalid", len(batch.errors))
        if not partial:
            raise ApiError(
                422, "invalid_records",
                f"{len(batch.errors)} of {records} {kind} records are invalid; nothing was stored "
                f"(first: record {rejected[0]['index']}, field {rejected[0]['field']!r}: {rejected[0]['message']})",
                rejected,
            )
    if batch.rows:
        try:
            fut = st.queue.submit([batch])
        except QueueFull:
            st.metrics.reject(kind, "queue_full", batch.rows)
            raise ApiError(503, "overloaded", "the ingest queue is full; retry later",
                           headers={"Retry-After": "1"}) from None
        try:
            await asyncio.wrap_future(fut)
        except StoreError as exc:
            st.metrics.reject(kind, "store_error", batch.rows)
            raise ApiError(503, "store_unavailable", f"the event store did not accept the batch: {exc}",
                           headers={"Retry-After": "5"}) from None
        st.metrics.observe(batch)
        for hook in st.extras.get("after_ingest_hooks", ()):
            hook(batch)
    return JSONResponse({"accepted": batch.rows, "rejected": rejected})


@router.post("/api/v1/predictions")
async def post_predictions(request: Request):
    return await ingest(request, "predictions")


@router.post("/api/v1/labels")
async def post_labels(request: Request):
    return await ingest(request, "labels")


@router.post("/api/v1/feedback")
async def post_feedback(request: Request):
    return await ingest(request, "feedback")


def install(state) -> None:
    pool = IngestPool(resolve("ingest_workers"))
    state.extras["ingest_pool"] = pool

    async def stop() -> None:
        await asyncio.get_running_loop().run_in_executor(None, pool.close)
    state.extras.setdefault("shutdown", []).append(stop)
