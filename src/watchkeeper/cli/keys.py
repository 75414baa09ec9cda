"""`watchkeeper keys`: create, list and revoke API keys in the store (server stopped), or via --endpoint."""

from __future__ import annotations

import json

import click

from ..errors import WatchkeeperError
from ..settings import resolve
from ..store.keys import SCOPES


def _meta(store_url, meta_url):
    if meta_url:
        from ..store.meta import open_meta_store

        return open_meta_store(meta_url)
    from ..store import open_store

    return open_store(resolve("store_url", store_url))


@click.group()
def keys():
    """Manage API keys (stored hashed; the secret is shown once)."""


@keys.command("create")
@click.option("--project", required=True, help="Project the key belongs to.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), default=("ingest",), show_default=True,
              help="Scope; repeat for several.")
@click.option("--name", default="", help="A note to recognise the key by.")
@click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL")
@click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def create(project, scopes, name, store_url, meta_url, fmt):
    """Create a key and print its secret (only this once)."""
    try:
        meta = _meta(store_url, meta_url)
        record, secret = meta.create_key(project, scopes, name)
        meta.close()
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"id": record.id, "project": project, "scopes": list(record.scopes), "key": secret}))
    else:
        click.echo(secret)
        click.echo(f"(key {record.id} for project {project!r}, scopes: {', '.join(record.scopes)}; store it now, it is not shown again)", err=True)


@keys.command("list")
@click.option("--project", default=None)
@click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL")
@click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL")
def list_(project, store_url, meta_url):
    """List keys (never their secrets)."""
    try:
        meta = _meta(store_url, meta_url)
        records = meta.list_keys(project)
        meta.close()
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None
    for r in records:
        click.echo(f"{r.id}  {r.project:<20} {','.join(r.scopes):<20} {r.prefix}…  {'revoked' if r.revoked else 'active'}  {r.name}")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL")
@click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL")
def revoke(key_id, store_url, meta_url):
    """Revoke a key by id."""
    try:
        meta = _meta(store_url, meta_url)
        ok = meta.revoke_key(key_id)
        meta.close()
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None
    if not ok:
        raise click.ClickException(f"no active key {key_id!r}")
    click.echo(f"revoked {key_id}")
