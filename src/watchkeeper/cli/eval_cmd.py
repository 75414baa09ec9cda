"""``watchkeeper eval SUITE.yaml --target URL|module:function [--baseline RUN]``.

Runs the suite (``llm/evals.py``), writes the run as JSON to ``--out`` (default
``.watchkeeper/evals/<suite>-<id>.json``) and posts it to the server at ``--endpoint`` (skipped with
``--no-upload``; an unreachable server is a warning, the local file is kept).

``--baseline`` is a run JSON file, a run id on the server, or ``latest`` (the newest server run of
the same suite). With a baseline the exit code is 1 when any check that passed in the baseline fails
now (a regression), whatever else fails; without one it is 1 when any case fails. 2: usage errors
(bad suite, bad target, unknown baseline).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .options import api_key_option, endpoint_option, format_option
from .quality import ApiFailure, api_request


def _baseline(spec: str, suite: str, endpoint: str, api_key: str | None) -> dict:
    path = Path(spec)
    if path.suffix == ".json" or path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"--baseline {spec}: cannot read a run from it: {exc}") from None
    params = {"suite": suite} if spec == "latest" else None
    try:
        return api_request(endpoint, f"/api/v1/evals/runs/{spec}", api_key, params=params)
    except ApiFailure as exc:
        raise click.UsageError(f"--baseline {spec}: {exc.message}") from None


@click.command("eval")
@click.argument("suite_file", metavar="SUITE.yaml", type=click.Path(dir_okay=False))
@click.option("--target", default=None, help="OpenAI-compatible chat URL or module:function (default: the suite's 'target').")
@click.option("--baseline", default=None, help="Run JSON file, run id, or 'latest' on the server.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Where to write the run JSON.")
@click.option("--no-upload", is_flag=True, help="Do not post the run to the server.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per target call.")
@format_option
@endpoint_option
@api_key_option
def eval_(suite_file, target, baseline, out, no_upload, timeout, fmt, endpoint, api_key) -> None:
    """Run an LLM eval suite; exit 1 on a regression against --baseline (or on any failure without one)."""
    from ..llm.evals import SuiteError, compare, load_suite, run_suite
    from ..llm.evals_targets import TargetError, describe, make_target

    try:
        text = Path(suite_file).read_text()
    except OSError as exc:
        raise click.UsageError(f"cannot read {suite_file}: {exc.strerror or exc}") from None
    try:
        suite = load_suite(text, suite_file)
    except SuiteError as exc:
        raise click.UsageError(str(exc)) from None
    target = target or suite.get("target")
    if not target:
        raise click.UsageError("--target is required (or a 'target' in the suite)")
    sys.path.insert(0, os.getcwd())  # module:function targets from the working directory
    try:
        call = make_target(target, suite, timeout=timeout)
    except TargetError as exc:
        raise click.UsageError(str(exc)) from None
    base = _baseline(baseline, suite["name"], endpoint, api_key) if baseline else None

    def progress(row: dict) -> None:
        if fmt == "text":
            mark = "PASS" if row["passed"] else "FAIL"
            failed = "; ".join(f"{c['check']}: {c['detail']}" for c in row["checks"] if not c["passed"])
            click.echo(f"{mark} {row['id']}" + (f"  ({failed})" if failed else ""))

    run = run_suite(suite, call, describe(target), progress)
    if base is not None:
        diff = compare(run, base)
        run["baseline"] = diff["baseline"] or baseline
        run["regressions"] = diff["regressions"]
        run["missing"], run["new"] = diff["missing"], diff["new"]
    path = Path(out) if out else Path(".watchkeeper") / "evals" / f"{suite['name']}-{run['id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2))
    uploaded = None
    if not no_upload:
        try:
            uploaded = api_request(endpoint, "/api/v1/evals/runs", api_key, body=run)["id"]
        except ApiFailure as exc:
            click.echo(f"warning: run not stored on the server: {exc.message}", err=True)
    if fmt == "json":
        sys.stdout.write(json.dumps({**run, "file": str(path), "uploaded": uploaded}) + "\n")
    else:
        s = run["summary"]
        click.echo(f"\n{s['passed']}/{s['total']} passed; run {run['id']} written to {path}"
                   + (f" and stored on {endpoint}" if uploaded else ""))
        for r in run["regressions"]:
            click.echo(f"REGRESSION {r['case']} [{r['check']}]: {r['baseline']} -> {r['current']} ({r['detail']})")
    failed = bool(run["regressions"]) if base is not None else run["summary"]["failed"] > 0
    sys.exit(1 if failed else 0)
