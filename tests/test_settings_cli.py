"""`watchkeeper settings` lists every setting with its source; a bad value is one clear line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from watchkeeper.cli import cli
from watchkeeper.settings import SETTINGS


def test_settings_lists_every_setting_and_its_source(monkeypatch):
    """Each setting appears once; an environment value is reported as coming from the environment."""
    monkeypatch.setenv("WATCHKEEPER_SAMPLE_RATE", "0.25")
    out = CliRunner().invoke(cli, ["settings", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)["settings"]}
    assert set(rows) == {s.name for s in SETTINGS}
    assert rows["sample_rate"]["value"] == 0.25 and rows["sample_rate"]["source"] == "env WATCHKEEPER_SAMPLE_RATE"
    assert rows["endpoint"]["source"] == "default"


def test_bad_setting_value_is_one_clear_line(monkeypatch):
    """A value that does not parse names the variable and the expected type, with no traceback."""
    monkeypatch.setenv("WATCHKEEPER_MAX_QUEUE", "lots")
    out = CliRunner().invoke(cli, ["settings"])
    assert out.exit_code == 1
    assert "WATCHKEEPER_MAX_QUEUE has value 'lots'. Expected an integer." in out.output
    assert "Traceback" not in out.output
