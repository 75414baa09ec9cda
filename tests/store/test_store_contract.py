"""One contract for every store: DuckDB and the ClickHouse engine (chdb) for events; DuckDB, the
chdb metadata companion and a real PostgreSQL for metadata. Each test runs on every backend and
asserts the same answer."""

from __future__ import annotations

import time

import pytest

from watchkeeper.errors import ConflictError, StoreError, StoreUnavailable
from watchkeeper.ingest.records import validate
from watchkeeper.store import open_store
from watchkeeper.store.schema import TABLES

T0 = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z in µs


def _iso(us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us % 1_000_000:06d}Z"


@pytest.fixture(params=["duckdb", "chdb"])
def events(request):
    store = open_store(f"{request.param}://:memory:")
    yield store
    store.close()


@pytest.fixture(params=["duckdb", "chdb", "postgresql"])
def meta(request):
    from watchkeeper.store.meta import meta_for, open_meta_store

    if request.param == "postgresql":
        store = open_meta_store(request.getfixturevalue("postgres_url"))
        yield store
        store.close()
        return
    events_store = open_store(f"{request.param}://:memory:")
    yield meta_for(events_store)
    events_store.close()


def _write(store, kind: str, records: list[dict], project: str = "p") -> None:
    batch = validate(kind, records, project)
    assert not batch.errors, batch.errors
    store.write([batch])


def _predictions(n: int, model: str = "m", step_us: int = 1_000_000, start: int = T0) -> list[dict]:
    return [{"request_id": f"{model}-{i:04d}", "model": model, "model_version": f"v{i % 2}", "timestamp": _iso(start + i * step_us),
             "inputs": {"age": i, "plan": "gold" if i % 3 else "free"}, "output": i % 2, "latency_ms": float(i + 1),
             "error": "boom" if i % 10 == 9 else None} for i in range(n)]


# -- events ------------------------------------------------------------------------------------
def test_fresh_store_is_current_and_migrating_again_does_nothing(events):
    """A new store is at the latest schema; migrate() on it applies nothing."""
    assert not events.is_empty()
    events.check_schema()
    assert events.migrate() == 0
    assert events.schema_version() >= 1


def test_every_event_table_has_the_schema_columns_in_order(events):
    """Each table of store/schema.py exists with exactly its columns (a missing migration shows here)."""
    for table, columns in TABLES.items():
        got = _columns(events, table)
        assert got == [name for name, _ in columns], table


def _columns(store, table: str) -> list[str]:
    if store.backend == "duckdb":
        rows = store.rows("SELECT column_name AS c FROM information_schema.columns WHERE table_name = ? "
                          "ORDER BY ordinal_position", [table])
    else:
        rows = store.rows("SELECT name AS c FROM system.columns WHERE database = currentDatabase() AND table = ? "
                          "ORDER BY position", [table])
    return [r["c"] for r in rows]


def test_predictions_round_trip_every_field(events):
    """What is written comes back field for field, strings with quotes and unicode intact."""
    rec = {"request_id": "r'1\\\"é", "model": "churn", "model_version": "3", "timestamp": _iso(T0 + 123),
           "release": "rel-1", "inputs": {"tenure": 14, "note": "it's 50% ?"}, "output": 0.83, "latency_ms": 12.5,
           "segment": {"region": "eu"}, "cost": 0.002, "trace_id": "t" * 32, "error": "timeout"}
    _write(events, "predictions", [rec])
    [got] = events.predictions("p")
    assert got["request_id"] == "r'1\\\"é" and got["model"] == "churn" and got["model_version"] == "3"
    assert got["ts_us"] == T0 + 123 and got["latency_ms"] == 12.5
    assert got["inputs"] == '{"tenure":14,"note":"it\'s 50% ?"}' and got["output_value"] == 0.83
    assert got["cost"] == 0.002 and got["trace_id"] == "t" * 32 and got["error"] == "timeout"
    assert events.predictions("other") == []


def test_predictions_filter_by_model_and_time_and_page_with_a_cursor(events):
    """since/until are half-open and the (ts, request_id) cursor walks every row exactly once."""
    _write(events, "predictions", _predictions(25, "a") + _predictions(5, "b"))
    assert len(events.predictions("p", model="b")) == 5
    window = events.predictions("p", model="a", since_us=T0 + 5_000_000, until_us=T0 + 10_000_000)
    assert [r["request_id"] for r in window] == [f"a-{i:04d}" for i in range(5, 10)]
    seen, after = [], None
    while True:
        page = events.predictions("p", model="a", limit=7, after=after)
        if not page:
            break
        seen += [r["request_id"] for r in page]
        after = (page[-1]["ts_us"], page[-1]["request_id"])
    assert seen == [f"a-{i:04d}" for i in range(25)]


def test_labels_models_and_counts_agree(events):
    """labels() filters by request id; models() counts predictions, errors, versions and labelled rows."""
    _write(events, "predictions", _predictions(20, "a") + _predictions(4, "b"))
    _write(events, "labels", [{"request_id": f"a-{i:04d}", "label": i % 2, "timestamp": _iso(T0 + i)} for i in range(6)])
    _write(events, "feedback", [{"request_id": "a-0001", "kind": "thumbs", "value": "up"}])
    assert [r["request_id"] for r in events.labels("p", request_ids=["a-0001", "a-0003", "zz"])] == ["a-0001", "a-0003"]
    assert events.labels("p", request_ids=[]) == []
    models = {m["model"]: m for m in events.models("p")}
    assert models["a"]["predictions"] == 20 and models["a"]["errors"] == 2 and models["a"]["labelled"] == 6
    assert models["a"]["versions"] == ["v0", "v1"] and models["b"]["labelled"] == 0
    assert models["a"]["first_seen_us"] == T0 and models["a"]["last_seen_us"] == T0 + 19_000_000
    assert models["a"]["mean_latency_ms"] == pytest.approx(10.5)
    assert events.counts("p") == {"predictions": 24, "labels": 6, "feedback": 1}


def test_latency_series_buckets_and_interpolated_quantiles(events):
    """Per-minute buckets hold the right rows, and p50/p95 are linear-interpolated quantiles."""
    _write(events, "predictions", _predictions(120, "a", step_us=1_000_000))
    series = events.latency_series("p", "a", since_us=T0, until_us=T0 + 120_000_000, bucket_s=60)
    assert [s["t_us"] for s in series] == [T0, T0 + 60_000_000]
    first = series[0]
    assert first["count"] == 60 and first["errors"] == 6
    assert first["p50"] == pytest.approx(30.5) and first["p95"] == pytest.approx(57.05)


def test_json_fields_and_fixed_bin_histograms_are_pushed_down(events):
    """json_num/json_str read fields of the inputs JSON; bin_index counts rows per fixed bin edge."""
    _write(events, "predictions", _predictions(30, "a"))
    d = events.dialect
    rows = events.rows(
        f"SELECT {d.bin_index(d.json_num('inputs', 'age'), [10.0, 20.0])} AS bin, count(*) AS n "
        "FROM predictions WHERE project = ? GROUP BY bin ORDER BY bin", ["p"])
    assert [(r["bin"], r["n"]) for r in rows] == [(0, 10), (1, 10), (2, 10)]
    plans = events.rows(f"SELECT {d.json_str('inputs', 'plan')} AS plan, count(*) AS n FROM predictions "
                        "GROUP BY plan ORDER BY plan")
    assert [(r["plan"], r["n"]) for r in plans] == [("free", 10), ("gold", 20)]
    assert events.rows(f"SELECT {d.json_num('inputs', 'nope')} AS x FROM predictions LIMIT 1")[0]["x"] is None


def test_parameters_are_quoted_not_spliced(events):
    """A ? inside a literal is text, and a hostile string parameter is data, not SQL."""
    _write(events, "predictions", _predictions(3, "a"))
    evil = "a' OR '1'='1"
    assert events.rows("SELECT count(*) AS n FROM predictions WHERE model = ?", [evil])[0]["n"] == 0
    got = events.rows("SELECT '?' AS q, ? AS v, ? AS w", ["x\\'y", None])[0]
    assert got == {"q": "?", "v": "x\\'y", "w": None}


def test_standard_sql_semantics_hold(events):
    """An alias never shadows a column in WHERE, a bare UNION is DISTINCT, and an unmatched outer join gives NULL."""
    _write(events, "predictions", _predictions(4, "a"))
    _write(events, "labels", [{"request_id": "a-0000", "label": 1, "timestamp": _iso(T0)}])
    d = events.dialect
    got = events.rows(f"SELECT model, {d.epoch_us('min(ts)')} AS ts FROM predictions WHERE ts >= {d.ts_param()} GROUP BY model",
                      [T0 + 1_000_000])
    assert got == [{"model": "a", "ts": T0 + 1_000_000}]
    assert len(events.rows("SELECT model FROM predictions UNION SELECT model FROM predictions")) == 1
    joined = events.rows("SELECT p.request_id AS r, l.label AS label FROM predictions AS p "
                         "LEFT JOIN labels AS l ON l.request_id = p.request_id ORDER BY r")
    assert [j["label"] for j in joined] == ["1", None, None, None]


def test_closed_store_is_unavailable(events):
    """After close, ping and write raise StoreUnavailable (what /health and ingest turn into 503)."""
    events.close()
    with pytest.raises(StoreUnavailable):
        events.ping()
    with pytest.raises(StoreError):
        _write(events, "predictions", _predictions(1))


def test_file_store_keeps_data_across_reopen(tmp_path):
    """Data written to a file-backed store is there after close and reopen, on every backend."""
    for backend in ("duckdb", "chdb"):
        url = f"{backend}:////" + str(tmp_path / f"wk.{backend}").lstrip("/")
        store = open_store(url)
        _write(store, "predictions", _predictions(7, "a"))
        key, secret = store.create_key("p", ["read"])
        store.close()
        again = open_store(url)
        assert again.counts("p")["predictions"] == 7 and again.find_key(secret).id == key.id
        again.close()


# -- metadata ----------------------------------------------------------------------------------
def test_keys_lifecycle(meta):
    """Keys are created with sorted scopes, found by secret, listed per project, and revoked once."""
    assert not meta.has_keys()
    a, secret_a = meta.create_key("alpha", ["read", "ingest"], "ci")
    b, _ = meta.create_key("beta", ["admin"])
    assert a.scopes == ("ingest", "read") and secret_a.startswith("wk_") and a.prefix == secret_a[:8]
    found = meta.find_key(secret_a)
    assert (found.id, found.project, found.name, found.scopes, found.revoked) == (a.id, "alpha", "ci", ("ingest", "read"), False)
    assert meta.find_key("wk_not-a-key") is None and meta.has_keys()
    assert [k.id for k in meta.list_keys("alpha")] == [a.id]
    assert {k.id for k in meta.list_keys()} == {a.id, b.id}
    assert meta.revoke_key(a.id) is True and meta.revoke_key(a.id) is False and meta.revoke_key("nope") is False
    assert meta.find_key(secret_a) is None and [k.revoked for k in meta.list_keys("alpha")] == [True]
    assert {"alpha", "beta"} <= set(meta.projects())


def test_secrets_are_stored_only_as_hashes(meta):
    """No column of the keys table holds the secret."""
    _, secret = meta.create_key("p", ["ingest"])
    rows = meta.rows("SELECT * FROM meta_api_keys")
    assert rows and secret not in repr(rows)


def test_generic_statements_with_placeholders_and_transactions(meta):
    """Feature code's portable SQL runs unchanged: ? params, ON CONFLICT, rollback, ConflictError."""
    meta.execute("CREATE TABLE meta_contract_t (id VARCHAR PRIMARY KEY, n INTEGER NOT NULL, note VARCHAR)")
    meta.execute("INSERT INTO meta_contract_t VALUES (?, ?, ?)", ["a", 1, "50% off?"])
    meta.execute("INSERT INTO meta_contract_t VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n", ["a", 2, None])
    assert meta.rows("SELECT id, n, note FROM meta_contract_t WHERE id = ?", ["a"]) == [{"id": "a", "n": 2, "note": "50% off?"}]
    with pytest.raises(RuntimeError):
        with meta.transaction() as tx:
            tx.execute("INSERT INTO meta_contract_t VALUES (?, ?, NULL)", ["b", 5])
            assert tx.rows("SELECT count(*) AS c FROM meta_contract_t")[0]["c"] == 2
            raise RuntimeError("abort")
    assert [r["id"] for r in meta.rows("SELECT id FROM meta_contract_t ORDER BY id")] == ["a"]
    with pytest.raises(ConflictError):
        meta.execute("INSERT INTO meta_contract_t VALUES (?, ?, NULL)", ["a", 9])
    with meta.transaction() as tx:
        tx.execute("UPDATE meta_contract_t SET n = n + ? WHERE id = ?", [10, "a"])
    assert meta.rows("SELECT n FROM meta_contract_t")[0]["n"] == 12


def test_named_locks_are_exclusive_until_released(meta):
    """try_lock takes a free lock once; a second take fails until unlock."""
    assert meta.try_lock("contract") is True
    assert meta.try_lock("contract") is False
    assert meta.try_lock("contract-other") is True
    meta.unlock("contract")
    assert meta.try_lock("contract") is True
    meta.unlock("contract")
    meta.unlock("contract-other")


def test_meta_schema_is_current_and_ping_answers(meta):
    """A migrated metadata store is at its latest schema and answers ping."""
    meta.check_schema()
    assert meta.migrate() == 0
    meta.ping()
