"""`watchkeeper serve`: the server (ingest, API, UI, /metrics)."""

from __future__ import annotations

import click

from ..errors import WatchkeeperError


def server_options(fn):
    fn = click.option("--insecure", is_flag=True, default=None, help="Allow running without API keys on a non-loopback address.")(fn)
    fn = click.option("--meta", "meta_url", default=None, envvar="WATCHKEEPER_META_URL",
                      help="Metadata store URL (postgresql://...); defaults to the event store.")(fn)
    fn = click.option("--store", "store_url", default=None, envvar="WATCHKEEPER_STORE_URL",
                      help="Event store URL: duckdb:///rel/path, duckdb:////abs/path, chdb:///path, clickhouse://...")(fn)
    fn = click.option("--port", default=4318, show_default=True, type=int, help="Port (4318 is the OTLP/HTTP default).")(fn)
    fn = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(fn)
    return fn


def build_app(host, port, store_url, meta_url, insecure):
    from ..server.app import create_app
    from ..server.config import ServerConfig

    config = ServerConfig(host=host, port=port, store_url=store_url, meta_url=meta_url, insecure=insecure)
    try:
        app = create_app(config)
    except WatchkeeperError as exc:
        raise click.ClickException(str(exc)) from None
    state = app.state.wk
    if not config.loopback and not config.insecure and not state.meta.has_keys():
        raise click.ClickException(
            f"Refusing to listen on {host} without API keys: anyone who can reach it could read and write data. "
            "Create a key first (watchkeeper keys create --project P --scope admin), or pass --insecure."
        )
    return app, config


def run_app(app, config, *, banner: str = "") -> None:
    import uvicorn

    url = f"http://{config.host if ':' not in config.host else '[' + config.host + ']'}:{config.port}"
    click.echo(f"watchkeeper serving on {url}  (store: {app.state.wk.store.url}){banner}", err=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False)


@click.command()
@server_options
def serve(host, port, store_url, meta_url, insecure):
    """Run the server: ingest, API, web UI and /metrics."""
    app, config = build_app(host, port, store_url, meta_url, insecure)
    run_app(app, config)
