"""decide(): the rule state machine, and rule/SLO validation."""

from __future__ import annotations

import math

import pytest
from watchkeeper.control.rules import decide, parse_duration, parse_rule
from watchkeeper.control.slo import parse_slo
from watchkeeper.errors import ConfigError


def _rule(**kw):
    spec = {"name": "r", "signal": "error_rate", "threshold": 0.05, "op": ">"}
    spec.update(kw)
    return parse_rule(spec)


def _run(rule, values, step=60.0):
    state, notes = None, []
    for i, v in enumerate(values):
        d = decide(rule, state, v, i * step)
        state = d.state
        if d.notify:
            notes.append((i, d.notify))
    return notes, state


def test_oscillating_metric_yields_one_alert_and_one_resolve():
    """A value oscillating around the threshold for hours fires once, and resolves once when it clearly drops."""
    rule = _rule(hysteresis=0.01, resolve_for="5m")
    wobble = [0.05 + 0.004 * math.sin(i) for i in range(600)]  # ±0.004 around 0.05, ten hours
    notes, state = _run(rule, [0.02] * 5 + wobble + [0.02] * 10)
    assert [n for _, n in notes] == ["firing", "resolved"]
    assert state["status"] == "ok" and state["episode"] == 1


def test_without_hysteresis_the_same_oscillation_would_flap():
    """The control case: zero hysteresis and no resolve_for flaps on every crossing (why the defaults matter)."""
    notes, _ = _run(_rule(), [0.05 + 0.004 * math.sin(i) for i in range(600)])
    assert len(notes) > 100


def test_for_duration_needs_consecutive_breaches():
    """`for: 5m` fires after five minutes of breach; one good sample in between starts the count again."""
    rule = _rule(**{"for": "5m"})
    notes, _ = _run(rule, [0.1, 0.1, 0.1, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert notes == [(9, "firing")]


def test_no_data_keeps_the_state():
    """A window without data neither resolves nor fires."""
    rule = _rule()
    notes, state = _run(rule, [0.1, None, None, None])
    assert notes == [(0, "firing")] and state["status"] == "firing"


def test_repeat_interval_renotifies_while_firing():
    """repeat_interval sends a reminder while the alert keeps firing, de-duplicated otherwise."""
    notes, _ = _run(_rule(repeat_interval="30m"), [0.1] * 61)
    assert [n for _, n in notes] == ["firing", "repeat", "repeat"]


def test_lower_bound_rule_and_resolve_without_notification():
    """op '<' works for quality floors; notify_resolve false resolves silently."""
    notes, state = _run(_rule(signal="accuracy", op="<", threshold=0.9, notify_resolve=False), [0.95, 0.85, 0.95])
    assert notes == [(1, "firing")] and state["status"] == "ok"


@pytest.mark.parametrize("spec, message", [
    ({"signal": "error_rate", "threshold": 1}, "rule name"),
    ({"name": "x", "signal": "nope", "threshold": 1}, "unknown signal 'nope'"),
    ({"name": "x", "signal": "error_rate", "threshold": "high"}, "threshold must be a number"),
    ({"name": "x", "signal": "error_rate", "threshold": 1, "op": "=="}, "op must be one of"),
    ({"name": "x", "signal": "error_rate", "threshold": 1, "for": "10x"}, "not a duration"),
    ({"name": "x", "signal": "error_rate", "threshold": 1, "actions": [{"type": "email"}]}, "type is one of"),
    ({"name": "x", "signal": "error_rate", "threshold": 1, "actions": [{"type": "webhook", "url": "ftp://x"}]}, "http(s) URL"),
    ({"name": "x", "signal": "error_rate", "threshold": 1, "colour": "red"}, "unknown field(s) colour"),
])
def test_bad_rules_get_clear_errors(spec, message):
    """Each malformed rule is refused with a message naming the field."""
    with pytest.raises(ConfigError, match=None) as info:
        parse_rule(spec)
    assert message in str(info.value)


def test_relative_rule_and_durations():
    """A baseline makes the rule relative; durations parse to seconds."""
    rule = _rule(signal="false_positive_rate", threshold=0.005, baseline="7d")
    assert rule.relative and rule.baseline_s == 7 * 86400
    assert parse_duration("15m") == 900 and parse_duration(90) == 90


def test_slo_tiers_scale_with_the_period_and_validate():
    """A 30-day SLO uses the 1h/5m 14.4x pair; objectives outside (0, 1) are refused."""
    slo = parse_slo({"name": "lat", "objective": 0.999, "period": "30d", "sli": {"type": "latency", "threshold_ms": 100}})
    assert slo.tiers()[0] == (3600.0, 300.0, 14.4, "critical")
    assert abs(slo.budget - 0.001) < 1e-12
    with pytest.raises(ConfigError, match="objective"):
        parse_slo({"name": "x", "objective": 99.9, "sli": {"type": "errors"}})
    with pytest.raises(ConfigError, match="threshold_ms"):
        parse_slo({"name": "x", "objective": 0.99, "sli": {"type": "latency"}})
