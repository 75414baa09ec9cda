"""One evaluation pass: every rule and SLO of every project, with a clock you can pass in.

``evaluate(store, meta, now_us)`` computes each rule's value over its window (minus the baseline
window's value for relative rules), feeds it to ``rules.decide`` with the persisted state, stores
the new state, and runs the actions of a transition (firing, resolved, repeat). The scheduler calls
it every ``monitor_interval`` seconds; tests call it with a simulated clock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..ingest.timestamps import now_us as _now_us
from . import actions, catalog, signals, slo as slo_mod
from .rules import Rule, decide

log = logging.getLogger("watchkeeper.control")
_lock = threading.Lock()


def rule_value(store, meta, project: str, rule: Rule, now_us: int, slos: dict | None = None) -> float | None:
    if rule.signal.startswith("slo:"):
        target = (slos or {}).get(rule.signal[4:])
        if target is None:
            return None
        return slo_mod.status(target, store, project, now_us)["alert_score"]
    start = int(now_us - rule.window_s * 1e6)
    value = signals.compute(rule.signal, store, project, rule.scope, start, now_us, rule.params)
    if not rule.relative or value is None:
        return value
    shift = int(rule.baseline_s * 1e6)
    base = signals.compute(rule.signal, store, project, rule.scope, start - shift, now_us - shift, rule.params)
    return None if base is None else value - base


def evaluate(store, meta, now_us: int | None = None, project: str | None = None) -> list[dict[str, Any]]:
    """Evaluate every rule and SLO (of ``project``, or of every project); return one result per rule."""
    now = int(now_us if now_us is not None else _now_us())
    results = []
    with _lock:
        for proj in ([project] if project else catalog.projects_with_rules(meta)):
            slos = {s.name: s for s in catalog.slos(meta, proj)}
            for rule in catalog.rules(meta, proj) + [s.as_rule() for s in slos.values()]:
                try:
                    results.append(_evaluate_rule(store, meta, proj, rule, now, slos))
                except Exception as exc:  # one broken rule must not stop the others
                    log.exception("rule %s of project %s failed", rule.name, proj)
                    results.append({"project": proj, "rule": rule.name, "error": f"{type(exc).__name__}: {exc}"})
    return results


def _evaluate_rule(store, meta, project: str, rule: Rule, now: int, slos: dict) -> dict:
    value = rule_value(store, meta, project, rule, now, slos)
    state = catalog.get_state(meta, project, rule.name) or {}
    decision = decide(rule, state, value, now / 1e6)
    new = decision.state
    new["alert_id"] = state.get("alert_id")
    new["severity"] = rule.severity
    new["signal"] = rule.signal
    taken: list[dict] = []
    if decision.transition == "firing":
        summary = _summary(rule, value)
        alert_id = catalog.open_alert(meta, project, rule, value, now, summary)
        new["alert_id"] = alert_id
        alert = {"id": alert_id, "summary": summary, "started_at": None}
        taken = actions.on_firing(meta, store, project, rule, value, alert, now)
        if alert.get("incident_id"):
            catalog.link_incident(meta, alert_id, alert["incident_id"])
            new["incident_id"] = alert["incident_id"]
    elif decision.transition == "resolved":
        alert = {"id": new.get("alert_id"), "summary": _summary(rule, value), "incident_id": state.get("incident_id")}
        if alert["id"]:
            catalog.resolve_alert(meta, alert["id"], value, now)
        taken = actions.on_resolved(meta, project, rule, value, alert, now, decision.notify == "resolved")
        new["alert_id"] = None
        new["incident_id"] = None
    elif decision.notify == "repeat":
        alert = {"id": new.get("alert_id"), "summary": _summary(rule, value), "incident_id": state.get("incident_id")}
        taken = actions.on_repeat(meta, project, rule, value, alert, now)
    if decision.transition != "firing" and state.get("incident_id") and decision.transition != "resolved":
        new["incident_id"] = state.get("incident_id")
    catalog.put_state(meta, project, rule.name, new, now)
    return {"project": project, "rule": rule.name, "value": value, "status": decision.status,
            "transition": decision.transition, "actions": taken}


def _summary(rule: Rule, value: float | None) -> str:
    v = "no data" if value is None else f"{value:.4g}"
    what = f"{rule.signal} change vs {rule.baseline_s / 86400:g}d ago" if rule.relative else rule.signal
    scope = ", ".join(f"{k}={v}" for k, v in rule.scope.items()) or "all traffic"
    return f"{what} = {v} ({rule.op} {rule.threshold:g}) on {scope}"


def _job(store, meta) -> None:
    evaluate(store, meta)


def _register() -> None:
    from ..settings import resolve
    from .scheduler import register_job

    interval = float(resolve("monitor_interval") or 0)
    register_job("control.evaluate", interval if interval > 0 else 30.0, _job)


_register()
