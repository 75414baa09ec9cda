"""A fraud classifier in production: inputs drift after a while, labels arrive minutes late.

The first minutes are back-filled (timestamps in the past) so every chart has history at once;
then traffic continues live at a few predictions per second. After ``DRIFT_AFTER_S`` of simulated
time the ``amount`` feature shifts, ``merchant_age_days`` starts arriving empty for a quarter of
requests, and a new ``country`` value appears; the model's false positive rate rises with it.
A few malformed payloads are posted raw, as a broken client would.
"""

from __future__ import annotations

import math
import random
import threading
import time
import urllib.request

from ..sdk.client import Client

MODEL = "fraud-detector"
BACKFILL_S = 45 * 60
DRIFT_AFTER_S = 30 * 60
LABEL_DELAY_S = (60, 300)
COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL"]
DEVICES = ["ios", "android", "web"]
REGIONS = {"US": "amer", "GB": "emea", "DE": "emea", "FR": "emea", "ES": "emea", "IT": "emea", "NL": "emea", "BR": "amer"}


def _features(rng: random.Random, drifted: bool) -> tuple[dict, float]:
    fraud = rng.random() < 0.05
    amount = rng.lognormvariate(3.6 if not drifted else 4.3, 0.9) * (3.0 if fraud else 1.0)
    age = None if (drifted and rng.random() < 0.25) else max(0.0, rng.gauss(400, 200) - (300 if fraud else 0))
    country = "BR" if (drifted and rng.random() < 0.15) else rng.choice(COUNTRIES)
    inputs = {
        "amount": round(amount, 2),
        "merchant_age_days": None if age is None else round(age, 1),
        "txn_per_hour": rng.randint(0, 6) + (rng.randint(3, 12) if fraud else 0),
        "country": country,
        "device": rng.choice(DEVICES),
        "account_tenure_days": rng.randint(1, 2000),
    }
    return inputs, 1.0 if fraud else 0.0


def _score(inputs: dict, rng: random.Random) -> float:
    age = inputs["merchant_age_days"]
    z = (-5.2 + 0.9 * math.log1p(inputs["amount"]) * 0.8 + 0.25 * inputs["txn_per_hour"]
         - 0.002 * (age if age is not None else 100.0) + rng.gauss(0, 0.6))
    return 1.0 / (1.0 + math.exp(-z))


def _bad_payloads(endpoint: str) -> None:
    bodies = [
        b'[{"model": "fraud-detector", "output": 1, "latency_ms": "fast"}]',
        b'[{"output": 0}]',
        b'{"not": "a batch"',
    ]
    for body in bodies:
        req = urllib.request.Request(endpoint.rstrip("/") + "/api/v1/predictions", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            urllib.request.urlopen(req, timeout=5).read()
        except Exception:
            pass  # a 4xx is the point


def run(endpoint: str, stop: threading.Event, rate: float = 4.0, seed: int = 7) -> None:
    rng = random.Random(seed)
    client = Client(endpoint=endpoint, project="default", flush_interval=0.5)
    start = time.time()
    t0 = start - BACKFILL_S
    pending: list[tuple[float, str, float]] = []  # (due, request_id, label)

    def served_version(ts: float, live: bool) -> str:
        """Back-filled history follows the script; live traffic asks the registry like a real service."""
        scripted = "v2" if ts - t0 > DRIFT_AFTER_S else "v1"
        if not live:
            return scripted
        try:
            from ..sdk.release import release

            rel = release(MODEL, "production", endpoint=endpoint, project="default", ttl=5.0, timeout=1.0)
            return str(rel.get("model_version") or scripted)
        except Exception:
            return scripted

    def one(ts: float, live: bool) -> None:
        drifted = ts - t0 > DRIFT_AFTER_S
        version = served_version(ts, live)
        inputs, truth = _features(rng, drifted)
        score = _score(inputs, rng)
        if version == "v2":  # the new release is trigger-happy: more false positives
            score = min(1.0, score * 1.6 + 0.05)
        label = int(score >= 0.5)
        latency = rng.lognormvariate(math.log(18 if version != "v2" else 26), 0.35)
        error = "timeout calling feature store" if rng.random() < 0.004 else None
        rid = client.log_prediction(
            MODEL, inputs, label, model_version=version, release=f"fraud-{version}", scores={"0": 1 - score, "1": score},
            latency_ms=round(latency, 2), segment={"country": inputs["country"], "region": REGIONS[inputs["country"]],
                                                   "device": inputs["device"]},
            cost=0.0004, timestamp=ts, error=error,
        )
        pending.append((ts + rng.uniform(*LABEL_DELAY_S), rid, truth))

    # Back-fill: ~1 prediction every 2 s of simulated history.
    ts = t0
    while ts < start and not stop.is_set():
        one(ts, live=False)
        ts += rng.expovariate(0.5)
    _bad_payloads(endpoint)
    while not stop.is_set():
        now = time.time()
        one(now, live=True)
        due = [p for p in pending if p[0] <= now]
        if due:
            pending[:] = [p for p in pending if p[0] > now]
            for when, rid, truth in due:
                client.log_label(rid, int(truth), timestamp=when)
        if rng.random() < 0.01:
            _bad_payloads(endpoint)
        stop.wait(rng.expovariate(rate))
    client.shutdown(timeout=2.0)


def start(endpoint: str, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run, args=(endpoint, stop), name="demo-tabular", daemon=True)
    thread.start()
    return thread
