"""The fraud scenario end to end on a simulated clock, against a real server on loopback."""

from __future__ import annotations

import time

import watchkeeper
from control_helpers import MODEL, FraudTraffic, WebhookReceiver, call
from watchkeeper.sdk.release import clear_cache

MINUTE = 60.0


def test_bad_release_is_rolled_back_and_the_incident_holds_the_evidence(live_server, monkeypatch, tmp_path):
    """A release raising the FPR by 3 points is rolled back after the rule's window; webhooks, SDK and incident agree."""
    monkeypatch.setenv("WATCHKEEPER_CACHE_DIR", str(tmp_path / "cache"))
    clear_cache()
    server = live_server(env={"WATCHKEEPER_MONITOR_INTERVAL": "3600"})
    url = server.url
    t0 = (time.time() // 3600) * 3600 - 4 * 3600  # simulated clock: four hours ago, on the hour
    with WebhookReceiver() as hook:
        r1 = call(url + "/api/v1/releases", "POST", {"id": "fraud-v1", "model": MODEL, "model_version": "v1",
                                                     "feature_set_version": "fs-3", "config": {"threshold": 0.5},
                                                     "alias": "production", "by": "alice", "reason": "first release"},
                  expect=201)["release"]
        r2 = call(url + "/api/v1/releases", "POST", {"id": "fraud-v2", "model": MODEL, "model_version": "v2",
                                                     "feature_set_version": "fs-4", "config": {"threshold": 0.5}},
                  expect=201)["release"]
        call(url + "/api/v1/rules", "POST", {
            "name": "fraud-fpr", "signal": "false_positive_rate", "scope": {"model": MODEL}, "window": "15m",
            "op": ">", "threshold": 0.035, "for": "5m", "hysteresis": 0.005, "resolve_for": "5m", "severity": "critical",
            "actions": [{"type": "webhook", "url": hook.url + "/json"},
                        {"type": "webhook", "url": hook.url + "/slack", "format": "slack"},
                        {"type": "rollback", "alias": "production", "cooldown": "2h"},
                        {"type": "incident"}]}, expect=201)
        call(url + "/api/v1/slos", "POST", {"name": "fraud-fpr-slo", "scope": {"model": MODEL}, "objective": 0.97,
                                            "period": "1d", "sli": {"type": "false_positive_rate"}}, expect=201)

        traffic = FraudTraffic(url)
        transitions = []
        for minute in range(80):
            now = t0 + minute * MINUTE
            if minute == 30:
                call(url + "/api/v1/releases/fraud-v2/promote", "POST", {"alias": "production", "by": "bob",
                                                                          "reason": "new model"})
            serving = watchkeeper.release(MODEL, endpoint=url, ttl=0)  # what the service resolves each minute
            traffic.minute(now, serving)
            result = call(url + "/api/v1/alerts/evaluate", "POST", {"now": now + MINUTE})["results"]
            rule = next(r for r in result if r["rule"] == "fraud-fpr")
            assert "error" not in rule, rule
            if rule["transition"]:
                transitions.append((minute, rule["transition"]))

        fired = [m for m, t in transitions if t == "firing"]
        resolved = [m for m, t in transitions if t == "resolved"]
        assert len(fired) == 1 and len(resolved) == 1, transitions
        assert 35 <= fired[0] <= 50, transitions      # after the window filled with v2 traffic and `for` passed
        assert fired[0] < resolved[0]

        # The alias went back to v1 automatically, and the SDK resolves it.
        history = call(url + f"/api/v1/aliases/{MODEL}/production/history")["history"]
        assert [h["action"] for h in history] == ["auto_rollback", "promote", "promote"]
        assert history[0]["from_release"] == r2["id"] and history[0]["to_release"] == r1["id"]
        assert history[0]["actor"] == "rule:fraud-fpr"
        assert watchkeeper.release(MODEL, endpoint=url, ttl=0)["id"] == r1["id"]

        # The webhook receiver got the alert and the resolve, in both formats, once each.
        json_events = [w["body"]["event"] for w in hook.received if w["path"] == "/json"]
        assert json_events == ["firing", "resolved"]
        firing = next(w["body"] for w in hook.received if w["path"] == "/json")
        assert firing["rule"] == "fraud-fpr" and firing["value"] > 0.035 and firing["incident_id"]
        assert any("rolled back" in a for a in firing["actions"])
        slack = [w["body"]["text"] for w in hook.received if w["path"] == "/slack"]
        assert len(slack) == 2 and "FIRING" in slack[0] and "RESOLVED" in slack[1]

        # The incident holds the frozen versions, the samples, the rollback and the timeline.
        incidents = call(url + "/api/v1/incidents")["incidents"]
        assert len(incidents) == 1
        inc = call(url + f"/api/v1/incidents/{incidents[0]['id']}")
        frozen = {f["alias"]: f["release"] for f in inc["doc"]["frozen_versions"]}
        assert frozen["production"]["id"] == r2["id"] and frozen["production"]["feature_set_version"] == "fs-4"
        assert inc["classification"] == "model behaviour"
        assert inc["doc"]["rollback"]["to_release"] == r1["id"]
        assert set(inc["doc"]["rollback"]["components_reverted"]) == {"model_version", "feature_set_version"}
        assert inc["status"] == "mitigated"
        kinds = [e["kind"] for e in inc["timeline"]]
        assert kinds[0] == "opened" and "action" in kinds and kinds.count("alert") == 2
        samples = call(url + f"/api/v1/incidents/{inc['id']}/samples")["samples"]
        assert len(samples) >= 10
        assert any(s["release_id"] == r2["id"] and s["output"] == "1" and s["label"] == "0" for s in samples)
        assert samples[0]["inputs"]["amount"] >= 10.0
        release_slices = {s["slice"]: s for s in inc["doc"]["slices"] if s["slice"].startswith("release=")}
        assert release_slices[f"release={r2['id']}"]["value"] > 0.04

        # A person adds a note; the postmortem carries everything, with the gaps marked.
        call(url + f"/api/v1/incidents/{inc['id']}/notes", "POST", {"text": "v2 threshold too low", "by": "carol"}, expect=201)
        call(url + f"/api/v1/incidents/{inc['id']}", "PATCH", {"customer_impact": "about 3% more legitimate payments blocked"})
        md = call(url + f"/api/v1/incidents/{inc['id']}/postmortem.md")["_text"]
        for needle in ("# Postmortem", "fraud-v2", "fs-4", "about 3% more legitimate", "## Detection gap",
                       "_to be written_", "v2 threshold too low", "model behaviour"):
            assert needle in md, needle

        # The SLO saw its budget burn.
        slo = call(url + "/api/v1/slos/fraud-fpr-slo?until=" + str(t0 + 45 * MINUTE))["status"]
        assert slo["total"] > 0 and slo["error_budget_remaining"] < 1.0

    # The server goes away: the SDK still answers with the last known release, from memory and from disk.
    server.stop()
    stale = watchkeeper.release(MODEL, endpoint=url, ttl=0)
    assert stale["id"] == r1["id"] and stale["stale"] is True
    clear_cache()  # a restarted service: only the file cache is left
    assert watchkeeper.release(MODEL, endpoint=url, ttl=0)["id"] == r1["id"]
