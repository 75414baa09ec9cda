"""Drop spans a retried export already delivered, before they are written again.

OTLP clients re-send a batch whose acknowledgement was lost, so the same (trace_id, span_id) can
arrive twice. The server remembers the keys of the last ``capacity`` committed spans (a set of
64-bit hashes plus a FIFO for eviction: about 60 bytes a span, no read from the store) and drops
repeats before writing. That is exact for retries, which come within seconds. Older duplicates
(after a restart, or across replicas) can still reach the store, so every trace query also
dedupes on (trace_id, span_id); on ClickHouse the ReplacingMergeTree collapses them for good.
"""

from __future__ import annotations

import threading
from collections import deque
from itertools import repeat
from typing import Iterable


class RecentSpans:
    def __init__(self, capacity: int = 500_000):
        self.capacity = capacity
        self._seen: set[int] = set()
        self._order: deque[int] = deque()
        self._lock = threading.Lock()

    def fresh(self, project: str, keys: Iterable[str]) -> list[bool]:
        """One flag per key (trace_id + span_id): True unless committed recently or repeated earlier in ``keys``."""
        hashes = list(map(hash, zip(repeat(project), keys)))
        seen = self._seen
        if seen.isdisjoint(hashes) and len(set(hashes)) == len(hashes):  # the usual case: every span is new
            return [True] * len(hashes)
        out = []
        batch: set[int] = set()
        for h in hashes:
            if h in seen or h in batch:
                out.append(False)
            else:
                batch.add(h)
                out.append(True)
        return out

    def remember(self, project: str, keys: Iterable[str]) -> None:
        new = dict.fromkeys(map(hash, zip(repeat(project), keys)))  # in order, each once
        with self._lock:
            seen = self._seen
            if not seen.isdisjoint(new):
                new = [h for h in new if h not in seen]
            seen.update(new)
            self._order.extend(new)
            order = self._order
            while len(order) > self.capacity:
                seen.discard(order.popleft())
