"""The one rule for which label counts when a request has several (corrections, retries).

The label with the latest ``ts`` wins; on a tie the latest to arrive (``received_at``), then the
greater label text. Quality, cost, the overview and the control loop all join through this.
"""

from __future__ import annotations


def winning_labels(key: str = "request_id", where: str = "") -> str:
    """SQL selecting one row per ``key`` (columns ``k, label, label_value, l_model``).

    Takes one ``?`` parameter, the project; ``where`` is extra SQL ANDed to the labels filter.
    """
    if key not in ("request_id", "trace_id"):
        raise ValueError(f"labels join by request_id or trace_id, not {key!r}")
    return f"""
    SELECT {key} AS k, label, label_value, model AS l_model FROM (
        SELECT {key}, label, label_value, model,
               row_number() OVER (PARTITION BY {key} ORDER BY ts DESC, received_at DESC, label DESC) AS rn
        FROM labels WHERE project = ?{where}
    ) AS ranked WHERE rn = 1"""
