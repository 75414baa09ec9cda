"""Tool-call anomalies: schemas, policies, sequences, loops and bursts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from watchkeeper.security import SequenceBaseline, ToolPolicy, check_calls

CORPUS = Path(os.environ.get("WATCHKEEPER_SECURITY_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpora" / "security"))


def _runs(label: str) -> list[dict]:
    path = CORPUS / "tool_calls.jsonl"
    if not path.exists():
        pytest.skip(f"corpus not found at {path}")
    return [r for r in map(json.loads, path.open(encoding="utf-8")) if r["label"] == label]


def _kinds(issues) -> set[str]:
    return {i.kind for i in issues}


def test_schema_violation_is_reported():
    """Arguments that break the tool's JSON schema are reported."""
    policy = ToolPolicy(schemas={"send_email": {"type": "object", "required": ["to"],
                                                 "properties": {"to": {"type": "string"}}}})
    issues = check_calls([{"name": "send_email", "args": {"to": 5}}], policy)
    assert "schema" in _kinds(issues)


def test_failures_and_timeouts_are_reported():
    """Errored and slow calls are reported."""
    policy = ToolPolicy(timeout_ms=1000)
    issues = check_calls([{"name": "search", "args": {}, "error": "boom"},
                          {"name": "search", "args": {"q": 1}, "duration_ms": 5000}], policy)
    assert {"error", "timeout"} <= _kinds(issues)


def test_calls_outside_allow_list_and_resources():
    """Tools, URL hosts and recipients outside the policy are reported."""
    policy = ToolPolicy(allowed_tools={"send_email", "get_webpage"}, allowed_domains={"example.com"},
                        allowed_recipients={"@example.com"})
    issues = check_calls([
        {"name": "delete_file", "args": {"id": "1"}},
        {"name": "get_webpage", "args": {"url": "https://docs.example.com/a"}},
        {"name": "get_webpage", "args": {"url": "https://evil.test/x"}},
        {"name": "send_email", "args": {"recipients": ["mark@attacker.test"]}},
    ], policy)
    assert [i.index for i in issues if i.kind == "not_allowed"] == [0]
    assert sorted(i.index for i in issues if i.kind == "resource") == [2, 3]


def test_loop_and_burst():
    """Identical repeated calls are a loop; too many calls in the window are a burst."""
    policy = ToolPolicy(max_repeats=2, max_calls=5)
    calls = [{"name": "poll", "args": {"id": 1}} for _ in range(6)]
    assert {"loop", "burst"} <= _kinds(check_calls(calls, policy))


def test_read_then_send_outside_is_exfil_flow():
    """Reading mail then sending to an outside address is reported without any baseline."""
    calls = [{"name": "get_unread_emails", "args": {}},
             {"name": "send_email", "args": {"recipients": ["mark.black@gmail.com"], "body": "..."}}]
    assert "exfil_flow" in _kinds(check_calls(calls))


def test_corpus_benign_sequences_fit_their_own_baseline():
    """Benign corpus runs raise no unseen transitions against a baseline fitted on them."""
    benign = _runs("benign")
    base = SequenceBaseline.fit(r["tool_calls"] for r in benign)
    assert all("unseen_transition" not in _kinds(check_calls(r["tool_calls"], None, base)) for r in benign)


def test_corpus_injection_sequences_show_anomalies():
    """Most injected-agent runs show an unseen transition or an exfil flow against the benign baseline."""
    base = SequenceBaseline.fit(r["tool_calls"] for r in _runs("benign"))
    attacks = _runs("injection")
    hits = sum(bool(_kinds(check_calls(r["tool_calls"], None, base)) & {"unseen_transition", "exfil_flow"})
               for r in attacks)
    assert hits >= len(attacks) // 2


def test_baseline_round_trips_through_dict():
    """A fitted baseline survives to_dict/from_dict unchanged."""
    base = SequenceBaseline.fit([["a", "b", "c"], [{"name": "a"}, {"name": "c"}]])
    again = SequenceBaseline.from_dict(json.loads(json.dumps(base.to_dict())))
    assert again.transitions == base.transitions and again.tools == base.tools


def test_checker_never_raises_on_junk():
    """Malformed calls produce issues or nothing, never an exception."""
    check_calls([None, 3, {"args": "not json"}, {"name": {"nested": 1}}], ToolPolicy(allowed_tools=set()))
