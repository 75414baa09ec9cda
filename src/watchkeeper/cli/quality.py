"""``watchkeeper quality MODEL``: realised and CBPE-estimated quality from a running server.

``--format json`` prints the document of ``GET /api/v1/models/{model}/quality`` unchanged (see
``monitors/quality.py``): ``summary`` and ``series`` points whose ``metrics`` map metric names
(``accuracy precision recall f1 roc_auc false_positive_rate calibration_error brier label_coverage``,
``mae rmse mape``, ``ndcg_at_k mrr``) to ``{"value", "lower", "upper", "n"[, "reason"]}``, plus
``estimated`` and ``estimation_error`` for binary classifiers.

Exit codes: 0 on success; 1 when the server answers with an error; 2 for usage errors.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from .client import ServerFailure, call
from .options import api_key_option, endpoint_option, format_option


ApiFailure = ServerFailure


def api_request(endpoint: str, path: str, api_key: str | None, *, params: dict | None = None,
                body: Any = None, timeout: float = 60.0) -> Any:
    """GET (or POST ``body`` as JSON) ``path`` on the server; raise ApiFailure with a one-line reason."""
    return call(endpoint, path, api_key, params=params, body=body, timeout=timeout)


def _fmt(m: dict) -> str:
    if m.get("value") is None:
        return f"n/a ({m.get('reason', 'no data')})"
    if m.get("lower") is None:
        return f"{m['value']:.4f}"
    return f"{m['value']:.4f} [{m['lower']:.4f}, {m['upper']:.4f}] n={m.get('n')}"


def render_text(doc: dict) -> str:
    lines = [f"{doc['model']} ({doc['task']}) {doc['since']} .. {doc['until']}, by {doc['group_by']}"]
    for point in doc["summary"]:
        lines.append(f"\n[{point['group'] or '-'}] predictions={point['predictions']} labelled={point['labelled']}")
        for name, m in point["metrics"].items():
            est = (point.get("estimated") or {}).get(name)
            extra = f"   estimated {_fmt(est)}" if est else ""
            lines.append(f"  {name:<20} {_fmt(m)}{extra}")
    errors = doc.get("estimation_error") or {}
    if errors:
        lines.append("\nCBPE error against realised values (per bucket):")
        for name, e in errors.items():
            lines.append(f"  {name:<20} mean |error| {e['mean_absolute_error']:.4f}, "
                         f"interval coverage {e['coverage']:.0%} over {e['buckets']} buckets")
    return "\n".join(lines)


@click.command("quality")
@click.argument("model")
@click.option("--since", default=None, help="Start: ISO 8601, epoch seconds or a duration ago (7d). Default 24h ago.")
@click.option("--until", default=None, help="End (default now).")
@click.option("--segment", default=None, help="Group by this segment key (cohort), e.g. region.")
@click.option("--by", default=None, help="Group by model_version (default), release, model or all.")
@click.option("--bucket", default=None, type=int, help="Series bucket in seconds (default 3600; 0 = summary only).")
@click.option("--positive", default=None, help="Positive class (default 1).")
@click.option("--min-samples", default=None, type=int, help="Minimum sample for a metric (default 30).")
@format_option
@endpoint_option
@api_key_option
def quality(model, since, until, segment, by, bucket, positive, min_samples, fmt, endpoint, api_key) -> None:
    """Realised (and estimated) quality of MODEL from a running server."""
    params = {"since": since, "until": until, "segment": segment, "by": by, "bucket": bucket,
              "positive": positive, "min_samples": min_samples}
    doc = api_request(endpoint, f"/api/v1/models/{urllib.parse.quote(model, safe='')}/quality", api_key,
                      params=params)
    if fmt == "json":
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        click.echo(render_text(doc))
