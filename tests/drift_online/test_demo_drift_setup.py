"""The demo's reference and contract make the tabular model's drift, missing jump and new country visible."""

from __future__ import annotations

import json
import random
import time

from watchkeeper.demo import SCENARIOS, drift_setup, tabular
from watchkeeper.monitors import online_drift
from watchkeeper.monitors.contracts import validate_records


def test_demo_reference_flags_the_scripted_drift(duck, load):
    """Against the demo's training profile, drifted traffic shows amount, missing age and BR; the contract breaks."""
    assert "watchkeeper.demo.drift_setup" in SCENARIOS
    profile = drift_setup.training_profile(rows=5000)
    rng = random.Random(1)
    now = time.time()
    records = []
    for i in range(1500):
        inputs, _ = tabular._features(rng, drifted=True)
        records.append({"model": tabular.MODEL, "inputs": inputs, "output": "0", "timestamp": now - 1500 + i})
    load(duck, records)
    out = online_drift.compute(duck, "default", tabular.MODEL, profile, int((now - 2000) * 1e6), int(now * 1e6))
    by = {f["feature"]: f for f in out["features"]}
    assert by["amount"]["distribution_drifted"]
    assert by["merchant_age_days"]["missing"]["drifted"]
    assert "BR" in by["country"]["new_categories"]
    assert not by["device"]["drifted"] and not by["account_tenure_days"]["drifted"]
    report = validate_records([json.loads(json.dumps(r["inputs"])) for r in records], drift_setup.CONTRACT)
    assert {(v.column, v.rule) for v in report.violations} == {("country", "enum"), ("merchant_age_days", "max_missing")}
