"""`watchkeeper worker`: run the periodic jobs (rules, monitors) of a scaled deployment.

Start one next to the ``serve`` replicas when metadata lives in PostgreSQL. The worker takes the
advisory lock ``watchkeeper.worker``; a second worker waits as a hot standby and takes over when
the first one stops or loses its database session.
"""

from __future__ import annotations

import logging
import signal
import threading

import click

from ..errors import WatchkeeperError
from ..settings import resolve

LEADER_LOCK = "watchkeeper.worker"
log = logging.getLogger("watchkeeper.worker")


def _holds(meta, name: str) -> bool:
    check = getattr(meta, "holds_lock", None)
    return True if check is None else check(name)


def run_worker(store, meta, stop: threading.Event, *, tick_s: float = 1.0, once: bool = False,
               say=click.echo) -> list[str]:
    """Lead (or stand by) and run due jobs until ``stop``; with ``once``, one round. Returns the jobs run last."""
    from ..control.scheduler import Schedule, run_due

    schedule, leader, ran, standby_said = Schedule(), False, [], False
    while not stop.is_set():
        try:
            if leader and not _holds(meta, LEADER_LOCK):
                leader = False
                say("worker: lost the leader lock (metadata session ended); trying to take it again", err=True)
            if not leader:
                leader = meta.try_lock(LEADER_LOCK)
                if leader:
                    say("worker: holding the leader lock; running scheduled jobs", err=True)
                    standby_said = False
                elif not standby_said:
                    say("worker: another worker holds the leader lock; standing by", err=True)
                    standby_said = True
            if leader:
                ran = run_due(store, meta, schedule=schedule)
                if ran:
                    say(f"worker: ran {', '.join(ran)}", err=True)
        except WatchkeeperError as exc:
            leader = False
            say(f"worker: {exc} (retrying)", err=True)
        if once:
            break
        stop.wait(tick_s)
    if leader:
        try:
            meta.unlock(LEADER_LOCK)
        except WatchkeeperError:
            pass
    return ran


@click.command()
@click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL",
              help="Event store URL (clickhouse://..., chdb:///path, duckdb:///path).")
@click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL",
              help="Metadata store URL (postgresql://...); defaults to the event store's.")
@click.option("--tick", "tick_s", default=1.0, show_default=True, type=float, help="Seconds between checks for due jobs.")
@click.option("--once", is_flag=True, help="Run the jobs that are due once, then exit (cron, tests).")
def worker(store_url, meta_url, tick_s, once):
    """Run scheduled jobs (alert rules, monitors); one worker at a time leads, others stand by."""
    from ..store import open_store
    from ..store.meta import meta_for, open_meta_store

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        store = open_store(resolve("store_url", store_url))
        meta = open_meta_store(meta_url) if meta_url else meta_for(store)
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        ran = run_worker(store, meta, stop, tick_s=tick_s, once=once)
        if once:
            click.echo(f"ran: {', '.join(ran) if ran else '(nothing due or not the leader)'}")
    finally:
        if meta is not store:
            meta.close()
        store.close()
