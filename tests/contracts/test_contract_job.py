"""The periodic contract job: day-over-day completeness and freshness of a model's logged predictions."""

from __future__ import annotations

import time

from watchkeeper.ingest.records import validate as to_batch
from watchkeeper.monitors import contract_job
from watchkeeper.monitors.contract_spec import load_contract
from watchkeeper.store import open_store


def test_row_count_drop_and_staleness_are_violations():
    """100 rows yesterday and 70 today breaks max_drop 0.2; a 2-hour-old newest row breaks max_age 1h."""
    store = open_store("duckdb://:memory:")
    try:
        now = time.time()
        recs = [{"model": "m", "output": "1", "timestamp": now - 86400 - 3600 - i} for i in range(100)]
        recs += [{"model": "m", "output": "1", "timestamp": now - 7200 - i} for i in range(70)]
        store.write([to_batch("predictions", recs, "default")])
        contract = load_contract("completeness: {max_drop: 0.2, min_rows: 50}\nfreshness: {max_age: 1h}\n")
        report = contract_job.check_tables(store, "default", "m", contract, int(now * 1e6))
        assert sorted(v.rule for v in report.violations) == ["freshness", "max_drop"]
        contract_job.save(store, "default", "m", "completeness: {max_drop: 0.2}\nfreshness: {max_age: 1h}\n")
        assert contract_job.run(store, store) == 2
        from watchkeeper.monitors.contracts import violation_rate_signal

        assert violation_rate_signal(store, "default", {"model": "m"}, int((now - 3 * 86400) * 1e6), int((now + 60) * 1e6)) == 0.0
        relaxed = load_contract("completeness: {max_drop: 0.4}\nfreshness: {max_age: 3h}\n")
        assert contract_job.check_tables(store, "default", "m", relaxed, int(now * 1e6)).valid
    finally:
        store.close()
