"""The embedded scheduler: ``serve`` runs the periodic jobs (rules, monitors) in a background thread.

Who runs the jobs is decided by where metadata lives:

- metadata in DuckDB (``duckdb://``, ``chdb://`` without ``--meta``): one process owns the data,
  so ``serve`` runs the jobs itself. Nothing else to start.
- metadata in PostgreSQL (``--meta postgresql://``): the scaled deployment. Replicas only serve
  requests; ``watchkeeper worker`` runs the jobs, holding an advisory lock so one worker at a
  time does (start a second one as a hot standby).

Either way ``run_due`` also takes a per-job lock, so a job never runs twice at once. The jobs run
in a thread (they make blocking store calls) with their own ``Schedule``; the first tick comes
after a short delay so a server that only lives for a test does not start evaluating at once.
Their queries read what the ingest queue has committed (at most a second behind the last
acknowledged batch) instead of forcing a commit each (``queue.relax_reads``).
"""

from __future__ import annotations

import asyncio
import threading
import time

from ..control.scheduler import Schedule, run_forever
from .queue import relax_reads

FIRST_DELAY_S = 5.0


def _run_relaxed(*args, **kwargs) -> None:
    """``run_forever`` whose queries read what is committed, without forcing the ingest queue to commit."""
    relax_reads()
    run_forever(*args, **kwargs)


def mode_for(state) -> str:
    """``embedded`` when this server runs the jobs, ``worker`` when a worker process does."""
    return "worker" if getattr(state.meta, "backend", "") == "postgresql" else "embedded"


def install(state) -> None:
    mode = mode_for(state)
    info = {"mode": mode}
    state.extras["scheduler"] = info
    if mode != "embedded":
        return
    stop = threading.Event()
    holder: dict = {}
    interval = float(state.config.monitor_interval or 30.0)

    def on_run(names: list[str]) -> None:
        state.extras["last_monitor_run"] = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "jobs": list(names),
        }

    async def start() -> None:
        thread = threading.Thread(
            target=_run_relaxed, args=(state.store, state.meta, stop),
            kwargs={"tick_s": 1.0, "on_run": on_run, "schedule": Schedule(),
                    "first_delay_s": min(FIRST_DELAY_S, interval)},
            name="watchkeeper-scheduler", daemon=True,
        )
        holder["thread"] = thread
        thread.start()

    async def shutdown() -> None:
        stop.set()
        thread = holder.get("thread")
        if thread is not None:
            await asyncio.to_thread(thread.join, 30.0)  # a running job finishes before the store closes

    state.extras.setdefault("startup", []).append(start)
    state.extras.setdefault("shutdown", []).append(shutdown)
