"""Data contracts: every rule type with sample rows, the validate CLI's exit codes, mitigations, the server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper.monitors.contracts import ContractError, ContractViolation, Gate, validate

CONTRACT = """
name: payments
owner: risk@example.com
upstream: [etl@example.com]
downstream: [fraud-oncall]
fields:
  amount: {type: number, nullable: false, min: 0, max: 1000}
  country: {type: string, enum: [US, GB]}
  email: {type: string, regex: '^[^@\\\\s]+@[^@\\\\s]+$'}
  txn_id: {type: string, unique: true}
  age: {type: integer, max_missing: 0.1}
  qty: {type: integer}
  event_time: {type: timestamp}
  removed: {type: number}
freshness: {column: event_time, max_age: 1h}
completeness: {min_rows: 10, max_drop: 0.2}
"""


def _bad_table():
    return pa.table({
        "amount": [1.0, -5.0, None, 2000.0, 3.0],
        "country": ["US", "BR", "GB", None, "US"],
        "email": ["a@b.c", "not-an-email", "x@y.z", None, "q@w.e"],
        "txn_id": ["t1", "t2", "t2", "t3", "t4"],
        "age": [1, None, None, 4, 5],
        "qty": [1.0, 2.5, 3.0, None, 4.0],
        "event_time": [dt.datetime(2020, 1, 1)] * 5,
    })


def _good_table(n=20):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return pa.table({"amount": [float(i) for i in range(n)], "country": ["US", "GB"] * (n // 2),
                     "email": [f"u{i}@x.io" for i in range(n)], "txn_id": [f"t{i}" for i in range(n)],
                     "age": list(range(n)), "qty": list(range(n)), "event_time": [now] * n, "removed": [0.0] * n})


def test_every_rule_type_reports_samples(tmp_path):
    """Each broken rule is listed once with observed, expected and the offending rows."""
    (tmp_path / "c.yaml").write_text(CONTRACT)
    report = validate(_bad_table(), tmp_path / "c.yaml", previous_rows=10)
    got = {(v.column, v.rule): v for v in report.violations}
    assert set(got) == {("removed", "required"), ("amount", "not_null"), ("amount", "min"), ("amount", "max"),
                        ("country", "enum"), ("email", "regex"), ("txn_id", "unique"), ("age", "max_missing"),
                        ("qty", "type"), ("(table)", "min_rows"), ("(table)", "max_drop"),
                        ("event_time", "freshness")}
    assert got[("amount", "min")].samples == [{"row": 1, "value": -5.0}]
    assert got[("amount", "max")].samples == [{"row": 3, "value": 2000.0}]
    assert got[("amount", "not_null")].samples == [{"row": 2, "value": None}]
    assert got[("country", "enum")].samples == [{"row": 1, "value": "BR"}]
    assert got[("email", "regex")].samples == [{"row": 1, "value": "not-an-email"}]
    assert got[("txn_id", "unique")].samples == [{"value": "t2", "count": 2, "rows": [1, 2]}]
    assert got[("qty", "type")].samples == [{"row": 1, "value": 2.5}]
    assert got[("age", "max_missing")].observed == 0.4
    assert "50.0% fewer" in got[("(table)", "max_drop")].observed
    assert report.contacts == {"owner": "risk@example.com", "upstream": ["etl@example.com"], "downstream": ["fraud-oncall"]}
    assert not report.valid


def test_clean_data_passes(tmp_path):
    """Data that keeps every promise has no violations."""
    report = validate(_good_table(), CONTRACT, previous_rows=21)
    assert report.valid, report.text()
    assert report.checked_rules >= 10


def test_distribution_rule_against_reference():
    """A field with a distribution rule is compared with the reference profile."""
    import numpy as np

    from watchkeeper.monitors.references import profile_dataset

    rng = np.random.default_rng(0)
    ref = profile_dataset(pa.table({"x": rng.normal(0, 1, 5000)}))
    contract = {"fields": {"x": {"type": "number", "distribution": {"method": "psi", "threshold": 0.2}}}}
    assert validate(pa.table({"x": rng.normal(0, 1, 3000)}), contract, reference=ref).valid
    moved = validate(pa.table({"x": rng.normal(1.5, 1, 3000)}), contract, reference=ref)
    assert [(v.column, v.rule) for v in moved.violations] == [("x", "distribution")]


@pytest.mark.parametrize("text, key", [
    ("fields:\n  a: {typo: 1}\n", "typo"),
    ("fieldz:\n  a: {type: number}\n", "fieldz"),
    ("fields:\n  a: {type: float}\n", "fields.a.type"),
    ("fields:\n  a: {regex: '(['}\n", "fields.a.regex"),
    ("fields:\n  a: {min: 5, max: 1}\n", "fields.a"),
    ("completeness: {max_drop: 20}\n", "completeness.max_drop"),
    ("fields: [\n", "not valid YAML"),
    ("", "empty"),
])
def test_bad_contracts_name_the_problem(text, key):
    """A bad contract raises ContractError whose message names the offending key."""
    with pytest.raises(ContractError) as err:
        validate(_good_table(), text if text else "\n")
    assert key in str(err.value)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli", "validate", *args], capture_output=True, text=True,
                          timeout=120)


def test_validate_cli_exit_codes(tmp_path):
    """0 when clean, 1 with every violation listed, 2 for a bad contract, 1 for unreadable data; never a traceback."""
    (tmp_path / "c.yaml").write_text(CONTRACT)
    pq.write_table(_good_table(), tmp_path / "good.parquet")
    pq.write_table(_bad_table(), tmp_path / "bad.parquet")
    _bad_table().to_pandas().to_csv(tmp_path / "bad.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "broken.yaml").write_text("fields:\n  amount: {nullable: maybe}\n")

    ok = _cli(str(tmp_path / "good.parquet"), "--contract", str(tmp_path / "c.yaml"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _cli(str(tmp_path / "bad.parquet"), "--contract", str(tmp_path / "c.yaml"), "--format", "json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["valid"] is False and len(doc["violations"]) == 11  # every rule but max_drop (no --previous-rows)
    assert {"column", "rule", "observed", "expected", "samples"} <= set(doc["violations"][0])
    csv = _cli(str(tmp_path / "bad.csv"), "--contract", str(tmp_path / "c.yaml"))
    assert csv.returncode == 1 and "country: enum" in csv.stdout and "row 1: 'BR'" in csv.stdout
    broken = _cli(str(tmp_path / "good.parquet"), "--contract", str(tmp_path / "broken.yaml"))
    assert broken.returncode == 2 and "fields.amount.nullable" in broken.stderr
    for args in ([str(tmp_path / "empty.csv")], [str(tmp_path / "missing.parquet")]):
        done = _cli(*args, "--contract", str(tmp_path / "c.yaml"))
        assert done.returncode == 1 and done.stderr.startswith("error:") and "Traceback" not in done.stderr
    nofile = _cli(str(tmp_path / "good.parquet"), "--contract", str(tmp_path / "nope.yaml"))
    assert nofile.returncode == 2 and "does not exist" in nofile.stderr


def test_gate_mitigations():
    """raise halts, fallback hands back the last good batch, alert calls back and continues."""
    good, bad = _good_table(), _bad_table()
    gate = Gate(CONTRACT, on_violation="raise")
    assert gate.check(good) is good
    with pytest.raises(ContractViolation) as err:
        gate.check(bad)
    assert any(v.rule == "enum" for v in err.value.report.violations)
    fallback = Gate(CONTRACT, on_violation="fallback", alert=lambda r: None)
    fallback.check(good)
    assert fallback.check(bad) is good
    seen = []
    alert = Gate(CONTRACT, on_violation="alert", alert=seen.append)
    assert alert.check(bad) is bad and seen and not seen[0].valid
    with pytest.raises(ContractViolation):
        Gate(CONTRACT, on_violation="fallback").check(bad)  # nothing good to fall back to yet


def test_server_records_violations_of_ingested_batches(client):
    """A model's stored contract is checked on each ingested batch; violations come back with request ids."""
    contract = "fields:\n  amount: {type: number, min: 0}\n  country: {enum: [US, GB]}\n  age: {max_missing: 0.1}\n"
    bad = client.put("/api/v1/models/fraud/contract", content=b"fields:\n  amount: {mni: 0}\n")
    assert bad.status_code == 422 and "mni" in bad.json()["error"]["message"]
    assert client.put("/api/v1/models/fraud/contract", content=contract.encode()).status_code == 200
    assert client.get("/api/v1/models/fraud/contract").json()["contract"]["fields"]["amount"] == {"type": "number", "min": 0}
    now = time.time()
    recs = [{"model": "fraud", "request_id": f"r{i}", "inputs": {"amount": 5.0 if i != 3 else -1.0,
             "country": "BR" if i == 7 else "US", "age": None if i % 2 else 3}, "output": "0", "timestamp": now}
            for i in range(20)]
    assert client.post("/api/v1/predictions", json=recs).status_code == 200
    client.post("/api/v1/models/fraud/violations/flush")
    doc = client.get("/api/v1/models/fraud/violations").json()
    assert doc["by_rule"] == {"min": 1, "enum": 1, "max_missing": 1}
    by = {v["rule"]: v for v in doc["violations"]}
    assert by["min"]["samples"][0]["request_id"] == "r3"
    assert by["enum"]["samples"][0] == {"row": 7, "value": "BR", "request_id": "r7"}
    assert by["max_missing"]["column"] == "age" and by["max_missing"]["source"] == "ingest"
