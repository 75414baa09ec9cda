"""Options shared by the commands that talk to a running server."""

from __future__ import annotations

import click

from ..settings import resolve

endpoint_option = click.option(
    "--endpoint",
    envvar="WATCHKEEPER_ENDPOINT",
    default=lambda: resolve("endpoint"),
    show_default="http://127.0.0.1:4318",
    help="URL of the watchkeeper server (env WATCHKEEPER_ENDPOINT).",
)
api_key_option = click.option(
    "--api-key",
    envvar="WATCHKEEPER_API_KEY",
    default=None,
    help="API key (env WATCHKEEPER_API_KEY).",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format; json prints one JSON document on stdout.",
)
