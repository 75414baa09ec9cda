"""The per-app anomaly baseline."""

from __future__ import annotations

import json

from watchkeeper.security import AnomalyBaseline, check_input

NORMAL = [f"What is the status of order {1000 + i}? I placed it last week and it has not arrived." for i in range(40)]


def test_typical_text_scores_zero_and_junk_scores_high():
    """Traffic like the baseline scores 0; a wall of symbols scores high."""
    b = AnomalyBaseline.fit(NORMAL)
    assert b.score("What is the status of order 2044? It has not arrived yet.") == 0.0
    assert b.score("%$#@!" * 200) > 0.5


def test_baseline_adapts_per_app():
    """A code-heavy app does not find code anomalous, a support app does."""
    code = [f"def f{i}(x):\n    return x * {i} + len(str(x))" for i in range(40)]
    snippet = "def g(y):\n    return {k: v for k, v in y.items() if v}"
    assert AnomalyBaseline.fit(code).score(snippet) < AnomalyBaseline.fit(NORMAL).score(snippet)


def test_untrained_baseline_is_silent():
    """With fewer texts than min_count the baseline never flags."""
    assert AnomalyBaseline.fit(NORMAL[:3]).score("%%%%%%") == 0.0


def test_round_trip_and_check_input_integration():
    """The baseline serialises to JSON and feeds the 'anomaly' category of check_input."""
    b = AnomalyBaseline.fit(NORMAL)
    b2 = AnomalyBaseline.from_dict(json.loads(json.dumps(b.to_dict())))
    assert b2.score("x" * 3000) == b.score("x" * 3000)
    v = check_input("Z" * 3000, baseline=b2)
    assert "anomaly" in v.categories
