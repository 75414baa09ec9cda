"""Product feedback rates per model / release / cohort, next to realised quality.

``feedback_report`` returns, per group, the predictions served and for each feedback kind
(``thumbs``, ``edit``, ``escalation``, ``ticket`` or any other) the events, the share of predictions
that got one (``rate``) and, for thumbs, ``up``/``down`` and ``thumbs_up_share`` = up / (up + down).
The group's realised accuracy/F1 (or MAE, NDCG) and label coverage from ``monitors/quality.py``
sit beside them under ``quality``.
"""

from __future__ import annotations

from typing import Any

from ..ingest.timestamps import format_us
from ..store.queries.feedback import feedback_rates
from .quality import model_quality


def feedback_report(store, project: str, model: str, *, since_us: int, until_us: int,
                    by: str = "model_version", min_samples: int = 30) -> dict[str, Any]:
    groups: dict[str, dict] = {}
    for r in feedback_rates(store, project, model, since_us=since_us, until_us=until_us, by=by):
        g = groups.setdefault(r["grp"], {"group": r["grp"], "predictions": int(r["predictions"]), "feedback": {}})
        if r["kind"] is None:
            continue
        n = g["predictions"]
        up, down = int(r["up"] or 0), int(r["down"] or 0)
        entry = {"events": int(r["events"]), "requests_with": int(r["requests_with"]),
                 "rate": int(r["requests_with"]) / n if n else None}
        if up or down:
            entry.update(up=up, down=down, thumbs_up_share=up / (up + down))
        g["feedback"][r["kind"]] = entry
    quality = model_quality(store, project, model, since_us=since_us, until_us=until_us, bucket_s=None, by=by,
                            min_samples=min_samples)
    for point in quality["summary"]:
        g = groups.get(point["group"])
        if g is not None:
            g["quality"] = {name: m["value"] for name, m in point["metrics"].items()}
    return {"model": model, "since": format_us(since_us), "until": format_us(until_us), "group_by": by,
            "task": quality["task"], "groups": list(groups.values())}
