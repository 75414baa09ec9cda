"""Canary and shadow: compare two releases on the same window and recommend promote or abort.

Each release's traffic is selected by the ``release_id`` its predictions carry. Every signal is
computed for both; a *guard* says how much worse the candidate may be (absolute points for rates,
a ratio for latency and cost). Shadow disagreement pairs the two releases' predictions on identical
inputs (same ``request_id``, or the same input payload) and counts differing outputs.

The verdict is ``promote`` (every guard holds), ``abort`` (one fails; the evidence says which), or
``inconclusive`` (too little candidate traffic or labels to judge). ``pass`` is true only for promote,
which is what Argo Rollouts' web metric provider checks (``successCondition: result.pass == true``).
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..store.queries import control as q
from . import signals

# signal -> (kind, default allowance): "abs_up" rate may rise by at most x; "abs_down" may fall by x;
# "ratio_up" may grow by at most a factor of (1 + x).
GUARDS: dict[str, tuple[str, float]] = {
    "error_rate": ("abs_up", 0.01),
    "latency_p95_ms": ("ratio_up", 0.2),
    "false_positive_rate": ("abs_up", 0.01),
    "accuracy": ("abs_down", 0.01),
    "cost_per_request": ("ratio_up", 0.2),
    "drift_score": ("abs_up", 0.1),
}
MIN_REQUESTS = 50
MIN_LABELS = 30


def compare(store, project: str, baseline: str, candidate: str, start_us: int, end_us: int, *,
            model: str | None = None, tolerances: dict[str, float] | None = None, shadow_join: str | None = None,
            max_disagreement: float = 0.1, min_requests: int = MIN_REQUESTS, params: dict | None = None) -> dict[str, Any]:
    """Compare ``candidate`` with ``baseline`` (release ids) over ``[start_us, end_us)``."""
    tolerances = tolerances or {}
    unknown = set(tolerances) - set(GUARDS)
    if unknown:
        raise ConfigError(f"unknown tolerance(s) {', '.join(sorted(unknown))}; known: {', '.join(GUARDS)}")
    base_scope = {"release": baseline, **({"model": model} if model else {})}
    cand_scope = {"release": candidate, **({"model": model} if model else {})}
    t_base = q.traffic(store, project, base_scope, start_us, end_us)
    t_cand = q.traffic(store, project, cand_scope, start_us, end_us)
    evidence = []
    failed, inconclusive = [], []
    available = signals.names()
    for name, (kind, default) in GUARDS.items():
        if name not in available:
            continue
        allow = float(tolerances.get(name, default))
        b = signals.compute(name, store, project, base_scope, start_us, end_us, params)
        c = signals.compute(name, store, project, cand_scope, start_us, end_us, params)
        item = {"signal": name, "baseline": b, "candidate": c, "guard": kind, "allowance": allow}
        if b is None or c is None:
            item["result"] = "no data"
        else:
            if kind == "abs_up":
                ok = c - b <= allow
            elif kind == "abs_down":
                ok = b - c <= allow
            else:
                ok = c <= b * (1 + allow) or c - b < 1e-9
            item["delta"] = c - b
            item["result"] = "ok" if ok else "worse"
            if not ok:
                failed.append(name)
        evidence.append(item)
    labelled = q.confusion(store, project, cand_scope, start_us, end_us)["labelled"]
    shadow = None
    if shadow_join:
        shadow = q.shadow_disagreement(store, project, base_scope, cand_scope, start_us, end_us, shadow_join)
        shadow["max"] = max_disagreement
        if shadow["rate"] is not None and shadow["rate"] > max_disagreement:
            failed.append("shadow_disagreement")
    if t_cand["n"] < min_requests:
        inconclusive.append(f"candidate served {t_cand['n']} requests in the window, fewer than {min_requests}")
    quality_guards = [e for e in evidence if e["signal"] in ("false_positive_rate", "accuracy")]
    if quality_guards and labelled < MIN_LABELS:
        inconclusive.append(f"candidate has {labelled} labelled predictions, fewer than {MIN_LABELS}")
    if failed:
        verdict = "abort"
    elif inconclusive:
        verdict = "inconclusive"
    else:
        verdict = "promote"
    return {"baseline": baseline, "candidate": candidate, "verdict": verdict, "pass": verdict == "promote",
            "failed": failed, "reasons": inconclusive, "requests": {"baseline": t_base["n"], "candidate": t_cand["n"]},
            "labelled": {"candidate": labelled}, "evidence": evidence, "shadow": shadow}
