"""`watchkeeper release create|promote|rollback|list|show`: releases and aliases on a running server."""

from __future__ import annotations

import json
from urllib.parse import quote

import click

from .client import call
from .options import api_key_option, endpoint_option, format_option


def api(endpoint: str, api_key: str | None, method: str, path: str, body: dict | None = None) -> dict:
    """One request to the server; a refused one becomes a one-line error (see cli/client.py)."""
    return call(endpoint, path, api_key, method=method, body=body, timeout=30.0)


def _echo(fmt: str, doc: dict, text: str) -> None:
    click.echo(json.dumps(doc, indent=None if fmt == "json" else 2) if fmt == "json" else text)


@click.group()
def release():
    """Create, promote, roll back and list releases (model + features + prompt + index + policy + tools + config)."""


@release.command("create")
@click.option("--model", required=True)
@click.option("--model-version", required=True)
@click.option("--id", "release_id", default=None, help="Release id (default: <model>@<version>-<hash>).")
@click.option("--feature-set-version", default=None)
@click.option("--prompt-version", default=None)
@click.option("--retrieval-index-version", default=None)
@click.option("--policy-version", default=None)
@click.option("--tool-schema-version", default=None)
@click.option("--config", "config_json", default=None, help="Runtime/generation config as a JSON object.")
@click.option("--description", default=None)
@click.option("--alias", default=None, help="Also point this alias at the new release.")
@click.option("--by", default=None, help="Who is making the change (recorded in the alias history).")
@click.option("--reason", default=None)
@endpoint_option
@api_key_option
@format_option
def create(model, model_version, release_id, feature_set_version, prompt_version, retrieval_index_version,
           policy_version, tool_schema_version, config_json, description, alias, by, reason, endpoint, api_key, fmt):
    """Register a release."""
    body = {"model": model, "model_version": model_version, "id": release_id,
            "feature_set_version": feature_set_version, "prompt_version": prompt_version,
            "retrieval_index_version": retrieval_index_version, "policy_version": policy_version,
            "tool_schema_version": tool_schema_version, "description": description}
    body = {k: v for k, v in body.items() if v is not None}
    if config_json:
        try:
            body["config"] = json.loads(config_json)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--config") from None
    if alias:
        body.update(alias=alias, by=by, reason=reason)
    doc = api(endpoint, api_key, "POST", "/api/v1/releases", body)
    rel = doc["release"]
    text = f"{'created' if doc['created'] else 'exists'} {rel['id']}"
    if doc.get("alias"):
        text += f"; {alias} -> {rel['id']}"
    _echo(fmt, doc, text)


@release.command("promote")
@click.argument("release_id")
@click.option("--alias", default="production", show_default=True)
@click.option("--by", default=None)
@click.option("--reason", default=None)
@endpoint_option
@api_key_option
@format_option
def promote(release_id, alias, by, reason, endpoint, api_key, fmt):
    """Point an alias at RELEASE_ID."""
    doc = api(endpoint, api_key, "POST", f"/api/v1/releases/{quote(release_id, safe='')}/promote",
              {"alias": alias, "by": by, "reason": reason})
    _echo(fmt, doc, f"{doc['model']}/{doc['alias']}: {doc['from_release'] or '∅'} -> {doc['to_release']}")


@release.command("rollback")
@click.argument("model")
@click.option("--alias", default="production", show_default=True)
@click.option("--by", default=None)
@click.option("--reason", default=None)
@endpoint_option
@api_key_option
@format_option
def rollback(model, alias, by, reason, endpoint, api_key, fmt):
    """Move MODEL's alias back to its previous release."""
    doc = api(endpoint, api_key, "POST", f"/api/v1/aliases/{quote(model, safe='')}/{quote(alias, safe='')}/rollback",
              {"by": by, "reason": reason})
    _echo(fmt, doc, f"{doc['model']}/{doc['alias']}: {doc['from_release']} -> {doc['to_release']} (rolled back)")


@release.command("list")
@click.option("--model", default=None)
@endpoint_option
@api_key_option
@format_option
def list_(model, endpoint, api_key, fmt):
    """List releases and the aliases pointing at them."""
    doc = api(endpoint, api_key, "GET", "/api/v1/releases" + (f"?model={quote(model)}" if model else ""))
    by_release: dict[str, list[str]] = {}
    for a in doc["aliases"]:
        by_release.setdefault(a["release_id"], []).append(a["alias"])
    lines = [f"{r['id']:<40} {r['model']:<20} {r['model_version']:<10} {','.join(by_release.get(r['id'], []))}"
             for r in doc["releases"]]
    _echo(fmt, doc, "\n".join(lines) or "no releases")
