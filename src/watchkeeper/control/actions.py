"""What a rule does when it fires or resolves: webhooks, automatic rollback, incidents.

* ``webhook``: POST a JSON document (``format: json``) or a Slack-compatible ``{"text": ...}``
  (``format: slack``) on firing, and on resolve when the rule says ``notify_resolve``.
* ``rollback``: move an alias (default ``production``) of the rule's model back to its previous
  release, on firing only. Guarded: never within ``cooldown`` (default 1h) of the last automatic
  rollback of that alias, and never twice in a row (if the alias already sits on a release an
  automatic rollback chose, a person decides the next step), so it cannot flap.
* ``incident``: open an incident with the evidence (see incidents.py), or reuse the rule's open one.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from ..errors import ConflictError
from ..ingest.timestamps import format_us
from . import incidents, releases
from .rules import Rule, parse_duration

log = logging.getLogger("watchkeeper.control")
WEBHOOK_TIMEOUT_S = 5.0


def payload(event: str, project: str, rule: Rule, value: float | None, alert: dict, now_us: int) -> dict:
    return {"event": event, "status": "resolved" if event == "resolved" else "firing", "project": project,
            "rule": rule.name, "signal": rule.signal, "severity": rule.severity, "scope": rule.scope,
            "value": value, "op": rule.op, "threshold": rule.threshold, "relative": rule.relative,
            "alert_id": alert.get("id"), "incident_id": alert.get("incident_id"), "summary": alert.get("summary"),
            "started_at": alert.get("started_at"), "at": format_us(now_us), "actions": alert.get("actions", [])}


def slack_text(doc: dict) -> dict:
    icon = ":white_check_mark:" if doc["status"] == "resolved" else (":rotating_light:" if doc["severity"] == "critical" else ":warning:")
    scope = ", ".join(f"{k}={v}" for k, v in doc["scope"].items()) or "all traffic"
    value = "n/a" if doc["value"] is None else f"{doc['value']:.4g}"
    lines = [f"{icon} *{doc['status'].upper()}* `{doc['rule']}` ({doc['severity']}) on {scope}",
             f"{doc['signal']} = {value} (threshold {doc['op']} {doc['threshold']:g}{' vs baseline' if doc['relative'] else ''})"]
    if doc.get("incident_id"):
        lines.append(f"incident: {doc['incident_id']}")
    for action in doc.get("actions") or []:
        lines.append(f"action: {action}")
    return {"text": "\n".join(lines)}


def send_webhook(action: dict, doc: dict) -> dict:
    """POST ``doc`` (or its Slack rendering); return {ok, status | error}. Never raises."""
    body = slack_text(doc) if action.get("format") == "slack" else doc
    headers = {"Content-Type": "application/json", "User-Agent": "watchkeeper-alerts"}
    headers.update({str(k): str(v) for k, v in (action.get("headers") or {}).items()})
    req = urllib.request.Request(action["url"], data=json.dumps(body).encode(), headers=headers, method="POST")
    for attempt in range(2):
        try:
            with urllib.request.urlopen(req, timeout=float(action.get("timeout", WEBHOOK_TIMEOUT_S))) as resp:
                resp.read()
                return {"type": "webhook", "url": action["url"], "ok": True, "status": resp.status}
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt:
                return {"type": "webhook", "url": action["url"], "ok": False, "status": exc.code}
        except (OSError, ValueError) as exc:
            if attempt:
                return {"type": "webhook", "url": action["url"], "ok": False, "error": str(exc)[:200]}
    return {"type": "webhook", "url": action["url"], "ok": False}  # pragma: no cover


def auto_rollback(meta, project: str, rule: Rule, action: dict, now_us: int) -> dict:
    """Roll the alias back if the guards allow it; return what happened (never raises)."""
    model = action.get("model") or rule.scope.get("model")
    alias = action.get("alias", "production")
    out: dict[str, Any] = {"type": "rollback", "model": model, "alias": alias, "done": False}
    if not model:
        out["skipped"] = "the rule has no model in its scope and the action names none"
        return out
    cooldown_us = parse_duration(action.get("cooldown", "1h"), "cooldown") * 1e6
    hist = releases.history(meta, project, model, alias, limit=20)
    if hist and hist[0]["action"] == "auto_rollback":
        out["skipped"] = (f"alias already on {hist[0]['to_release']}, chosen by an automatic rollback at "
                          f"{hist[0]['at']}; a person decides the next step")
        return out
    last_auto = next((h for h in hist if h["action"] == "auto_rollback"), None)
    if last_auto is not None and now_us - last_auto["at_us"] < cooldown_us:
        out["skipped"] = f"cool-down: the last automatic rollback of this alias was at {last_auto['at']}"
        return out
    try:
        move = releases.rollback(meta, project, model, alias, actor=f"rule:{rule.name}",
                                 reason=f"{rule.signal} {rule.op} {rule.threshold:g} (rule {rule.name})",
                                 now=now_us, automatic=True)
    except ConflictError as exc:
        out["skipped"] = str(exc)
        return out
    out.update(done=True, from_release=move["from_release"], to_release=move["to_release"])
    return out


def on_firing(meta, store, project: str, rule: Rule, value: float | None, alert: dict, now_us: int) -> list[dict]:
    """Run a rule's actions for a new firing episode: incident first, then rollback, then webhooks."""
    taken: list[dict] = []
    kinds = {a["type"] for a in rule.actions}
    if "incident" in kinds or "rollback" in kinds:
        inc = incidents.open_for_rule(meta, project, rule.name)
        if inc is None:
            inc = incidents.open_incident(
                meta, store, project, title=f"{rule.name}: {rule.signal} {rule.op} {rule.threshold:g}",
                severity=rule.severity, rule=rule.name, signal=rule.signal, scope=rule.scope, params=rule.params,
                window_s=rule.window_s, value=value, threshold=rule.threshold, actor=f"rule:{rule.name}", now=now_us)
        alert["incident_id"] = inc["id"]
        incidents.add_event(meta, inc["id"], "alert", {"alert_id": alert["id"], "rule": rule.name, "status": "firing",
                                                     "value": value}, f"rule:{rule.name}", now_us)
        taken.append({"type": "incident", "id": inc["id"]})
    for action in rule.actions:
        if action["type"] != "rollback":
            continue
        result = auto_rollback(meta, project, rule, action, now_us)
        taken.append(result)
        if alert.get("incident_id"):
            incidents.add_event(meta, alert["incident_id"], "action", result, f"rule:{rule.name}", now_us)
            if result["done"]:
                incidents.record_rollback(meta, project, alert["incident_id"], {
                    "model": result["model"], "alias": result["alias"], "from_release": result["from_release"],
                    "to_release": result["to_release"], "automatic": True, "at": format_us(now_us)}, now_us)
    alert["actions"] = [_describe(t) for t in taken]
    taken.extend(_webhooks(meta, project, rule, "firing", value, alert, now_us))
    return taken


def on_resolved(meta, project: str, rule: Rule, value: float | None, alert: dict, now_us: int, notify: bool) -> list[dict]:
    taken: list[dict] = []
    if alert.get("incident_id"):
        incidents.add_event(meta, alert["incident_id"], "alert", {"alert_id": alert["id"], "rule": rule.name,
                                                                 "status": "resolved", "value": value},
                            f"rule:{rule.name}", now_us)
    if notify:
        taken.extend(_webhooks(meta, project, rule, "resolved", value, alert, now_us))
    return taken


def on_repeat(meta, project: str, rule: Rule, value: float | None, alert: dict, now_us: int) -> list[dict]:
    return _webhooks(meta, project, rule, "repeat", value, alert, now_us)


def _webhooks(meta, project, rule, event, value, alert, now_us) -> list[dict]:
    out = []
    doc = payload(event, project, rule, value, alert, now_us)
    for action in rule.actions:
        if action["type"] == "webhook":
            result = send_webhook(action, doc)
            result["event"] = event
            if not result["ok"]:
                log.warning("webhook %s for rule %s failed: %s", action["url"], rule.name, result)
            if alert.get("incident_id"):
                incidents.add_event(meta, alert["incident_id"], "action", result, f"rule:{rule.name}", now_us)
            out.append(result)
    return out


def _describe(t: dict) -> str:
    if t["type"] == "incident":
        return f"incident {t['id']} opened"
    if t["type"] == "rollback":
        if t["done"]:
            return f"rolled back {t['model']}/{t['alias']}: {t['from_release']} -> {t['to_release']}"
        return f"rollback of {t['model']}/{t['alias']} skipped: {t.get('skipped')}"
    return str(t)
