"""Incidents that already hold the evidence, following the usual runbook.

Opening an incident (by a rule's ``incident`` action, or by a person through the API):
1. freezes the releases in force (every alias of the model with its full release);
2. preserves samples: request ids and payloads of the window (errors and wrong answers first) are
   copied into ``incident_samples``, which event retention never touches;
3. classifies the failure (serving, retrieval, model behaviour, tool action, policy, data, product
   integration) from the signal and the evidence, with the reasons;
4. compares affected slices (segments, releases) with the window before;
and keeps a timeline of alerts, actions and notes. The rollback taken, the regression eval or
monitor linked before re-release, customer impact, detection gap and prevention are fields a person
(or an action) fills in; ``reports.postmortem`` renders it all as Markdown.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import ConfigError
from ..ingest.timestamps import format_us, now_us
from ..store.queries import control as q
from . import releases, signals
from .releases import NotFound

CATEGORIES = ("serving", "retrieval", "model behaviour", "tool action", "policy", "data", "product integration")
_BY_SIGNAL = {
    "latency_p50_ms": "serving", "latency_p95_ms": "serving", "latency_p99_ms": "serving", "error_rate": "serving",
    "throughput_rps": "product integration", "cost_per_request": "serving", "token_usage": "model behaviour",
    "false_positive_rate": "model behaviour", "precision": "model behaviour", "recall": "model behaviour",
    "accuracy": "model behaviour", "realised_quality": "model behaviour", "estimated_quality": "model behaviour",
    "drift_score": "data", "missing_rate": "data", "contract_violations": "data", "label_coverage": "product integration",
    "security_event_rate": "policy",
}
_ERROR_HINTS = (("retriev", "retrieval"), ("vector", "retrieval"), ("index", "retrieval"), ("tool", "tool action"),
                ("policy", "policy"), ("blocked", "policy"), ("feature", "data"), ("schema", "data"),
                ("timeout", "serving"), ("oom", "serving"), ("unavailable", "serving"))
EDITABLE = ("status", "title", "severity", "classification", "customer_impact", "detection_gap", "prevention",
            "root_cause", "regression_check", "rollback")
STATUSES = ("open", "mitigated", "resolved")
MAX_SAMPLES = 50


def classify(signal: str, samples: list[dict], release_changed: list[dict]) -> dict:
    """A failure category from the signal, the preserved samples' errors and recent release changes."""
    reasons = []
    base = signal.split(":", 1)[0]
    category = _BY_SIGNAL.get(signal) or ("serving" if base == "slo" else "model behaviour")
    reasons.append(f"signal {signal} is a {category} signal")
    errors = [s.get("error") or "" for s in samples if s.get("error")]
    if errors and category == "serving":
        hits: dict[str, int] = {}
        for e in errors:
            for needle, cat in _ERROR_HINTS:
                if needle in e.lower():
                    hits[cat] = hits.get(cat, 0) + 1
                    break
        if hits:
            top = max(hits, key=hits.get)
            if top != category and hits[top] * 2 > len(errors):
                reasons.append(f"{hits[top]} of {len(errors)} preserved errors point at {top}")
                category = top
    if release_changed:
        moved = ", ".join(f"{c['alias']} -> {c['to_release']}" for c in release_changed)
        reasons.append(f"a release changed shortly before: {moved}")
    return {"category": category, "reasons": reasons}


def slices(store, project: str, signal: str, scope: dict, start_us: int, end_us: int, params: dict,
           keys_from: list[dict], max_keys: int = 3, max_values: int = 8) -> list[dict]:
    """The signal per segment value and per release, in the window and in the window just before."""
    span = end_us - start_us
    found: dict[str, set] = {}
    for s in keys_from:
        seg = s.get("segment")
        seg = json.loads(seg) if isinstance(seg, str) else (seg or {})
        for k, v in seg.items():
            if v is not None and (k in found or len(found) < max_keys):
                found.setdefault(k, set()).add(str(v))
    out = []
    for key, values in found.items():
        for value in sorted(values)[:max_values]:
            sub = dict(scope, segment={**(scope.get("segment") or {}), key: value})
            out.append(_slice(store, project, signal, sub, start_us, end_us, span, params, f"{key}={value}"))
    for rid in sorted({s.get("release_id") for s in keys_from if s.get("release_id")}):
        out.append(_slice(store, project, signal, dict(scope, release=rid), start_us, end_us, span, params, f"release={rid}"))
    return out


def _slice(store, project, signal, scope, start_us, end_us, span, params, name) -> dict:
    try:
        now = signals.compute(signal, store, project, scope, start_us, end_us, params)
        before = signals.compute(signal, store, project, scope, start_us - span, start_us, params)
    except Exception as exc:  # a slice that cannot be computed is reported, not fatal
        return {"slice": name, "error": str(exc)}
    return {"slice": name, "value": now, "baseline": before,
            "delta": (now - before) if now is not None and before is not None else None}


def open_incident(meta, store, project: str, *, title: str, severity: str = "warning", rule: str | None = None,
                  signal: str | None = None, scope: dict | None = None, params: dict | None = None,
                  window_s: float = 900.0, value: float | None = None, threshold: float | None = None,
                  actor: str | None = None, now: int | None = None) -> dict:
    at = now or now_us()
    scope = dict(scope or {})
    model = scope.get("model")
    incident_id = "inc-" + uuid.uuid4().hex[:10]
    start = int(at - window_s * 1e6)
    frozen = releases.releases_in_force(meta, project, model)
    changed = [h | {"model": model} for h in (releases.history(meta, project, model, limit=20) if model else [])
               if h["at_us"] >= at - 2 * window_s * 1e6]
    rows = q.samples(store, project, scope, start, at, limit=MAX_SAMPLES, positive=(params or {}).get("positive"))
    _preserve(meta, incident_id, project, rows)
    doc: dict[str, Any] = {
        "signal": signal, "scope": scope, "params": params or {}, "value": value, "threshold": threshold,
        "window": {"start": format_us(start), "end": format_us(at), "seconds": window_s},
        "frozen_versions": frozen, "releases_changed": [{k: v for k, v in c.items() if k != "at_us"} for c in changed],
        "classification": classify(signal or "", rows, changed),
        "slices": slices(store, project, signal, scope, start, at, params or {}, rows) if signal and not signal.startswith("slo:") else [],
        "samples_preserved": len(rows), "rollback": None, "regression_check": None,
        "customer_impact": None, "detection_gap": None, "prevention": None, "root_cause": None,
    }
    meta.execute(
        "INSERT INTO meta_incidents (id, project, title, status, severity, rule, model, classification, doc, opened_us, closed_us) "
        "VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, NULL)",
        [incident_id, project, title, severity, rule, model, doc["classification"]["category"], json.dumps(doc), at])
    add_event(meta, incident_id, "opened", {"title": title, "rule": rule, "value": value,
                                           "samples_preserved": len(rows)}, actor, at)
    return get(meta, project, incident_id)


def _preserve(meta, incident_id: str, project: str, rows: list[dict]) -> None:
    if not rows:
        return
    with meta.transaction() as tx:
        for r in rows:
            output = r["output_label"] if r.get("output_label") not in (None, "") else (
                None if r.get("output_value") is None else repr(r["output_value"]))
            tx.execute(
                "INSERT INTO incident_samples (incident_id, project, request_id, model, model_version, release_id, ts_us, "
                "inputs, output, score, label, error, latency_ms, segment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [incident_id, project, r["request_id"], r["model"], r["model_version"], r["release_id"], r["ts_us"],
                 r["inputs"], output, r["score"], r["label"], r["error"], r["latency_ms"], r["segment"]])


def add_event(meta, incident_id: str, kind: str, body: dict | str, actor: str | None = None, now: int | None = None) -> None:
    at = now or now_us()
    with meta.transaction() as tx:
        seq = int(tx.rows("SELECT coalesce(max(seq), 0) AS s FROM meta_incident_events WHERE incident_id = ?",
                          [incident_id])[0]["s"]) + 1
        tx.execute("INSERT INTO meta_incident_events (incident_id, seq, kind, actor, body, at_us) VALUES (?, ?, ?, ?, ?, ?)",
                   [incident_id, seq, kind, actor, json.dumps(body), at])


def update(meta, project: str, incident_id: str, fields: dict, actor: str | None = None, now: int | None = None) -> dict:
    """Change editable fields (status, classification, customer impact, ...); each change joins the timeline."""
    if not isinstance(fields, dict):
        raise ConfigError("incident update must be an object")
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ConfigError(f"incident: cannot set {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    inc = get(meta, project, incident_id)
    at = now or now_us()
    doc = inc["doc"]
    status, title, severity, category = inc["status"], inc["title"], inc["severity"], doc["classification"]["category"]
    for key, value in fields.items():
        if key == "status":
            if value not in STATUSES:
                raise ConfigError(f"incident status must be one of {', '.join(STATUSES)}")
            status = value
        elif key == "title":
            title = str(value)
        elif key == "severity":
            severity = str(value)
        elif key == "classification":
            if value not in CATEGORIES:
                raise ConfigError(f"classification must be one of: {', '.join(CATEGORIES)}")
            doc["classification"] = {"category": value, "reasons": doc["classification"]["reasons"] + [f"set by {actor or 'a person'}"]}
            category = value
        else:
            doc[key] = value
    meta.execute("UPDATE meta_incidents SET status = ?, title = ?, severity = ?, classification = ?, doc = ?, closed_us = ? "
                 "WHERE project = ? AND id = ?",
                 [status, title, severity, category, json.dumps(doc), at if status == "resolved" else None, project, incident_id])
    add_event(meta, incident_id, "update", {"fields": sorted(fields)}, actor, at)
    return get(meta, project, incident_id)


def record_rollback(meta, project: str, incident_id: str, move: dict, now: int | None = None) -> None:
    """Note the rollback taken, with which release components it reverted (the narrowest change)."""
    inc = get(meta, project, incident_id)
    doc = inc["doc"]
    a = releases.get_release(meta, project, move["from_release"], missing_ok=True) or {}
    b = releases.get_release(meta, project, move["to_release"], missing_ok=True) or {}
    reverted = [c for c in ("model_version", *releases.COMPONENTS, "config") if a.get(c) != b.get(c)]
    doc["rollback"] = dict(move, components_reverted=reverted)
    meta.execute("UPDATE meta_incidents SET doc = ?, status = 'mitigated' WHERE project = ? AND id = ?",
                 [json.dumps(doc), project, incident_id])


def get(meta, project: str, incident_id: str) -> dict:
    rows = meta.rows("SELECT * FROM meta_incidents WHERE project = ? AND id = ?", [project, incident_id])
    if not rows:
        raise NotFound(f"no incident {incident_id!r} in project {project!r}")
    r = rows[0]
    events = meta.rows("SELECT * FROM meta_incident_events WHERE incident_id = ? ORDER BY at_us, seq", [incident_id])
    return {"id": r["id"], "title": r["title"], "status": r["status"], "severity": r["severity"], "rule": r["rule"],
            "model": r["model"], "classification": r["classification"], "opened_at": format_us(r["opened_us"]),
            "closed_at": format_us(r["closed_us"]) if r["closed_us"] else None, "doc": json.loads(r["doc"]),
            "timeline": [{"at": format_us(e["at_us"]), "kind": e["kind"], "actor": e["actor"],
                          "body": json.loads(e["body"]) if e["body"] else None} for e in events]}


def list_incidents(meta, project: str, status: str | None = None, limit: int = 100) -> list[dict]:
    sql = "SELECT id, title, status, severity, rule, model, classification, opened_us, closed_us FROM meta_incidents WHERE project = ?"
    params: list[Any] = [project]
    if status:
        sql += " AND status = ?"
        params.append(status)
    rows = meta.rows(sql + f" ORDER BY opened_us DESC LIMIT {int(limit)}", params)
    return [{"id": r["id"], "title": r["title"], "status": r["status"], "severity": r["severity"], "rule": r["rule"],
             "model": r["model"], "classification": r["classification"], "opened_at": format_us(r["opened_us"]),
             "closed_at": format_us(r["closed_us"]) if r["closed_us"] else None} for r in rows]


def samples(meta, project: str, incident_id: str) -> list[dict]:
    get(meta, project, incident_id)
    rows = meta.rows("SELECT * FROM incident_samples WHERE incident_id = ? AND project = ? ORDER BY ts_us DESC, request_id",
                     [incident_id, project])
    out = []
    for r in rows:
        item = {k: r[k] for k in ("request_id", "model", "model_version", "release_id", "output", "score", "label",
                                  "error", "latency_ms")}
        item["timestamp"] = format_us(r["ts_us"]) if r["ts_us"] is not None else None
        item["inputs"] = json.loads(r["inputs"]) if r["inputs"] else None
        item["segment"] = json.loads(r["segment"]) if r["segment"] else None
        out.append(item)
    return out


def open_for_rule(meta, project: str, rule: str) -> dict | None:
    rows = meta.rows("SELECT id FROM meta_incidents WHERE project = ? AND rule = ? AND status <> 'resolved' "
                     "ORDER BY opened_us DESC LIMIT 1", [project, rule])
    return get(meta, project, rows[0]["id"]) if rows else None
