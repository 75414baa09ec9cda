"""`watchkeeper settings`: every setting, its value and where the value came from."""

from __future__ import annotations

import json
import os

import click

from ..errors import ConfigError
from ..settings import SETTINGS


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def settings(fmt):
    """Show every setting (SDK and server), its value and its source (environment or default)."""
    rows = []
    for s in SETTINGS:
        raw = os.environ.get(s.env)
        if raw not in (None, ""):
            try:
                value, source = s.parse(s.name, raw), f"env {s.env}"
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        else:
            value, source = s.default, "default"
        if s.name == "api_key" and value:
            value = str(value)[:6] + "…"
        rows.append({"name": s.name, "env": s.env, "value": value, "source": source, "side": s.side, "help": s.help})
    if fmt == "json":
        click.echo(json.dumps({"settings": rows}))
        return
    width = max(len(r["env"]) for r in rows)
    for r in rows:
        click.echo(f"{r['env']:<{width}}  {str(r['value']):<44} {r['source']}")
