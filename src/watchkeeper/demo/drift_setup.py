"""Demo: give ``fraud-detector`` a training reference and a data contract, then judge drift now and then.

The tabular scenario's traffic drifts after ``DRIFT_AFTER_S`` (``amount`` shifts up, a quarter of
``merchant_age_days`` arrive empty, a new ``country`` ``BR`` appears). This scenario profiles
training-like data drawn from the same generator before the drift, stores it as the model's
reference (``PUT .../reference``), stores a contract that the drifted traffic breaks (``country``
enum, ``merchant_age_days`` at most 5% missing), and asks the server to judge the latest window every
minute (``POST .../drift/run``), so the drift, the missing-rate jump and the contract violations
show in the API (``GET .../drift``, ``.../drift/series``, ``.../violations``) and on /metrics at once.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request

from . import tabular

CONTRACT = f"""
name: fraud-detector-inputs
owner: risk-ml@example.com
upstream: [payments-feature-pipeline@example.com]
downstream: [fraud-oncall@example.com]
fields:
  amount: {{type: number, nullable: false, min: 0}}
  merchant_age_days: {{type: number, min: 0, max_missing: 0.05}}
  txn_per_hour: {{type: integer, min: 0, max: 100}}
  country: {{type: string, enum: [{", ".join(tabular.COUNTRIES)}]}}
  device: {{type: string, enum: [{", ".join(tabular.DEVICES)}]}}
  account_tenure_days: {{type: integer, min: 0}}
freshness: {{max_age: 10m}}
"""


def training_profile(rows: int = 20000, seed: int = 11):
    """The reference: ``rows`` pre-drift transactions with the model's class and score."""
    import pyarrow as pa

    from ..monitors.references import profile_dataset

    rng = random.Random(seed)
    records = []
    for _ in range(rows):
        inputs, _truth = tabular._features(rng, drifted=False)
        score = tabular._score(inputs, rng)
        records.append({**inputs, "label": str(int(score >= 0.5)), "score": score})
    table = pa.Table.from_pylist(records)
    return profile_dataset(table, label_column="label", score_column="score", source="demo training data")


def _send(endpoint: str, method: str, path: str, body: bytes, content_type: str = "application/json") -> None:
    req = urllib.request.Request(endpoint.rstrip("/") + path, data=body, method=method,
                                 headers={"Content-Type": content_type})
    urllib.request.urlopen(req, timeout=60).read()


def run(endpoint: str, stop: threading.Event) -> None:
    model = tabular.MODEL
    try:
        _send(endpoint, "PUT", f"/api/v1/models/{model}/contract", CONTRACT.encode(), "application/yaml")
        profile = training_profile()
        _send(endpoint, "PUT", f"/api/v1/models/{model}/reference", json.dumps(profile.to_dict()).encode())
    except Exception as exc:  # the demo goes on without drift pages rather than crash
        print(f"demo drift setup failed: {exc}")
        return
    stop.wait(20)  # let the back-filled history land
    while not stop.is_set():
        try:
            _send(endpoint, "POST", f"/api/v1/models/{model}/drift/run?window=15m", b"")
        except Exception:
            pass
        stop.wait(60)


def start(endpoint: str, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run, args=(endpoint, stop), name="demo-drift", daemon=True)
    thread.start()
    return thread
