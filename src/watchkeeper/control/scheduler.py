"""Scheduled jobs: rule evaluation, monitors. ``serve`` runs them in embedded mode, ``worker`` when scaled.

    register_job(name, interval_s, fn)     # fn(store, meta), at most once per interval_s
    run_due(store, meta, now)              # run every job that is due; returns the names run

Each runner keeps its own ``Schedule`` (when each job last ran and is next due): a server's
background thread, a worker, and a test with a simulated clock never disturb one another's timing.

Modules register their jobs at import; ``JOB_MODULES`` lists the modules imported before a run.
When the metadata store offers ``try_lock(name)`` (PostgreSQL advisory locks), a job runs only in
the process that holds its lock, so several servers and workers never evaluate the same job at once.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("watchkeeper.scheduler")

JOB_MODULES = ["watchkeeper.control.engine", "watchkeeper.monitors.quality_job",
               "watchkeeper.llm.evals_online", "watchkeeper.monitors.online_drift",
               "watchkeeper.monitors.contract_job"]


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: float
    fn: Callable


class Schedule:
    """When each job last ran, next falls due and last failed, for one runner."""

    def __init__(self) -> None:
        self.next_at: dict[str, float] = {}
        self.last_run: dict[str, float] = {}
        self.last_error: dict[str, str | None] = {}

    def due(self, now: float) -> list[Job]:
        with _guard:
            return [j for j in _JOBS.values() if self.next_at.get(j.name, 0.0) <= now]


_JOBS: dict[str, Job] = {}
_guard = threading.Lock()
DEFAULT_SCHEDULE = Schedule()


def register_job(name: str, interval_s: float, fn: Callable) -> None:
    """Register (or replace) job ``name``: ``fn(store, meta)`` every ``interval_s`` seconds."""
    if interval_s <= 0:
        raise ValueError(f"job {name!r}: interval_s must be positive, got {interval_s!r}")
    with _guard:
        _JOBS[name] = Job(name, float(interval_s), fn)


def jobs() -> dict[str, Job]:
    load_jobs()
    with _guard:
        return dict(_JOBS)


def load_jobs() -> None:
    for module in JOB_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            log.warning("job module %s is not available", module)


def run_due(store, meta, now: float | None = None, schedule: Schedule | None = None) -> list[str]:
    """Run every job whose time has come (``now`` in epoch seconds); return the names that ran.

    A job whose lock another process holds is skipped until its next interval.
    """
    load_jobs()
    schedule = DEFAULT_SCHEDULE if schedule is None else schedule
    now = time.time() if now is None else now
    lock = getattr(meta, "try_lock", None)
    unlock = getattr(meta, "unlock", None)
    ran = []
    for job in schedule.due(now):
        schedule.next_at[job.name] = now + job.interval_s
        name = f"watchkeeper.job.{job.name}"
        if lock is not None:
            try:
                if not lock(name):
                    continue
            except Exception as exc:  # metadata store down: try again next interval
                schedule.last_error[job.name] = f"lock: {type(exc).__name__}: {exc}"
                log.warning("job %s skipped: cannot take its lock: %s", job.name, exc)
                continue
        try:
            job.fn(store, meta)
            schedule.last_error[job.name] = None
        except Exception as exc:  # a failing job is logged and retried next interval
            schedule.last_error[job.name] = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job.name)
        finally:
            schedule.last_run[job.name] = now
            if lock is not None and unlock is not None:
                try:
                    unlock(name)
                except Exception:  # pragma: no cover - a lost session releases its locks anyway
                    log.warning("job %s: could not release its lock", job.name)
        ran.append(job.name)
    return ran


def run_forever(store, meta, stop: threading.Event, tick_s: float = 1.0, on_run: Callable | None = None,
                schedule: Schedule | None = None, first_delay_s: float = 0.0) -> None:
    """Call ``run_due`` every ``tick_s`` until ``stop`` is set (the loop of ``serve`` and ``worker``)."""
    schedule = Schedule() if schedule is None else schedule
    if first_delay_s > 0 and stop.wait(first_delay_s):
        return
    while not stop.is_set():
        try:
            ran = run_due(store, meta, schedule=schedule)
            if ran and on_run is not None:
                on_run(ran)
        except Exception:  # pragma: no cover - run_due already guards each job
            log.exception("scheduler tick failed")
        stop.wait(tick_s)
