"""The demo's control-loop story: the bad fraud release is rolled back and an incident is open."""

from __future__ import annotations

import threading
import time

from control_helpers import MODEL, call
from watchkeeper.demo import releases, tabular


def test_demo_rolls_back_the_bad_release_and_opens_an_incident(live_server):
    """With the tabular workload running, the FPR regression fires, production returns to v1, an incident is open."""
    server = live_server(env={"WATCHKEEPER_MONITOR_INTERVAL": "3600"})
    stop = threading.Event()
    try:
        tabular.start(server.url, stop)
        thread = threading.Thread(target=releases.run, args=(server.url, stop, 3.0), daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        incidents = []
        while time.monotonic() < deadline and not incidents:
            time.sleep(2)
            incidents = call(server.url + "/api/v1/incidents")["incidents"]
        assert incidents, "no incident within two minutes"
        # The rule opens the incident first and records the rollback right after: wait for both.
        inc = call(server.url + f"/api/v1/incidents/{incidents[0]['id']}")
        while inc["doc"]["rollback"] is None and time.monotonic() < deadline + 30:
            time.sleep(0.5)
            inc = call(server.url + f"/api/v1/incidents/{incidents[0]['id']}")
        assert inc["rule"] == "fraud-fpr-regression"
        assert inc["doc"]["frozen_versions"][0]["release"]["id"] == "fraud-v2"
        assert inc["doc"]["samples_preserved"] > 0
        assert inc["doc"]["rollback"], "the incident never recorded a rollback"
        assert inc["doc"]["rollback"]["to_release"] == "fraud-v1"
        assert call(server.url + f"/api/v1/aliases/{MODEL}/production")["id"] == "fraud-v1"
    finally:
        stop.set()
