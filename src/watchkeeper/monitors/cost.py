"""Cost reports: per model / release / cohort / day, cost per correct prediction, tiered setups.

Prices live in the metadata table ``meta_prices`` (one row per project and model: ``input_per_1k``,
``output_per_1k``, ``cached_per_1k``, ``compute_per_s``, ``currency``); how a prediction's cost is
derived from them is described in ``store/queries/cost.py``.
"""

from __future__ import annotations

from typing import Any

from ..ingest.timestamps import format_us, now_us
from ..store.queries import cost as q

PRICE_FIELDS = ("input_per_1k", "output_per_1k", "cached_per_1k", "compute_per_s")


def get_price(meta, project: str, model: str) -> dict | None:
    rows = meta.rows("SELECT model, input_per_1k, output_per_1k, cached_per_1k, compute_per_s, currency, updated_us "
                     "FROM meta_prices WHERE project = ? AND model = ?", [project, model])
    return rows[0] if rows else None


def list_prices(meta, project: str) -> list[dict]:
    return meta.rows("SELECT model, input_per_1k, output_per_1k, cached_per_1k, compute_per_s, currency, updated_us "
                     "FROM meta_prices WHERE project = ? ORDER BY model", [project])


def check_price(doc: Any) -> dict:
    """Validate a price document; raise ValueError naming the bad field."""
    if not isinstance(doc, dict):
        raise ValueError("body: a price is a JSON object")
    unknown = set(doc) - set(PRICE_FIELDS) - {"currency"}
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: unknown field; expected {', '.join(PRICE_FIELDS)}, currency")
    out: dict[str, Any] = {}
    for name in PRICE_FIELDS:
        value = doc.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
                                  or value != value or value == float("inf")):
            raise ValueError(f"{name}: must be a finite number >= 0")
        out[name] = None if value is None else float(value)
    if not any(out[n] is not None for n in PRICE_FIELDS):
        raise ValueError(f"body: give at least one of {', '.join(PRICE_FIELDS)}")
    currency = doc.get("currency", "USD")
    if not isinstance(currency, str) or not 1 <= len(currency) <= 8:
        raise ValueError("currency: must be a short code such as USD")
    out["currency"] = currency
    return out


def put_price(meta, project: str, model: str, price: dict) -> None:
    with meta.transaction() as tx:
        tx.execute("DELETE FROM meta_prices WHERE project = ? AND model = ?", [project, model])
        tx.execute("INSERT INTO meta_prices (project, model, input_per_1k, output_per_1k, cached_per_1k, compute_per_s, "
                   "currency, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [project, model, *(price[n] for n in PRICE_FIELDS), price["currency"], now_us()])


def _div(a, b):
    return (a / b) if (a is not None and b) else None


def _point(r: dict) -> dict:
    return {"group": r["grp"], "requests": int(r["n"]), "costed_requests": int(r["costed"] or 0),
            "total_cost": r["cost"], "cost_per_request": _div(r["cost"], r["costed"]),
            "p95_latency_ms": r["p95_latency_ms"], "labelled": int(r["labelled"] or 0), "correct": int(r["correct"] or 0),
            "cost_per_correct": _div(r["labelled_cost"], r["correct"])}


def cost_report(store, meta, project: str, model: str, *, since_us: int, until_us: int, bucket_s: int | None = 86400,
                by: str = "model_version") -> dict[str, Any]:
    price = get_price(meta, project, model)
    args = {"since_us": since_us, "until_us": until_us, "by": by, "price": price}
    summary = [_point(r) for r in q.cost_series(store, project, model, step_us=None, **args)]
    series = []
    if bucket_s:
        for r in q.cost_series(store, project, model, step_us=int(bucket_s) * 1_000_000, **args):
            series.append({"time": format_us(int(r["t_us"])), **_point(r)})
    return {"model": model, "since": format_us(since_us), "until": format_us(until_us), "group_by": by,
            "bucket_s": bucket_s, "price": price, "currency": (price or {}).get("currency", "USD"),
            "summary": summary, "series": series}


def tiered_report(store, meta, project: str, cheap: str, expensive: str, *, since_us: int, until_us: int,
                  by: str = "all") -> dict[str, Any]:
    rows = q.tiered(store, project, cheap, expensive, since_us=since_us, until_us=until_us, by=by,
                    cheap_price=get_price(meta, project, cheap), expensive_price=get_price(meta, project, expensive))
    groups = []
    for r in rows:
        n, lab = int(r["n"]), int(r["labelled"] or 0)
        cheap_acc, tiered_acc = _div(r["cheap_correct"], lab), _div(r["tiered_correct"], lab)
        cheap_cost, fallback_cost = r["cheap_cost"] or 0.0, r["fallback_cost"] or 0.0
        extra_correct = (r["tiered_correct"] or 0) - (r["cheap_correct"] or 0)
        groups.append({
            "group": r["grp"], "requests": n, "escalated": int(r["escalated"] or 0),
            "escalation_rate": _div(r["escalated"], n), "labelled": lab,
            "cheap_only": {"accuracy": cheap_acc, "cost_per_request": _div(cheap_cost, n), "total_cost": cheap_cost},
            "tiered": {"accuracy": tiered_acc, "cost_per_request": _div(cheap_cost + fallback_cost, n),
                       "total_cost": cheap_cost + fallback_cost},
            "on_escalated": {"labelled": int(r["escalated_labelled"] or 0),
                             "cheap_accuracy": _div(r["escalated_cheap_correct"], r["escalated_labelled"]),
                             "expensive_accuracy": _div(r["escalated_expensive_correct"], r["escalated_labelled"])},
            "quality_gained": (tiered_acc - cheap_acc) if tiered_acc is not None and cheap_acc is not None else None,
            "cost_added_per_request": _div(fallback_cost, n),
            "cost_per_extra_correct": (fallback_cost * lab / n / extra_correct) if extra_correct > 0 and n else None,
        })
    return {"cheap": cheap, "expensive": expensive, "since": format_us(since_us), "until": format_us(until_us),
            "group_by": by, "groups": groups}
