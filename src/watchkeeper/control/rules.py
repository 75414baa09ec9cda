"""Alert rules as data, and ``decide()``: the pure state machine that turns values into alerts.

A rule (YAML or JSON)::

    name: fraud-fpr
    signal: false_positive_rate          # any name in control.signals
    scope: {model: fraud-detector, segment: {country: US}}
    params: {positive: "1"}
    window: 15m                          # each evaluation looks at [now - window, now)
    op: ">"                              # > >= < <=
    threshold: 0.05                      # absolute...
    baseline: 7d                         # ...or, when set, relative: value - value(window shifted back 7d)
    for: 10m                             # breached this long before firing
    hysteresis: 0.005                    # must get this far back past the threshold to resolve
    resolve_for: 5m                      # ...and stay there this long
    severity: critical
    notify_resolve: true
    repeat_interval: 0                   # 0: notify once per episode (de-duplication)
    actions: [{type: webhook, url: "http://...", format: slack}, {type: rollback, alias: production}, {type: incident}]

States: ``ok`` -> ``pending`` (breached, waiting for ``for``) -> ``firing`` -> ``ok`` (resolved).
A firing rule resolves only after the value is past the threshold by ``hysteresis`` for
``resolve_for``, so a metric oscillating around the threshold yields one alert, not hundreds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
OPS = {">": lambda v, t: v > t, ">=": lambda v, t: v >= t, "<": lambda v, t: v < t, "<=": lambda v, t: v <= t}
SEVERITIES = ("info", "warning", "critical")
ACTION_TYPES = ("webhook", "rollback", "incident")


def parse_duration(value: Any, field_name: str = "duration") -> float:
    """``15m``, ``1h``, ``7d``, ``30s`` or a number of seconds -> seconds."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        raise ConfigError(f"{field_name}: expected a duration like 15m, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ConfigError(f"{field_name}: must not be negative")
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise ConfigError(f"{field_name}: {value!r} is not a duration; use e.g. 30s, 15m, 1h, 7d")
    return float(m.group(1)) * _UNIT[m.group(2)]


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest exact Prometheus duration (``900`` -> ``15m``)."""
    s = int(round(seconds))
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


@dataclass
class Rule:
    name: str
    signal: str
    threshold: float
    op: str = ">"
    scope: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    window_s: float = 900.0
    baseline_s: float = 0.0
    for_s: float = 0.0
    hysteresis: float = 0.0
    resolve_for_s: float = 0.0
    severity: str = "warning"
    notify_resolve: bool = True
    repeat_interval_s: float = 0.0
    actions: list = field(default_factory=list)
    description: str = ""
    kind: str = "rule"  # "rule", or "slo" for the burn-rate rule derived from an SLO

    @property
    def relative(self) -> bool:
        return self.baseline_s > 0

    def breached(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)

    def cleared(self, value: float) -> bool:
        """Back past the threshold by the hysteresis margin (strictly on the good side)."""
        if self.op in (">", ">="):
            return value < self.threshold - self.hysteresis or (self.hysteresis == 0 and not self.breached(value))
        return value > self.threshold + self.hysteresis or (self.hysteresis == 0 and not self.breached(value))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "signal": self.signal, "scope": self.scope, "params": self.params,
                               "window": format_duration(self.window_s), "op": self.op, "threshold": self.threshold,
                               "for": format_duration(self.for_s), "hysteresis": self.hysteresis,
                               "resolve_for": format_duration(self.resolve_for_s), "severity": self.severity,
                               "notify_resolve": self.notify_resolve,
                               "repeat_interval": format_duration(self.repeat_interval_s),
                               "actions": self.actions, "description": self.description}
        if self.baseline_s:
            out["baseline"] = format_duration(self.baseline_s)
        return out


_RULE_KEYS = {"name", "signal", "threshold", "op", "scope", "params", "window", "baseline", "for", "hysteresis",
              "resolve_for", "severity", "notify_resolve", "repeat_interval", "actions", "description", "comparison"}


def parse_rule(spec: Any) -> Rule:
    """Validate a rule document; raise ConfigError naming the first bad field."""
    if not isinstance(spec, dict):
        raise ConfigError(f"a rule must be an object, got {type(spec).__name__}")
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"rule {spec.get('name', '?')!r}: unknown field(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(_RULE_KEYS))}")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"rule name {name!r} is invalid: letters, digits, '_', '.', ':' or '-', up to 128 characters")
    where = f"rule {name!r}"
    signal = spec.get("signal")
    if not isinstance(signal, str) or not signal:
        raise ConfigError(f"{where}: signal is required (e.g. false_positive_rate, latency_p95_ms)")
    if not signal.startswith("slo:"):
        from . import signals

        signals.get(signal)  # raises UnknownMethod listing the known signals
    threshold = spec.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ConfigError(f"{where}: threshold must be a number, got {threshold!r}")
    op = spec.get("op", ">")
    if op not in OPS:
        raise ConfigError(f"{where}: op must be one of {', '.join(OPS)}, got {op!r}")
    scope = spec.get("scope") or {}
    if not isinstance(scope, dict) or set(scope) - {"model", "release", "version", "segment"}:
        raise ConfigError(f"{where}: scope may hold model, release, version and segment only")
    if "segment" in scope and not isinstance(scope["segment"], dict):
        raise ConfigError(f"{where}: scope.segment must be an object like {{country: US}}")
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: params must be an object")
    severity = spec.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    hysteresis = spec.get("hysteresis", 0.0)
    if isinstance(hysteresis, bool) or not isinstance(hysteresis, (int, float)) or hysteresis < 0:
        raise ConfigError(f"{where}: hysteresis must be a non-negative number")
    actions = spec.get("actions") or []
    if not isinstance(actions, list):
        raise ConfigError(f"{where}: actions must be a list")
    for i, action in enumerate(actions):
        check_action(action, f"{where}: actions[{i}]")
    window = parse_duration(spec.get("window", "15m"), f"{where}: window")
    if window <= 0:
        raise ConfigError(f"{where}: window must be positive")
    for_s = parse_duration(spec.get("for", 0), f"{where}: for")
    return Rule(
        name=name, signal=signal, threshold=float(threshold), op=op, scope=scope, params=params,
        window_s=window, baseline_s=parse_duration(spec.get("baseline") or spec.get("comparison"), f"{where}: baseline"),
        for_s=for_s, hysteresis=float(hysteresis),
        resolve_for_s=parse_duration(spec.get("resolve_for", 0), f"{where}: resolve_for"),
        severity=severity, notify_resolve=bool(spec.get("notify_resolve", True)),
        repeat_interval_s=parse_duration(spec.get("repeat_interval", 0), f"{where}: repeat_interval"),
        actions=actions, description=str(spec.get("description", "")),
    )


def check_action(action: Any, where: str) -> None:
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        raise ConfigError(f"{where}: an action is an object whose type is one of {', '.join(ACTION_TYPES)}")
    if action["type"] == "webhook":
        url = action.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: webhook url must be an http(s) URL")
        if action.get("format", "json") not in ("json", "slack"):
            raise ConfigError(f"{where}: webhook format must be json or slack")
    if action["type"] == "rollback":
        if not isinstance(action.get("alias", "production"), str):
            raise ConfigError(f"{where}: rollback alias must be a string")
        parse_duration(action.get("cooldown", "1h"), f"{where}: cooldown")


# -- the state machine --------------------------------------------------------------------------

@dataclass
class Decision:
    status: str                  # ok | pending | firing
    transition: str | None       # None | pending | firing | resolved | cancelled
    notify: str | None           # None | firing | resolved | repeat
    state: dict                  # the new state to persist
    breached: bool | None        # None when there was no value


def initial_state() -> dict:
    return {"status": "ok", "since": None, "breach_since": None, "clear_since": None,
            "notified_at": None, "value": None, "episode": 0}


def decide(rule: Rule, state: dict | None, value: float | None, now: float) -> Decision:
    """Next state of ``rule`` given the last ``state``, the current ``value`` and ``now`` (seconds).

    Pure: no I/O, no clock. ``value=None`` (no data in the window) keeps the state as it is.
    """
    s = dict(initial_state())
    s.update(state or {})
    status = s["status"]
    if value is None:
        return Decision(status, None, None, s, None)
    s["value"] = value
    breached = rule.breached(value)
    if status == "ok":
        if not breached:
            return Decision("ok", None, None, s, False)
        s.update(breach_since=now, clear_since=None)
        if rule.for_s <= 0:
            return _fire(s, now)
        s.update(status="pending", since=now)
        return Decision("pending", "pending", None, s, True)
    if status == "pending":
        if not breached:
            s.update(status="ok", since=now, breach_since=None)
            return Decision("ok", "cancelled", None, s, False)
        if now - s["breach_since"] >= rule.for_s:
            return _fire(s, now)
        return Decision("pending", None, None, s, True)
    # firing: resolve only once the value is clearly back (hysteresis) for resolve_for
    if rule.cleared(value):
        if s["clear_since"] is None:
            s["clear_since"] = now
        if now - s["clear_since"] >= rule.resolve_for_s:
            s.update(status="ok", since=now, breach_since=None, clear_since=None)
            return Decision("ok", "resolved", "resolved" if rule.notify_resolve else None, s, False)
        return Decision("firing", None, None, s, breached)
    s["clear_since"] = None
    if rule.repeat_interval_s > 0 and s["notified_at"] is not None and now - s["notified_at"] >= rule.repeat_interval_s:
        s["notified_at"] = now
        return Decision("firing", None, "repeat", s, breached)
    return Decision("firing", None, None, s, breached)


def _fire(s: dict, now: float) -> Decision:
    s.update(status="firing", since=now, notified_at=now, clear_since=None, episode=int(s.get("episode") or 0) + 1)
    return Decision("firing", "firing", "firing", s, True)
