"""`watchkeeper quality MODEL` against a real server: JSON keys are metric names; errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

T0 = 1_700_000_000.0


def _post(url, kind, records):
    req = urllib.request.Request(f"{url}/api/v1/{kind}", data=json.dumps(records).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    assert urllib.request.urlopen(req, timeout=10).status == 200


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli", "quality", *args], capture_output=True, text=True,
                          timeout=60)


def test_quality_command_prints_metrics_by_name_per_version_and_segment(live_server):
    """--format json carries precision, recall, f1, roc_auc, false_positive_rate and label_coverage per cohort."""
    server = live_server()
    _post(server.url, "predictions", [
        {"model": "fraud", "request_id": f"r{i}", "timestamp": T0 + i, "output": i % 2, "scores": [0.6, 0.4 + (i % 2) * 0.3],
         "model_version": "v1" if i < 60 else "v2", "segment": {"region": "emea" if i % 3 else "amer"}} for i in range(120)])
    _post(server.url, "labels", [{"request_id": f"r{i}", "label": int(i % 4 == 1)} for i in range(100)])
    out = _cli("fraud", "--since", str(T0 - 60), "--until", str(T0 + 3600), "--format", "json", "--endpoint", server.url)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    groups = {p["group"]: p for p in doc["summary"]}
    assert set(groups) == {"v1", "v2"}
    for name in ("precision", "recall", "f1", "roc_auc", "false_positive_rate", "label_coverage", "accuracy"):
        assert name in groups["v1"]["metrics"]
    assert groups["v1"]["metrics"]["label_coverage"]["value"] == 1.0
    assert abs(groups["v2"]["metrics"]["label_coverage"]["value"] - 40 / 60) < 1e-9
    seg = json.loads(_cli("fraud", "--since", str(T0 - 60), "--until", str(T0 + 3600), "--segment", "region",
                          "--format", "json", "--endpoint", server.url).stdout)
    assert {p["group"] for p in seg["summary"]} == {"emea", "amer"} and seg["group_by"] == "segment:region"
    text = _cli("fraud", "--since", str(T0 - 60), "--until", str(T0 + 3600), "--endpoint", server.url)
    assert text.returncode == 0 and "roc_auc" in text.stdout and "estimated" in text.stdout


def test_quality_command_errors_are_one_line(live_server):
    """A bad argument or an unreachable server is a one-line error with exit 1, never a traceback."""
    server = live_server()
    bad = _cli("fraud", "--by", "colour", "--endpoint", server.url)
    assert bad.returncode == 1 and "colour" in bad.stderr and "Traceback" not in bad.stderr
    down = _cli("fraud", "--endpoint", "http://127.0.0.1:9")
    assert down.returncode == 1 and "cannot reach" in down.stderr and "Traceback" not in down.stderr
