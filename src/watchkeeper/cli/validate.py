"""``watchkeeper validate DATA --contract C.yaml``: check a Parquet/CSV file against a data contract.

Exit codes: **0** every rule passed; **1** at least one violation (every one is listed: column, rule,
observed, expected, sample rows) or the data cannot be read (missing or empty file); **2** the
contract file is bad (unreadable, not YAML, unknown key, bad value: the message names it) or a usage
error. ``--format json`` prints one document::

    {"valid": bool, "contract": str, "rows": int, "rules_checked": int,
     "violations": [{"column", "rule", "observed", "expected", "rows_failed", "samples": [{"row", "value"}]}],
     "contacts": {"owner", "upstream", "downstream"}}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .options import format_option


@click.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--contract", "contract_path", required=True, type=click.Path(dir_okay=False),
              help="The data contract (YAML or JSON).")
@click.option("--previous-rows", type=int, default=None,
              help="Row count of the previous batch/day, for the contract's completeness.max_drop rule.")
@click.option("--reference", default=None, type=click.Path(dir_okay=False),
              help="Reference profile JSON or reference data file, for distribution rules.")
@format_option
@click.option("--debug", is_flag=True, hidden=True)
def validate(data, contract_path, previous_rows, reference, fmt, debug):
    """Check DATA against a data contract; exit 1 when a rule is broken."""
    from ..errors import WatchkeeperError
    from ..monitors.contract_spec import ContractError, load_contract
    from ..monitors.contracts import validate as run

    try:
        contract = load_contract(Path(contract_path))
    except ContractError as exc:
        click.echo(f"error: bad contract {contract_path}: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: cannot read contract {contract_path}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    try:
        report = run(data, contract, previous_rows=previous_rows, reference=reference)
    except ContractError as exc:
        if debug:
            raise
        click.echo(f"error: bad contract {contract_path}: {exc}", err=True)
        sys.exit(2)
    except (WatchkeeperError, ValueError, OSError) as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), default=str))
    else:
        click.echo(report.text())
    sys.exit(0 if report.valid else 1)
