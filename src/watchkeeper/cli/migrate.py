"""`watchkeeper migrate`: bring a store's schema up to date."""

from __future__ import annotations

import click

from ..errors import WatchkeeperError
from ..settings import resolve
from ..store.url import parse_store_url


@click.command()
@click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL", help="Event store URL.")
@click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL", help="Metadata store URL.")
def migrate(store_url, meta_url):
    """Apply pending schema migrations to the event store (and the metadata store).

    duckdb:// holds events and metadata; chdb:// migrates its DuckDB metadata companion too;
    clickhouse:// holds events only, so pass --meta postgresql://... for the metadata.
    """

    url = resolve("store_url", store_url)
    try:
        store = _open_raw(url)
        ran = store.migrate()
        store.check_schema()
        click.echo(f"{parse_store_url(url).redacted}: applied {ran} migration(s); schema is current.")
        store.close()
        if meta_url:
            from ..store.meta import open_meta_store

            meta = open_meta_store(meta_url, migrate=False)
            ran = meta.migrate()
            meta.check_schema()
            click.echo(f"{parse_store_url(meta_url).redacted}: applied {ran} migration(s); schema is current.")
            meta.close()
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None


def _open_raw(url: str):
    """Open a store without checking its schema (that is what we are about to fix)."""
    from ..store.url import parse_store_url

    parsed = parse_store_url(url)
    if parsed.scheme == "duckdb":
        from ..store.duckdb import DuckDBStore

        return DuckDBStore(parsed.path)
    if parsed.scheme == "chdb":
        from ..store.chdb import ChDBStore

        return ChDBStore(parsed.path)
    if parsed.scheme == "clickhouse":
        from ..store.clickhouse import ClickHouseStore

        return ClickHouseStore(parsed.raw)
    raise click.ClickException(f"{parsed.scheme}:// is not an event store URL")
