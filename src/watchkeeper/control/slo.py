"""SLOs: an objective over a period, its error budget, and multi-window multi-burn-rate alerts.

An SLO (YAML or JSON)::

    name: fraud-latency
    scope: {model: fraud-detector}
    objective: 0.999                  # 99.9% of events are good...
    period: 30d                       # ...over 30 days
    sli: {type: latency, threshold_ms: 100}
    # or {type: errors} | {type: false_positive_rate} | {type: accuracy}; quality SLIs count only
    # labelled predictions, so scope them to a gold set with scope.segment (e.g. {gold: "yes"})
    severity: critical
    actions: [...]                    # as for rules (webhook, rollback, incident)

Burn rate = (bad / total in a window) / (1 - objective): 1 spends the budget exactly over the period.
The default alert tiers are the usual pairs for a 30-day period (1h & 5m at 14.4x, 6h & 30m at 6x,
1d & 2h at 3x, 3d & 6h at 1x), scaled in proportion for other periods; a tier fires when both its
long and its short window burn faster than its factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..store.queries import control as q
from .rules import _NAME, Rule, check_action, format_duration, parse_duration

SLI_TYPES = ("latency", "errors", "false_positive_rate", "accuracy")
MONTH = 30 * 86400.0
# (long window, short window, burn factor, severity) for a 30-day period
TIERS = ((3600.0, 300.0, 14.4, "critical"), (21600.0, 1800.0, 6.0, "critical"),
         (86400.0, 7200.0, 3.0, "warning"), (259200.0, 21600.0, 1.0, "warning"))


@dataclass
class SLO:
    name: str
    objective: float
    period_s: float
    sli: dict
    scope: dict = field(default_factory=dict)
    severity: str = "critical"
    actions: list = field(default_factory=list)
    description: str = ""

    @property
    def budget(self) -> float:
        return 1.0 - self.objective

    def tiers(self) -> list[tuple[float, float, float, str]]:
        k = self.period_s / MONTH
        return [(lw * k, sw * k, f, sev) for lw, sw, f, sev in TIERS]

    def as_rule(self) -> Rule:
        """The burn-rate alert as a rule on the ``slo:<name>`` signal: value >= 1 means a tier fires."""
        return Rule(name=f"slo:{self.name}", signal=f"slo:{self.name}", threshold=1.0, op=">=", scope=self.scope,
                    window_s=self.tiers()[0][0], severity=self.severity, actions=self.actions,
                    description=self.description or f"SLO {self.name} burning its error budget", kind="slo")

    def to_dict(self) -> dict:
        return {"name": self.name, "objective": self.objective, "period": format_duration(self.period_s),
                "sli": self.sli, "scope": self.scope, "severity": self.severity, "actions": self.actions,
                "description": self.description}


def parse_slo(spec: Any) -> SLO:
    if not isinstance(spec, dict):
        raise ConfigError(f"an SLO must be an object, got {type(spec).__name__}")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"SLO name {name!r} is invalid")
    where = f"SLO {name!r}"
    objective = spec.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, (int, float)) or not 0 < objective < 1:
        raise ConfigError(f"{where}: objective must be a number between 0 and 1 (e.g. 0.999), got {objective!r}")
    sli = spec.get("sli")
    if not isinstance(sli, dict) or sli.get("type") not in SLI_TYPES:
        raise ConfigError(f"{where}: sli.type must be one of {', '.join(SLI_TYPES)}")
    if sli["type"] == "latency":
        t = sli.get("threshold_ms")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0:
            raise ConfigError(f"{where}: a latency SLI needs threshold_ms > 0")
    scope = spec.get("scope") or ({"model": spec["model"]} if spec.get("model") else {})
    if not isinstance(scope, dict):
        raise ConfigError(f"{where}: scope must be an object")
    period = parse_duration(spec.get("period", "30d"), f"{where}: period")
    if period < 3600:
        raise ConfigError(f"{where}: period must be at least 1h")
    actions = spec.get("actions") or []
    if not isinstance(actions, list):
        raise ConfigError(f"{where}: actions must be a list")
    for i, action in enumerate(actions):
        check_action(action, f"{where}: actions[{i}]")
    severity = spec.get("severity", "critical")
    if severity not in ("info", "warning", "critical"):
        raise ConfigError(f"{where}: severity must be info, warning or critical")
    return SLO(name=name, objective=float(objective), period_s=period, sli=sli, scope=scope, severity=severity,
               actions=actions, description=str(spec.get("description", "")))


def events(slo: SLO, store, project: str, start_us: int, end_us: int) -> tuple[int, int]:
    """(good, total) events of the SLI in a window."""
    kind = slo.sli["type"]
    if kind in ("latency", "errors"):
        t = q.traffic(store, project, slo.scope, start_us, end_us,
                      latency_threshold_ms=slo.sli.get("threshold_ms") if kind == "latency" else None)
        if kind == "latency":
            return t["under"], t["timed"]
        return t["n"] - t["errors"], t["n"]
    c = q.confusion(store, project, slo.scope, start_us, end_us, str(slo.sli.get("positive", "1")))
    if kind == "false_positive_rate":
        return c["tn"], c["tn"] + c["fp"]
    return c["correct"], c["labelled"]


def burn_rate(slo: SLO, store, project: str, end_us: int, window_s: float) -> float | None:
    good, total = events(slo, store, project, int(end_us - window_s * 1e6), int(end_us))
    if not total:
        return None
    return ((total - good) / total) / slo.budget


def status(slo: SLO, store, project: str, now_us: int) -> dict:
    """Budget over the period and the burn rate of every alert window, for the API and /metrics."""
    good, total = events(slo, store, project, int(now_us - slo.period_s * 1e6), int(now_us))
    bad_share = ((total - good) / total) if total else 0.0
    windows: dict[str, float | None] = {}
    tiers = []
    score = None
    for long_s, short_s, factor, severity in slo.tiers():
        lb = windows.setdefault(format_duration(long_s), burn_rate(slo, store, project, now_us, long_s))
        sb = windows.setdefault(format_duration(short_s), burn_rate(slo, store, project, now_us, short_s))
        firing = lb is not None and sb is not None and lb >= factor and sb >= factor
        tiers.append({"long": format_duration(long_s), "short": format_duration(short_s), "factor": factor,
                      "severity": severity, "long_burn": lb, "short_burn": sb, "firing": firing})
        if lb is not None and sb is not None:
            tier_score = min(lb, sb) / factor
            score = tier_score if score is None else max(score, tier_score)
    return {"name": slo.name, "objective": slo.objective, "period": format_duration(slo.period_s),
            "sli": slo.sli, "good": good, "total": total,
            "sli_value": (good / total) if total else None,
            "error_budget_remaining": 1.0 - bad_share / slo.budget if total else 1.0,
            "burn_rates": windows, "tiers": tiers, "alert_score": score}
