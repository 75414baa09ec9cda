"""GET /api/v1/models/{model}/feedback?since&until&by=|segment=: feedback rates next to quality."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...monitors.feedback import feedback_report
from ..errors import ApiError
from ..responses import JSONResponse
from ..state import principal, state_of
from .quality import _int, grouping, window

router = APIRouter()


def _report(*args, **kwargs):
    try:
        return feedback_report(*args, **kwargs)
    except ValueError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None


@router.get("/api/v1/models/{model}/feedback")
async def model_feedback(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    since, until = window(q)
    doc = await run_in_threadpool(_report, st.store, who.project, model, since_us=since, until_us=until,
                                  by=grouping(q), min_samples=_int(q, "min_samples", 30, 1, 10_000_000))
    return JSONResponse(doc)
