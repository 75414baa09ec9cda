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
from typing import Iterable


class RecentSpans:
    def __init__(self, capacity: int = 500_000):
        self.capacity = capacity
        self._seen: set[int] = set()
        self._order: deque[int] = deque()
        self._lock = threading.Lock()

    def fresh(self, project: str, keys: Iterable[tuple[str, str]]) -> list[bool]:
        """One flag per key: True unless it was committed recently or repeats earlier in ``keys``."""
        out = []
        batch: set[int] = set()
        seen = self._seen
        for tid, sid in keys:
            h = hash((project, tid, sid))
            if h in seen or h in batch:
                out.append(False)
            else:
                batch.add(h)
                out.append(True)
        return out

    def remember(self, project: str, keys: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            for tid, sid in keys:
                h = hash((project, tid, sid))
                if h not in self._seen:
                    self._seen.add(h)
                    self._order.append(h)
            while len(self._order) > self.capacity:
                self._seen.discard(self._order.popleft())
