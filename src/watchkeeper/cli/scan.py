"""``watchkeeper scan``: run the security detectors over a JSONL file, offline.

Each input line is ``{"text": ...}`` or ``{"prompt": ..., "response": ...}`` (other fields are
ignored). Each output line is the verdict for the input line at the same position. A line that is
not valid JSON, or has none of those fields, produces ``{"line": N, "error": "..."}`` instead.

Exit codes: 0 when the file was scanned; 1 with ``--fail-on-flag`` when any record was flagged or
any line was bad; 2 for usage errors (unreadable file, bad option).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

__all__ = ["scan"]


def _verdict_for(raw: str, lineno: int) -> tuple[dict[str, Any], bool]:
    try:
        rec = json.loads(raw)
    except ValueError as exc:
        return {"line": lineno, "error": f"line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})"}, False
    if not isinstance(rec, dict) or not any(k in rec for k in ("text", "prompt", "response")):
        return {"line": lineno, "error": f"line {lineno}: expected an object with \"text\" or \"prompt\"/\"response\""}, False
    from ..security import scan_record

    return scan_record(rec), True


def _text_line(lineno: int, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{lineno}\tERROR\t{result['error']}"
    status = "FLAGGED" if result["flagged"] else "ok"
    cats = ",".join(result["categories"]) or "-"
    return f"{lineno}\t{status}\t{result['score']:.2f}\t{cats}"


@click.command("scan")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="json: one verdict object per input line; text: line, status, score, categories.")
@click.option("--fail-on-flag", is_flag=True, help="Exit with status 1 if any record is flagged or any line is bad.")
def scan(file: IO[str], fmt: str, fail_on_flag: bool) -> None:
    """Scan FILE (JSONL, or - for stdin) for prompt injection, jailbreaks, extraction, PII and secrets.

    Writes one result per input line, in input order. Exit status: 0 when scanned, 1 with
    --fail-on-flag if anything was flagged or a line was bad, 2 for usage errors.
    """
    flagged = bad = 0
    for lineno, raw in enumerate(file, start=1):
        if not raw.strip():
            result: dict[str, Any] = {"line": lineno, "error": f"line {lineno}: empty line"}
            ok = False
        else:
            result, ok = _verdict_for(raw, lineno)
        if not ok:
            bad += 1
            click.echo(f"watchkeeper scan: {result['error']}", err=True)
        elif result["flagged"]:
            flagged += 1
        line = json.dumps(result, ensure_ascii=False) if fmt == "json" else _text_line(lineno, result)
        click.echo(line)
    if fail_on_flag and (flagged or bad):
        sys.exit(1)
