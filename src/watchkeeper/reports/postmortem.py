"""An incident as a Markdown postmortem: what happened, the evidence, and what the team will change.

Fields nobody filled in yet are printed as ``_to be written_`` so the gaps are visible in review.
"""

from __future__ import annotations

import json
from typing import Any

TODO = "_to be written_"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(incident: dict, samples: list[dict], max_samples: int = 10) -> str:
    doc = incident["doc"]
    cls = doc.get("classification") or {}
    out = [f"# Postmortem: {incident['title']}", "",
           "| | |", "|---|---|",
           f"| Incident | `{incident['id']}` |",
           f"| Status | {incident['status']} |",
           f"| Severity | {incident['severity']} |",
           f"| Opened | {incident['opened_at']} |",
           f"| Closed | {incident.get('closed_at') or 'open'} |",
           f"| Rule | {incident.get('rule') or '–'} |",
           f"| Model | {incident.get('model') or '–'} |",
           f"| Classification | **{cls.get('category', '–')}** |", ""]
    out += ["## Summary", ""]
    if doc.get("signal"):
        out.append(f"`{doc['signal']}` was {_fmt(doc.get('value'))} against a threshold of {_fmt(doc.get('threshold'))} "
                   f"over {doc['window']['start']} – {doc['window']['end']}.")
    out += ["", "## Customer impact", "", doc.get("customer_impact") or TODO, ""]
    out += ["## Classification", ""] + [f"- {r}" for r in cls.get("reasons", [])] + [""]
    out += ["## Frozen versions (releases in force when the incident opened)", ""]
    frozen = doc.get("frozen_versions") or []
    if frozen:
        out += ["| model | alias | release | model version | features | prompt | retrieval index | policy | tool schema | config |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for f in frozen:
            r = f["release"]
            out.append("| " + " | ".join(_fmt(x) for x in (
                f["model"], f["alias"], r.get("id"), r.get("model_version"), r.get("feature_set_version"),
                r.get("prompt_version"), r.get("retrieval_index_version"), r.get("policy_version"),
                r.get("tool_schema_version"), json.dumps(r.get("config") or {}, sort_keys=True))) + " |")
    else:
        out.append("No aliases were registered for this model.")
    out.append("")
    if doc.get("releases_changed"):
        out += ["Release changes shortly before:", ""]
        out += [f"- {c['at']}: {c['alias']} {c.get('from_release') or '∅'} → {c['to_release']} "
                f"({c['action']} by {c.get('actor') or '?'}: {c.get('reason') or 'no reason given'})"
                for c in doc["releases_changed"]] + [""]
    out += ["## Affected slices (window vs the window before)", ""]
    if doc.get("slices"):
        out += ["| slice | now | before | change |", "|---|---|---|---|"]
        rows = sorted(doc["slices"], key=lambda s: -(abs(s.get("delta") or 0)))
        out += [f"| {s['slice']} | {_fmt(s.get('value'))} | {_fmt(s.get('baseline'))} | {_fmt(s.get('delta'))} |" for s in rows]
    else:
        out.append("No slice breakdown.")
    out += ["", "## Mitigation: rollback taken", ""]
    rb = doc.get("rollback")
    if rb:
        out.append(f"Alias `{rb['alias']}` of `{rb['model']}` moved {rb['from_release']} → {rb['to_release']} "
                   f"({'automatically' if rb.get('automatic') else 'by hand'}, {rb.get('at', '')}); components reverted: "
                   f"{', '.join(rb.get('components_reverted') or []) or 'none'}.")
    else:
        out.append("No rollback recorded.")
    out += ["", "## Root cause", "", doc.get("root_cause") or TODO, "",
            "## Detection gap", "", doc.get("detection_gap") or TODO, "",
            "## Prevention", "", doc.get("prevention") or TODO, "",
            "## Regression eval or monitor added before re-release", "",
            _fmt(doc.get("regression_check")) if doc.get("regression_check") else TODO, ""]
    out += [f"## Preserved samples ({doc.get('samples_preserved', len(samples))} kept, first {min(max_samples, len(samples))} shown)", ""]
    if samples:
        out += ["| request id | time | release | output | label | score | error |", "|---|---|---|---|---|---|---|"]
        out += [f"| `{s['request_id']}` | {s.get('timestamp')} | {_fmt(s.get('release_id') or s.get('model_version'))} | "
                f"{_fmt(s.get('output'))} | {_fmt(s.get('label'))} | {_fmt(s.get('score'))} | {_fmt(s.get('error'))} |"
                for s in samples[:max_samples]]
    out += ["", "## Timeline", ""]
    for e in incident.get("timeline", []):
        body = e.get("body") or {}
        text = body.get("text") if isinstance(body, dict) and "text" in body else json.dumps(body, sort_keys=True)
        out.append(f"- {e['at']} **{e['kind']}** ({e.get('actor') or 'system'}): {text}")
    return "\n".join(out) + "\n"
