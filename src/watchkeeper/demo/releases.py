"""The control loop in the demo: a bad release of the fraud model goes out and is rolled back by itself.

Registers releases ``fraud-v1`` and ``fraud-v2`` of ``fraud-detector`` (the tabular scenario serves
v2 after 30 simulated minutes, with a higher false positive rate), points ``production`` at v1 and
then promotes v2, adds an FPR rule (week-over-week style, here: the last 15 minutes against the 15
minutes half an hour earlier) whose actions are an automatic rollback and an incident, and an FPR
SLO on the labelled predictions. As soon as the delayed labels arrive the rule fires, production is
rolled back to v1, and an incident with the frozen versions and preserved samples is open at
/api/v1/incidents for a person to read.
"""

from __future__ import annotations

import json
import threading
import urllib.request

MODEL = "fraud-detector"

RULE = {
    "name": "fraud-fpr-regression", "signal": "false_positive_rate", "scope": {"model": MODEL},
    "window": "15m", "baseline": "30m", "op": ">", "threshold": 0.01, "hysteresis": 0.005, "resolve_for": "10m",
    "severity": "critical", "description": "False positive rate more than 1 point above the window 30 minutes earlier",
    "actions": [{"type": "rollback", "alias": "production", "cooldown": "1h"}, {"type": "incident"}],
}
SLO = {"name": "fraud-fpr", "scope": {"model": MODEL}, "objective": 0.95, "period": "1d",
       "sli": {"type": "false_positive_rate"}, "severity": "warning",
       "description": "At most 5% of legitimate transactions flagged, measured on labelled predictions"}


def _call(endpoint: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(endpoint.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", "X-Watchkeeper-Actor": "demo"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def setup(endpoint: str) -> None:
    """Releases, aliases, the rule and the SLO (idempotent)."""
    _call(endpoint, "POST", "/api/v1/releases", {"id": "fraud-v1", "model": MODEL, "model_version": "v1",
                                                  "feature_set_version": "features-2024-11", "config": {"threshold": 0.5},
                                                  "description": "gradient boosting, Nov features"})
    _call(endpoint, "POST", "/api/v1/releases", {"id": "fraud-v2", "model": MODEL, "model_version": "v2",
                                                  "feature_set_version": "features-2025-01", "config": {"threshold": 0.5},
                                                  "description": "retrained on January data"})
    aliases = _call(endpoint, "GET", f"/api/v1/aliases?model={MODEL}")["aliases"]
    if not aliases:
        _call(endpoint, "POST", "/api/v1/releases/fraud-v1/promote", {"alias": "production", "reason": "initial release"})
        _call(endpoint, "POST", "/api/v1/releases/fraud-v2/promote", {"alias": "production", "reason": "retrained model goes out"})
    _call(endpoint, "POST", "/api/v1/rules", RULE)
    _call(endpoint, "POST", "/api/v1/slos", SLO)


def run(endpoint: str, stop: threading.Event, every_s: float = 15.0) -> None:
    try:
        setup(endpoint)
    except Exception as exc:  # the demo goes on without the control loop
        print(f"demo: could not set up releases and rules: {exc}")
        return
    # The scheduler evaluates rules every monitor_interval; nudge it so the story unfolds within a minute.
    while not stop.wait(every_s):
        try:
            _call(endpoint, "POST", "/api/v1/alerts/evaluate", {})
            if _call(endpoint, "GET", "/api/v1/incidents")["incidents"]:
                return
        except Exception:
            continue


def start(endpoint: str, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run, args=(endpoint, stop), name="demo-releases", daemon=True)
    thread.start()
    return thread
