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
from ...ingest.decode import decode_body
from ...ingest.records import validate
from ..body import read_body
from ..errors import ApiError
from ..queue import QueueFull
from ..state import principal, state_of

router = APIRouter()
MAX_RECORDS = 100_000


async def ingest(request: Request, kind: str):
    st = state_of(request)
    who = principal(request, "ingest")
    limit = st.config.max_body_bytes
    body = await read_body(request, limit)
    records = decode_body(body, request.headers.get("content-type"), request.headers.get("content-encoding"), limit)
    if len(records) > MAX_RECORDS:
        st.metrics.reject(kind, "batch_too_large", len(records))
        raise ApiError(413, "batch_too_large", f"a batch holds at most {MAX_RECORDS} records, got {len(records)}")
    batch = validate(kind, records, who.project)
    for hook in st.extras.get("ingest_hooks", ()):
        hook(batch)  # e.g. server-side redaction; runs before anything is stored
    partial = request.query_params.get("partial", "").lower() in ("1", "true", "yes")
    rejected = [e.as_dict() for e in batch.errors]
    if batch.errors:
        st.metrics.reject(kind, "invalid", len(batch.errors))
        if not partial:
            raise ApiError(
                422, "invalid_records",
                f"{len(batch.errors)} of {len(records)} {kind} records are invalid; nothing was stored "
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
