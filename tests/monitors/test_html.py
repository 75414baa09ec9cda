"""The HTML drift report is self-contained and shows every column."""

import re

from watchkeeper.monitors.report import drift_report
from watchkeeper.reports.drift_html import render_html


def test_html_smoke(tables):
    """Every column appears, drifted ones first, and nothing is loaded from the network."""
    ref, cur = tables
    html = render_html(drift_report(ref, cur))
    assert html.startswith("<!doctype html>") and html.count("<svg") == 4
    for name in ("stable", "shifted", "gaps", "plan"):
        assert f'id="col-{name}"' in html
    assert not re.search(r"https?://", html)
    assert "<script" not in html and "<link" not in html
    order = [m.group(1) for m in re.finditer(r'class="card" id="col-(\w+)"', html)]
    assert set(order[:2]) == {"shifted", "gaps"}
    assert len(html) < 100_000


def test_html_escapes_column_names():
    """Column names and categories are HTML-escaped."""
    import pyarrow as pa

    t = pa.table({"<b>x</b>": ["<i>", "a"] * 10})
    html = render_html(drift_report(t, t))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "<i>" not in html
