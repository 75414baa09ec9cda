"""RecentSpans: which spans of an export a retried delivery already stored."""

from __future__ import annotations

from watchkeeper.ingest.dedupe import RecentSpans


def key(i: int) -> str:
    return f"{i:032x}{i + 1:016x}"  # trace_id + span_id, as SpanBuilder.keys writes them


def test_new_spans_are_fresh_and_remembered_ones_are_not():
    r = RecentSpans()
    batch = [key(i) for i in range(512)]
    assert r.fresh("p", batch) == [True] * 512
    r.remember("p", batch)
    assert r.fresh("p", batch) == [False] * 512
    mixed = [key(0), key(1000), key(2), key(1001)]
    assert r.fresh("p", mixed) == [False, True, False, True]


def test_a_repeat_inside_one_export_is_dropped_once_seen():
    r = RecentSpans()
    assert r.fresh("p", [key(1), key(2), key(1), key(3), key(2)]) == [True, True, False, True, False]


def test_projects_do_not_share_keys():
    r = RecentSpans()
    r.remember("a", [key(1)])
    assert r.fresh("a", [key(1)]) == [False]
    assert r.fresh("b", [key(1)]) == [True]


def test_the_oldest_keys_are_forgotten_past_capacity():
    r = RecentSpans(capacity=4)
    r.remember("p", [key(i) for i in range(3)])
    r.remember("p", [key(1), key(3), key(4), key(4)])  # key(1) again: not a second entry
    assert len(r._order) == 4 and len(r._seen) == 4
    assert r.fresh("p", [key(0), key(1), key(2), key(3), key(4)]) == [True, False, False, False, False]
