"""Releases, aliases, the canary verdict and the CLI, against a real server on loopback."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner
from control_helpers import MODEL, call
from watchkeeper.cli import cli


def _traffic(url: str, release: str, version: str, fp_every: int, n: int = 200, latency: float = 20.0) -> None:
    now = time.time() - 600
    preds = [{"request_id": f"{release}-{i}", "model": MODEL, "model_version": version, "release": release,
              "timestamp": now + i, "output": 1 if i % fp_every == 0 else 0, "latency_ms": latency, "cost": 0.001}
             for i in range(n)]
    call(url + "/api/v1/predictions", "POST", preds)
    call(url + "/api/v1/labels", "POST", [{"request_id": p["request_id"], "label": 0} for p in preds])


def test_release_lifecycle_over_the_cli(live_server):
    """create (idempotent), promote, list and rollback through `watchkeeper release`, recorded with who and why."""
    server = live_server(env={"WATCHKEEPER_MONITOR_INTERVAL": "3600"})
    run = CliRunner().invoke
    base = ["--endpoint", server.url, "--format", "json"]
    res = run(cli, ["release", "create", "--model", MODEL, "--model-version", "v1", "--prompt-version", "p7",
                    "--config", '{"temperature": 0.2}', "--alias", "production", "--by", "alice", *base])
    assert res.exit_code == 0, res.output
    v1 = json.loads(res.output)["release"]
    assert v1["id"].startswith(f"{MODEL}@v1-") and v1["config"] == {"temperature": 0.2}
    again = json.loads(run(cli, ["release", "create", "--model", MODEL, "--model-version", "v1", "--prompt-version", "p7",
                                 "--config", '{"temperature": 0.2}', *base]).output)
    assert again["created"] is False and again["release"]["id"] == v1["id"]
    v2 = json.loads(run(cli, ["release", "create", "--model", MODEL, "--model-version", "v2", *base]).output)["release"]
    res = run(cli, ["release", "promote", v2["id"], "--by", "bob", "--reason", "better recall", *base])
    assert res.exit_code == 0 and json.loads(res.output)["from_release"] == v1["id"]
    listed = json.loads(run(cli, ["release", "list", *base]).output)
    assert {a["release_id"] for a in listed["aliases"]} == {v2["id"]}
    res = run(cli, ["release", "rollback", MODEL, "--by", "carol", "--reason", "FPR up", *base])
    assert res.exit_code == 0 and json.loads(res.output)["to_release"] == v1["id"]
    hist = call(server.url + f"/api/v1/aliases/{MODEL}/production/history")["history"]
    assert [(h["action"], h["actor"]) for h in hist] == [("rollback", "carol"), ("promote", "bob"), ("promote", "alice")]
    # Nothing older to go back to: a clear refusal, not a traceback.
    res = run(cli, ["release", "rollback", MODEL, *base])
    assert res.exit_code == 1 and "no previous release" in res.output
    res = run(cli, ["release", "promote", "nope", "--endpoint", server.url])
    assert res.exit_code == 1 and "404" in res.output and "no release 'nope'" in res.output


def test_bad_requests_get_the_error_shape(live_server):
    """Invalid releases, rules and incidents are refused with the one JSON error shape."""
    url = live_server(env={"WATCHKEEPER_MONITOR_INTERVAL": "3600"}).url
    err = call(url + "/api/v1/releases", "POST", {"model": MODEL}, expect=400)["error"]
    assert "model_version is required" in err["message"]
    call(url + "/api/v1/releases", "POST", {"id": "x", "model": MODEL, "model_version": "v1"}, expect=201)
    err = call(url + "/api/v1/releases", "POST", {"id": "x", "model": MODEL, "model_version": "v2"}, expect=409)["error"]
    assert "immutable" in err["message"]
    err = call(url + "/api/v1/rules", "POST", {"name": "r", "signal": "fpr", "threshold": 1}, expect=400)["error"]
    assert "unknown signal 'fpr'" in err["message"] and "false_positive_rate" in err["message"]
    assert call(url + "/api/v1/aliases/m/production", expect=404)["error"]["code"] == "not_found"
    assert call(url + "/api/v1/incidents/inc-none", expect=404)["error"]["code"] == "not_found"
    err = call(url + "/api/v1/incidents", "POST", {"title": "t", "severity": "huge"}, expect=400)["error"]
    assert "severity" in err["message"]


def test_canary_verdict_for_argo(live_server):
    """The verdict endpoint passes a healthy canary and aborts one with a worse FPR, naming the evidence."""
    url = live_server(env={"WATCHKEEPER_MONITOR_INTERVAL": "3600"}).url
    for rid, version in (("prod-1", "v1"), ("good-2", "v2"), ("bad-3", "v3")):
        call(url + "/api/v1/releases", "POST", {"id": rid, "model": MODEL, "model_version": version}, expect=201)
    call(url + "/api/v1/releases/prod-1/promote", "POST", {"alias": "production"})
    _traffic(url, "prod-1", "v1", fp_every=50)
    _traffic(url, "good-2", "v2", fp_every=50)
    _traffic(url, "bad-3", "v3", fp_every=10, latency=40.0)
    good = call(url + "/api/v1/releases/good-2/verdict?baseline=production&window=1h")
    assert good["pass"] is True and good["verdict"] == "promote" and good["baseline"] == "prod-1"
    bad = call(url + "/api/v1/releases/bad-3/verdict?baseline=prod-1&window=1h")
    assert bad["pass"] is False and bad["verdict"] == "abort"
    assert set(bad["failed"]) == {"false_positive_rate", "accuracy", "latency_p95_ms"}
    fpr = next(e for e in bad["evidence"] if e["signal"] == "false_positive_rate")
    assert fpr["candidate"] > fpr["baseline"] and fpr["result"] == "worse"
    loose = call(url + "/api/v1/releases/bad-3/verdict?baseline=prod-1&window=1h&max_false_positive_rate=0.2&max_accuracy=0.2"
                 "&max_latency_p95_ms=2")
    assert loose["pass"] is True
    thin = call(url + "/api/v1/releases/good-2/verdict?baseline=prod-1&window=1h&min_requests=1000")
    assert thin["verdict"] == "inconclusive" and thin["pass"] is False
    assert call(url + "/api/v1/releases/good-2/verdict?max_nonsense=1", expect=400)["error"]["code"] == "invalid_argument"
