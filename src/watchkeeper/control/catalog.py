"""Alert rules, SLOs, rule state and alerts in the metadata store.

Rules and SLOs are stored as their JSON documents (``kind`` = ``rule`` or ``slo``) and validated on
the way in and on the way out. ``load_file`` reads a YAML/JSON file with ``rules:`` and ``slos:``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..ingest.timestamps import format_us, now_us
from .releases import NotFound
from .rules import Rule, parse_rule
from .slo import SLO, parse_slo


def save(meta, project: str, kind: str, spec: dict, actor: str | None = None, now: int | None = None) -> dict:
    """Validate and upsert a rule (kind ``rule``) or an SLO (kind ``slo``); return its normalised form."""
    obj = parse_rule(spec) if kind == "rule" else parse_slo(spec)
    doc = json.dumps(obj.to_dict(), sort_keys=True)
    at = now or now_us()
    with meta.transaction() as tx:
        tx.execute("DELETE FROM meta_rules WHERE project = ? AND kind = ? AND name = ?", [project, kind, obj.name])
        tx.execute("INSERT INTO meta_rules (project, name, kind, spec, updated_by, updated_us) VALUES (?, ?, ?, ?, ?, ?)",
                   [project, obj.name, kind, doc, actor, at])
    return obj.to_dict()


def delete(meta, project: str, kind: str, name: str) -> None:
    if not meta.rows("SELECT name FROM meta_rules WHERE project = ? AND kind = ? AND name = ?", [project, kind, name]):
        raise NotFound(f"no {kind} {name!r} in project {project!r}")
    rule_key = name if kind == "rule" else f"slo:{name}"
    with meta.transaction() as tx:
        tx.execute("DELETE FROM meta_rules WHERE project = ? AND kind = ? AND name = ?", [project, kind, name])
        tx.execute("DELETE FROM meta_rule_state WHERE project = ? AND rule = ?", [project, rule_key])


def rules(meta, project: str) -> list[Rule]:
    return [parse_rule(json.loads(r["spec"])) for r in
            meta.rows("SELECT spec FROM meta_rules WHERE project = ? AND kind = 'rule' ORDER BY name", [project])]


def slos(meta, project: str) -> list[SLO]:
    return [parse_slo(json.loads(r["spec"])) for r in
            meta.rows("SELECT spec FROM meta_rules WHERE project = ? AND kind = 'slo' ORDER BY name", [project])]


def projects_with_rules(meta) -> list[str]:
    return [r["project"] for r in meta.rows("SELECT DISTINCT project FROM meta_rules ORDER BY project")]


def load_file(path: str | Path) -> dict[str, list[dict]]:
    """Read ``rules:`` and ``slos:`` from a YAML or JSON file (validated)."""
    text = Path(path).read_text()
    if str(path).endswith(".json"):
        doc = json.loads(text)
    else:
        import yaml

        doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or not set(doc) <= {"rules", "slos"}:
        raise ConfigError(f"{path}: expected a document with 'rules:' and/or 'slos:' lists")
    out = {"rules": list(doc.get("rules") or []), "slos": list(doc.get("slos") or [])}
    for spec in out["rules"]:
        parse_rule(spec)
    for spec in out["slos"]:
        parse_slo(spec)
    return out


# -- rule state ------------------------------------------------------------------------------------

def get_state(meta, project: str, rule: str) -> dict | None:
    rows = meta.rows("SELECT state FROM meta_rule_state WHERE project = ? AND rule = ?", [project, rule])
    return json.loads(rows[0]["state"]) if rows else None


def put_state(meta, project: str, rule: str, state: dict, now: int) -> None:
    with meta.transaction() as tx:
        tx.execute("DELETE FROM meta_rule_state WHERE project = ? AND rule = ?", [project, rule])
        tx.execute("INSERT INTO meta_rule_state (project, rule, state, updated_us) VALUES (?, ?, ?, ?)",
                   [project, rule, json.dumps(state), now])


def states(meta, project: str | None = None) -> dict[tuple[str, str], dict]:
    sql = "SELECT project, rule, state FROM meta_rule_state" + (" WHERE project = ?" if project else "")
    return {(r["project"], r["rule"]): json.loads(r["state"]) for r in meta.rows(sql, [project] if project else [])}


# -- alerts ----------------------------------------------------------------------------------------

def open_alert(meta, project: str, rule: Rule, value: float, now: int, summary: str) -> str:
    alert_id = uuid.uuid4().hex[:16]
    meta.execute(
        "INSERT INTO meta_alerts (id, project, rule, status, severity, summary, value, threshold, scope, incident_id, "
        "started_us, resolved_us) VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?, NULL, ?, NULL)",
        [alert_id, project, rule.name, rule.severity, summary, value, rule.threshold, json.dumps(rule.scope), now])
    return alert_id


def resolve_alert(meta, alert_id: str, value: float | None, now: int) -> None:
    meta.execute("UPDATE meta_alerts SET status = 'resolved', resolved_us = ?, value = ? WHERE id = ?", [now, value, alert_id])


def link_incident(meta, alert_id: str, incident_id: str) -> None:
    meta.execute("UPDATE meta_alerts SET incident_id = ? WHERE id = ?", [incident_id, alert_id])


def alerts(meta, project: str, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    sql = "SELECT * FROM meta_alerts WHERE project = ?"
    params: list[Any] = [project]
    if status:
        sql += " AND status = ?"
        params.append(status)
    rows = meta.rows(sql + f" ORDER BY started_us DESC LIMIT {int(limit)}", params)
    return [{"id": r["id"], "rule": r["rule"], "status": r["status"], "severity": r["severity"], "summary": r["summary"],
             "value": r["value"], "threshold": r["threshold"], "scope": json.loads(r["scope"] or "{}"),
             "incident_id": r["incident_id"], "started_at": format_us(r["started_us"]),
             "resolved_at": format_us(r["resolved_us"]) if r["resolved_us"] else None} for r in rows]
