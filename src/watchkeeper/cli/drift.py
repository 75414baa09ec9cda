"""``watchkeeper drift REFERENCE CURRENT``: offline data-drift report between two files.

Exit codes: 0 when the report was produced, **whether or not drift was found** (add ``--fail-on-drift``
to exit 1 when any column drifted, for CI gates); 1 for bad input (missing or unreadable file, empty
file, no columns in common, a requested column missing); 2 for a usage error (unknown method, bad
option value). Errors are one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

METHOD_HELP = "Drift method for every column (chi2, hellinger, js, kl, ks, psi, wasserstein), or COLUMN=METHOD."
THRESHOLD_HELP = "Threshold for every column, or COLUMN=VALUE. Default: the method's own."


def _split_overrides(values: tuple[str, ...], option: str, convert):
    """``("psi", "age=ks")`` -> (global value, {column: value})."""
    default, per_column = None, {}
    for raw in values:
        key, sep, val = raw.partition("=")
        try:
            if sep:
                per_column[key.strip()] = convert(val.strip())
            else:
                default = convert(raw.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None
    return default, per_column


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value == value or value in (float("inf"), float("-inf")) or value < 0:
        raise ValueError(f"{text!r} must be a finite number >= 0")
    return value


def _method(text: str) -> str:
    from ..monitors.drift.registry import get_method

    try:
        return get_method(text).name
    except Exception as exc:  # UnknownMethod: message lists the valid names
        raise ValueError(str(exc)) from None


def _merge(default, per_column):
    """A per-column mapping (``"*"`` = every other column) or the single default."""
    return {**per_column, "*": default} if per_column else default


@click.command("drift")
@click.argument("reference", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("current", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "html"]), default="json", show_default=True,
              help="json: one JSON document; html: a self-contained page with charts.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the report here instead of stdout.")
@click.option("--method", "methods", multiple=True, help=METHOD_HELP)
@click.option("--columns", default=None, help="Comma-separated columns to compare (default: all in common).")
@click.option("--threshold", "thresholds", multiple=True, help=THRESHOLD_HELP)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when any column drifted (default: exit 0).")
@click.option("--debug", is_flag=True, help="Show the traceback on errors.")
def drift(reference, current, fmt, out, methods, columns, thresholds, fail_on_drift, debug):
    """Compare CURRENT with REFERENCE (Parquet, CSV or Feather files) column by column.

    Numerical columns use KS (<= 1000 rows) or normalised Wasserstein (>= 0.1); categorical columns
    chi-square (<= 1000 rows) or Jensen-Shannon (>= 0.1); every column is also checked for a jump in
    its missing share. Exits 0 when the report is produced, drift or not, unless --fail-on-drift.
    """
    method, method_cols = _split_overrides(methods, "--method", _method)
    threshold, thr_cols = _split_overrides(thresholds, "--threshold", _threshold)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if columns is not None and not names:
        raise click.BadParameter("give at least one column name", param_hint="--columns")
    try:
        from ..errors import WatchkeeperError
        from ..monitors.report import drift_report

        report = drift_report(reference, current, method=_merge(method, method_cols), columns=names,
                              threshold=_merge(threshold, thr_cols))
    except WatchkeeperError as exc:
        if debug:
            raise
        raise click.ClickException(str(exc)) from None
    except MemoryError:
        raise click.ClickException("out of memory while reading the inputs; pass --columns to compare fewer") from None
    except Exception as exc:  # never a traceback for bad input
        if debug:
            raise
        raise click.ClickException(f"unexpected {type(exc).__name__}: {exc}. Re-run with --debug for details.") \
            from None
    for name, why in report.get("skipped", {}).items():
        click.echo(f"warning: column {name!r} skipped: {why}", err=True)
    if fmt == "html":
        from ..reports.drift_html import render_html

        text = render_html(report, title=f"Drift: {current.name} vs {reference.name}",
                           reference_label=f"reference ({reference.name})", current_label=f"current ({current.name})")
    else:
        try:
            text = json.dumps(report, allow_nan=False)
        except ValueError as exc:  # a NaN/inf slipped into the numbers: say so rather than emit invalid JSON
            raise click.ClickException(f"report is not valid JSON: {exc}. Re-run with --debug.") from None
    if out:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
        ds = report["dataset"]
        click.echo(f"{ds['drifted_columns']} of {ds['columns']} columns drifted; report written to {out}", err=True)
    else:
        sys.stdout.write(text + "\n")
    if fail_on_drift and report["dataset"]["drifted_columns"]:
        sys.exit(1)
