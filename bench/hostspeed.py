"""How fast this host runs plain Python right now, printed beside every throughput figure.

A shared or throttled machine can run the same code at half its usual speed for minutes at a time
(this project's 2-core host did: the same ingest code cost 10 or 23 ms of CPU per 1,000 predictions an
hour apart). A fixed reference workload timed in the same run tells a slow hour from a slow change:
compare figures only between runs whose reference times are close.
"""

from __future__ import annotations

import json
import time


def _workload() -> int:
    """Dicts, strings, JSON and integer arithmetic: the mix an ingest or guard path spends its time on."""
    total = 0
    for i in range(4000):
        record = {"id": f"req-{i}", "model": "m", "value": i * 0.5, "tags": ["a", "b", str(i % 7)]}
        text = json.dumps(record)
        total += len(text.upper().split('"')) + hash(record["id"]) % 3
    return total


def reference_ms(repeats: int = 7) -> float:
    """CPU milliseconds of the reference workload, best of ``repeats`` (lower is faster)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        _workload()
        best = min(best, time.process_time() - start)
    return best * 1000


def describe() -> str:
    """One line for a benchmark's header."""
    return f"host reference workload {reference_ms():.1f} ms CPU (lower is faster; compare runs with close values)"
