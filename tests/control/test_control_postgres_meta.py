"""Releases, rules and incidents on a real PostgreSQL metadata store (the scaled deployment)."""

from __future__ import annotations

from watchkeeper.control import catalog, incidents, releases
from watchkeeper.store.duckdb import DuckDBStore
from watchkeeper.store.meta import open_meta_store


def test_control_metadata_round_trips_on_postgres(postgres_url):
    """The same control code runs unchanged on PostgreSQL: releases, alias moves, rules, incidents."""
    meta = open_meta_store(postgres_url)
    events = DuckDBStore(":memory:")
    events.migrate()
    try:
        a, _ = releases.create_release(meta, "p", {"id": "a", "model": "m", "model_version": "v1"}, "alice")
        b, _ = releases.create_release(meta, "p", {"id": "b", "model": "m", "model_version": "v2", "config": {"t": 1}}, "alice")
        releases.promote(meta, "p", "a", actor="alice")
        releases.promote(meta, "p", "b", actor="bob")
        move = releases.rollback(meta, "p", "m", actor="rule:x", automatic=True)
        assert (move["from_release"], move["to_release"]) == ("b", "a")
        assert releases.resolve(meta, "p", "m", "production")["id"] == "a"
        catalog.save(meta, "p", "rule", {"name": "r", "signal": "error_rate", "threshold": 0.1})
        assert [r.name for r in catalog.rules(meta, "p")] == ["r"]
        inc = incidents.open_incident(meta, events, "p", title="t", signal="error_rate", scope={"model": "m"})
        incidents.add_event(meta, inc["id"], "note", {"text": "hi"}, "carol")
        got = incidents.get(meta, "p", inc["id"])
        assert [e["kind"] for e in got["timeline"]] == ["opened", "note"]
        assert got["doc"]["frozen_versions"][0]["release"]["id"] == "a"
    finally:
        events.close()
        meta.close()
