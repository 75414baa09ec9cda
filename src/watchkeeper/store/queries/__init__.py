"""Feature queries: functions ``f(store, ...)`` written once with ``store.rows`` and ``store.dialect``.

They run on every SQLEventStore backend (DuckDB, ClickHouse and its in-process engine chdb).
"""
