"""``watchkeeper reference``: reference profiles of a model, and the training-serving parity check.

    watchkeeper reference set MODEL --data train.parquet [--release R] [--label-column C] [--score-column C]
    watchkeeper reference set MODEL --since 2024-05-01 --until 2024-05-08     # from logged traffic, by SQL
    watchkeeper reference show MODEL [--release R] [--format json]
    watchkeeper reference parity MODEL --data offline.parquet [--atol X] [--rtol X] [--format json]

``set`` profiles the file here (nothing but the profile, a few hundred KB, travels) and uploads it
with ``PUT /api/v1/models/{model}/reference``. ``parity`` sends the offline rows (``request_id`` plus
features recomputed offline) to ``POST /api/v1/models/{model}/parity`` and exits 1 when any feature
disagrees. Errors are one line on stderr (exit 1; 2 for usage errors).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from . import client
from .client import ServerFailure
from .options import api_key_option, endpoint_option, format_option


CliFailure = ServerFailure


def call(endpoint: str, method: str, path: str, api_key: str | None, *, params: dict | None = None,
         body: Any = None, timeout: float = 120.0) -> Any:
    return client.call(endpoint, path, api_key, method=method, params=params, body=body, timeout=timeout)


@click.group()
def reference() -> None:
    """Reference profiles per model release (what online drift compares with), and parity checks."""


@reference.command("set")
@click.argument("model")
@click.option("--data", "data", type=click.Path(dir_okay=False), default=None,
              help="Training data (Parquet, CSV or Feather) to profile.")
@click.option("--since", default=None, help="Instead of --data: profile logged predictions from this time (ISO, epoch, 7d).")
@click.option("--until", default=None, help="End of the logged window (default now).")
@click.option("--release", default=None, help="Release (or model version) this reference belongs to; default: the model's.")
@click.option("--columns", default=None, help="Comma-separated feature columns (default: every column).")
@click.option("--label-column", default=None, help="Column with the predicted class, profiled as the output mix.")
@click.option("--score-column", default=None, help="Column with the score/confidence, profiled as the score distribution.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write the profile JSON here.")
@endpoint_option
@api_key_option
def set_(model, data, since, until, release, columns, label_column, score_column, out, endpoint, api_key):
    """Profile training data (or a past window) and store it as MODEL's reference."""
    from ..errors import WatchkeeperError

    if (data is None) == (since is None):
        raise click.UsageError("give either --data FILE or --since TIME (a window of logged predictions)")
    if since is not None:
        doc = call(endpoint, "POST", f"/api/v1/models/{urllib.parse.quote(model, safe='')}/reference/from-window",
                   api_key, params={"since": since, "until": until, "release": release}, body=b"")
        click.echo(f"reference for {model}{' release ' + release if release else ''} set from {doc['rows']} logged predictions "
                   f"({len(doc['summary']['features'])} features)")
        return
    from ..monitors.references import profile_dataset

    try:
        profile = profile_dataset(data, label_column=label_column, score_column=score_column,
                                  columns=[c.strip() for c in columns.split(",")] if columns else None, source=str(data))
    except (WatchkeeperError, ValueError) as exc:
        raise CliFailure(str(exc)) from None
    payload = json.dumps(profile.to_dict(), separators=(",", ":")).encode()
    if out:
        with open(out, "wb") as fh:
            fh.write(payload)
    doc = call(endpoint, "PUT", f"/api/v1/models/{urllib.parse.quote(model, safe='')}/reference", api_key,
               params={"release": release}, body=payload)
    s = doc["summary"]
    click.echo(f"reference for {model}{' release ' + release if release else ''}: {s['rows']} rows, "
               f"{len(s['features'])} features, outputs {s['outputs'] or '-'}, embeddings {s['embeddings'] or '-'}, "
               f"texts {s['texts'] or '-'} ({doc['bytes']} bytes)")
    for name, why in (s.get("skipped") or {}).items():
        click.echo(f"  skipped {name}: {why}", err=True)


@reference.command("show")
@click.argument("model")
@click.option("--release", default=None)
@format_option
@endpoint_option
@api_key_option
def show(model, release, fmt, endpoint, api_key):
    """Show MODEL's stored reference profile (summary)."""
    doc = call(endpoint, "GET", f"/api/v1/models/{urllib.parse.quote(model, safe='')}/reference", api_key,
               params={"release": release})
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    s = doc["summary"]
    click.echo(f"{model}{' release ' + doc['release'] if doc.get('release') else ''}: {s['rows']} rows from "
               f"{s['source'] or '-'}, set {doc['created']}")
    for name, f in s["features"].items():
        click.echo(f"  {name:<28} {f['type']:<12} missing {f['missing_rate']:.2%}")
    for name in s["embeddings"]:
        click.echo(f"  {name:<28} embedding")
    for name in s["texts"]:
        click.echo(f"  {name:<28} text")


@reference.command("parity")
@click.argument("model")
@click.option("--data", "data", type=click.Path(dir_okay=False), required=True,
              help="Offline features: request_id plus one column per feature (Parquet or CSV).")
@click.option("--atol", type=float, default=1e-6, show_default=True)
@click.option("--rtol", type=float, default=1e-3, show_default=True)
@format_option
@endpoint_option
@api_key_option
def parity_cmd(model, data, atol, rtol, fmt, endpoint, api_key):
    """Row-level training-serving parity: offline features vs the inputs MODEL logged for the same requests."""
    from ..errors import WatchkeeperError
    from ..monitors.skew import offline_records

    try:
        rows = offline_records(data)
    except (WatchkeeperError, ValueError) as exc:
        raise CliFailure(str(exc)) from None
    body = json.dumps({"rows": rows, "atol": atol, "rtol": rtol}, default=str).encode()
    doc = call(endpoint, "POST", f"/api/v1/models/{urllib.parse.quote(model, safe='')}/parity", api_key, body=body)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(f"{model}: {doc['matched']} of {doc['rows']} offline rows found online"
                   + (f" ({doc['unmatched']} request ids not logged)" if doc["unmatched"] else ""))
        for name, f in doc["features"].items():
            flag = "DISAGREES" if f["disagree_share"] else "ok"
            line = f"  {name:<28} {flag:<10} {f['disagree_share']:.1%} of rows"
            if "median_rel_diff" in f:
                line += f", median rel diff {f['median_rel_diff']:.3g}"
            click.echo(line)
            if f.get("hint"):
                click.echo(f"      {f['hint']}")
            for ex in f.get("examples", [])[:3] if f["disagree_share"] else []:
                click.echo(f"      {ex['request_id']}: online {ex['online']!r} vs offline {ex['offline']!r}")
    if doc["disagreeing_features"]:
        raise SystemExit(1)
