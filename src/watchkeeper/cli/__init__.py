"""The ``watchkeeper`` command.

Each subcommand lives in its own module and is imported only when it runs, so ``watchkeeper --help``
stays fast and a command whose extra is not installed says which extra to install.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__

# name -> "module:attribute". Modules are imported lazily.
COMMANDS: dict[str, str] = {
    "serve": "watchkeeper.cli.serve:serve",
    "demo": "watchkeeper.cli.demo:demo",
    "worker": "watchkeeper.cli.worker:worker",
    "migrate": "watchkeeper.cli.migrate:migrate",
    "keys": "watchkeeper.cli.keys:keys",
    "settings": "watchkeeper.cli.settings_cmd:settings",
    "drift": "watchkeeper.cli.drift:drift",
    "validate": "watchkeeper.cli.validate:validate",
    "reference": "watchkeeper.cli.reference:reference",
    "scan": "watchkeeper.cli.scan:scan",
    "eval": "watchkeeper.cli.eval_cmd:eval_",
    "quality": "watchkeeper.cli.quality:quality",
    "release": "watchkeeper.cli.release:release",
    "export": "watchkeeper.cli.export:export",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing.startswith("watchkeeper"):
                return _unavailable(name, f"the '{name}' command is not part of this version of watchkeeper")
            return _unavailable(
                name,
                f"the '{name}' command needs the package {missing!r}. "
                "Install it with: pip install 'watchkeeper[server]'",
            )
        return getattr(module, attr)


def _unavailable(name: str, why: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def _cmd() -> None:
        raise click.ClickException(why)

    _cmd.help = f"(unavailable: {why})"
    return _cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watchkeeper")
def cli() -> None:
    """watchkeeper: observability and control for ML models and LLM apps in production."""


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="watchkeeper")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
