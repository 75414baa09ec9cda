"""Online evaluation: a sampled share of production LLM traces, scored continuously.

Every ``INTERVAL_S`` the job ``online_evals`` looks at traces that started in the last
``LOOKBACK_S``, keeps a deterministic ``SAMPLE_RATE`` share of them (by a hash of the trace id, so
every replica samples the same traces), skips those already scored, and for each one reads its
retriever/reranker/LLM spans through ``store/queries/traces.py`` and scores:

* unsupported claims: the answer's sentences not supported by any retrieved document
  (``llm/rag.py`` attribution; ``claims`` and ``unsupported`` counts, ``has_context`` = 0 when
  the trace retrieved nothing, in which case no claim is judged);
* refusal: whether the final answer is a refusal (``llm/evals_checks.is_refusal``).

Rows go to ``online_evals``; ``series`` aggregates them per bucket, and the alert signals
``unsupported_claim_rate`` and ``refusal_rate`` read the same table.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson

from ..ingest.records import Batch
from ..ingest.timestamps import format_us, now_us
from .evals_checks import is_refusal

log = logging.getLogger("watchkeeper.evals")

INTERVAL_S = 60.0
LOOKBACK_S = 3600
SAMPLE_RATE = 0.25
MAX_PER_RUN = 500
COLUMNS = ("project", "trace_id", "model", "ts", "claims", "unsupported", "unsupported_rate", "refused",
           "has_context", "computed_at")


def sampled(trace_id: str, rate: float = SAMPLE_RATE) -> bool:
    h = int.from_bytes(hashlib.blake2b(trace_id.encode(), digest_size=8).digest(), "big")
    return h / 2 ** 64 < rate


def score_trace(rows: list[dict]) -> dict[str, Any] | None:
    """Score one trace from its span rows (``details`` as JSON text or dict); None without an LLM answer."""
    from .rag import analyze, sentences

    for row in rows:
        if isinstance(row.get("details"), str):
            try:
                row["details"] = orjson.loads(row["details"])
            except orjson.JSONDecodeError:
                row["details"] = {}
    llms = sorted((r for r in rows if r.get("kind") == "llm"), key=lambda r: (r.get("end_us") or 0, r.get("ts_us") or 0))
    answer = next((r.get("output") for r in reversed(llms) if r.get("output")), None)
    if not answer:
        return None
    rag = analyze(rows)
    attribution = (rag or {}).get("attribution")
    if attribution is not None:
        claims = len(attribution["sentences"])
        unsupported = len(attribution["unsupported"])
        has_context = 1
    else:
        claims, unsupported, has_context = len(sentences(answer)), None, 0
    return {"model": next((r.get("model") for r in reversed(llms) if r.get("model")), None),
            "ts_us": min(r.get("ts_us") or 0 for r in rows), "claims": claims, "unsupported": unsupported,
            "unsupported_rate": (unsupported / claims) if (unsupported is not None and claims) else None,
            "refused": int(is_refusal(answer)), "has_context": has_context}


def run_project(store, project: str, *, until_us: int | None = None, rate: float = SAMPLE_RATE) -> int:
    from ..store.queries import traces as tq

    until = until_us or now_us()
    candidates = tq.list_traces(store, project, since_us=until - LOOKBACK_S * 1_000_000, until_us=until,
                                limit=MAX_PER_RUN * 4)
    ids = [c["trace_id"] for c in candidates if sampled(c["trace_id"], rate)][:MAX_PER_RUN]
    if not ids:
        return 0
    d = store.dialect
    done = {r["trace_id"] for r in store.rows(
        f"SELECT DISTINCT trace_id FROM online_evals WHERE project = ? AND trace_id IN {d.in_list()}", [project, ids])}
    out = []
    computed = now_us()
    todo = [t for t in ids if t not in done]
    by_trace = tq.spans_by_trace(store, project, todo, kinds=["retriever", "reranker", "llm"]) if todo else {}
    for trace_id in todo:
        scored = score_trace(by_trace.get(trace_id, []))
        if scored is None:
            continue
        out.append((project, trace_id, scored["model"], scored["ts_us"], scored["claims"], scored["unsupported"],
                    scored["unsupported_rate"], scored["refused"], scored["has_context"], computed))
    if out:
        columns = {name: list(col) for name, col in zip(COLUMNS, zip(*out))}
        store.write([Batch(kind="online_evals", columns=columns, rows=len(out))])
    return len(out)


def run(store, meta=None, until_us: int | None = None) -> int:
    """The scheduled job over every project that has spans."""
    total = 0
    try:
        projects = [r["project"] for r in store.rows("SELECT DISTINCT project FROM spans")]
    except Exception:  # no spans table yet (store from before the traces migration)
        return 0
    for project in projects:
        try:
            total += run_project(store, project, until_us=until_us)
        except Exception:
            log.exception("online evaluation failed for project %s", project)
    return total


def _where(d, model: str | None) -> tuple[str, list]:
    sql = f"project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}"
    return (sql + " AND model = ?", [model]) if model else (sql, [])


def series(store, project: str, *, since_us: int, until_us: int, bucket_s: int, model: str | None = None) -> list[dict]:
    d = store.dialect
    where, extra = _where(d, model)
    rows = store.rows(
        f"""SELECT {d.bucket_us('ts', int(bucket_s) * 1_000_000)} AS t_us, count(*) AS traces,
                   sum(has_context) AS with_context, sum(claims) AS claims, sum(unsupported) AS unsupported,
                   sum(refused) AS refused
            FROM online_evals WHERE {where} GROUP BY t_us ORDER BY t_us""",
        [project, since_us, until_us, *extra])
    out = []
    for r in rows:
        traces, claims = int(r["traces"]), int(r["claims"] or 0)
        unsupported = int(r["unsupported"] or 0)
        out.append({"time": format_us(int(r["t_us"])), "traces": traces, "with_context": int(r["with_context"] or 0),
                    "claims": claims, "unsupported_claims": unsupported,
                    "unsupported_claim_rate": unsupported / claims if claims else None,
                    "refusal_rate": int(r["refused"] or 0) / traces if traces else None})
    return out


def rate_signal(which: str):
    """An alert signal over online_evals: ``unsupported_claim_rate`` or ``refusal_rate``."""
    def fn(store, project, scope, start_us, end_us, **_):
        d = store.dialect
        where, extra = _where(d, scope.get("model"))
        r = store.rows(f"SELECT count(*) AS n, sum(claims) AS c, sum(unsupported) AS u, sum(refused) AS rf "
                       f"FROM online_evals WHERE {where}", [project, start_us, end_us, *extra])[0]
        if not r["n"]:
            return None
        if which == "refusal_rate":
            return float(r["rf"] or 0) / float(r["n"])
        return float(r["u"] or 0) / float(r["c"]) if r["c"] else None
    return fn


def _register() -> None:
    try:
        from ..control.scheduler import register_job
    except ImportError:  # pragma: no cover
        return
    register_job("online_evals", INTERVAL_S, run)


_register()
