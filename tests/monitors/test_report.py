"""drift_report() on DataFrames, Arrow tables and files, including awkward inputs."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper.errors import SchemaError, UnknownMethod
from watchkeeper.monitors.report import drift_report

EXPECTED_KEYS = {"type", "method", "statistic", "p_value", "threshold", "drifted", "missing"}


def test_report_shape_and_flags(files):
    """The report has the documented shape and flags exactly the shifted and the missing-jump columns."""
    report = drift_report(files["ref"], files["cur"])
    json.dumps(report, allow_nan=False)
    assert set(report["dataset"]) == {"drifted", "drifted_columns", "columns", "share"}
    for col in report["columns"].values():
        assert EXPECTED_KEYS <= set(col) and set(col["missing"]) >= {"reference", "current"}
    flagged = {n for n, c in report["columns"].items() if c["drifted"]}
    assert flagged == {"shifted", "gaps"}
    assert report["columns"]["gaps"]["missing"]["drifted"] and not report["columns"]["gaps"]["distribution_drifted"]
    assert report["dataset"] == {"drifted": True, "drifted_columns": 2, "columns": 4, "share": 0.5}


def test_same_result_from_dataframe_table_parquet_and_csv(files, tables):
    """DataFrames, Arrow tables, Parquet and CSV inputs give the same decisions."""
    ref, cur = tables
    outs = [drift_report(ref, cur), drift_report(ref.to_pandas(), cur.to_pandas()),
            drift_report(files["ref"], files["cur"]), drift_report(str(files["ref_csv"]), str(files["cur_csv"]))]
    decisions = [{n: c["drifted"] for n, c in o["columns"].items()} for o in outs]
    assert all(d == decisions[0] for d in decisions)
    assert outs[0]["columns"]["shifted"]["statistic"] == pytest.approx(outs[3]["columns"]["shifted"]["statistic"],
                                                                         rel=1e-6)


def test_method_columns_and_threshold(tables):
    """method, columns and threshold narrow and steer the comparison; per-column maps work."""
    ref, cur = tables
    report = drift_report(ref, cur, method="psi", columns=["stable", "plan"], threshold=0.2)
    assert list(report["columns"]) == ["stable", "plan"]
    assert all(c["method"] == "psi" and c["threshold"] == 0.2 for c in report["columns"].values())
    mixed = drift_report(ref, cur, method={"stable": "ks", "*": "hellinger"})
    assert mixed["columns"]["stable"]["method"] == "ks" and mixed["columns"]["plan"]["method"] == "hellinger"


def test_unknown_method_fails_before_reading():
    """An unknown method raises UnknownMethod even if the inputs do not exist."""
    with pytest.raises(UnknownMethod, match="Available: chi2, hellinger, js, kl, ks, psi, wasserstein"):
        drift_report("/nonexistent/a.parquet", "/nonexistent/b.parquet", method="psy")


def test_small_samples_use_p_value_tests(tables):
    """At <= 1000 rows numerical columns use KS and categorical columns chi-square (p-values)."""
    ref, cur = tables
    report = drift_report(ref.slice(0, 500), cur.slice(0, 500))
    assert report["columns"]["stable"]["method"] == "ks" and report["columns"]["plan"]["method"] == "chi2"
    assert report["columns"]["shifted"]["p_value"] < 1e-10


def test_hard_columns_are_reported_not_raised():
    """Constant, all-null, infinite and mixed-type columns give clear per-column results."""
    n = 3000
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"const": np.ones(n), "empty": [None] * n, "x": rng.normal(size=n),
                        "mixed": ["a", 1] * (n // 2), "t": pd.date_range("2024-01-01", periods=n, freq="min")})
    cur = ref.copy()
    cur["x"] = np.where(rng.random(n) < 0.1, np.inf, rng.normal(size=n))
    report = drift_report(ref, cur)
    cols = report["columns"]
    assert not cols["const"]["drifted"] and not cols["empty"]["drifted"]
    assert "no non-missing values" in cols["empty"]["reason"]
    assert cols["x"]["drifted"] and cols["x"]["missing"]["current"] == pytest.approx(0.1, abs=0.02)
    assert cols["x"]["infinite"]["current"] > 0 and "infinite" in cols["x"]["reason"]
    assert cols["mixed"]["type"] == "categorical" and not cols["mixed"]["drifted"]
    assert "datetime" in report["skipped"]["t"]


def test_constant_reference_flags_any_change():
    """A constant reference column flags a current column that takes other values."""
    ref = pd.DataFrame({"c": np.full(5000, 3.0), "v": np.linspace(0, 1, 5000)})
    cur = pd.DataFrame({"c": np.linspace(2, 4, 5000), "v": np.linspace(0, 1, 5000)})
    cols = drift_report(ref, cur)["columns"]
    assert cols["c"]["drifted"] and "constant" in cols["c"]["reason"] and not cols["v"]["drifted"]


def test_type_change_is_drift_and_one_sided_columns_are_skipped():
    """A column that changes type is a drifted 'mismatched' column; one-sided columns are listed as skipped."""
    ref = pa.table({"a": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], "only_ref": [1, 2, 3, 4, 5, 6]})
    cur = pa.table({"a": ["x", "y", "z", "x", "y", "z"], "only_cur": [1, 2, 3, 4, 5, 6]})
    report = drift_report(ref, cur)
    assert report["columns"]["a"]["type"] == "mismatched" and report["columns"]["a"]["drifted"]
    assert "only in the reference" in report["skipped"]["only_ref"]
    assert "only in the current" in report["skipped"]["only_cur"]


def test_no_common_columns_and_missing_requested_column(tables):
    """No shared columns, or a requested column absent from one side, is a SchemaError naming them."""
    with pytest.raises(SchemaError, match="no columns in common"):
        drift_report(pa.table({"a": [1.0]}), pa.table({"b": [1.0]}))
    ref, cur = tables
    with pytest.raises(SchemaError, match=r"'nope' \(not in reference\)"):
        drift_report(ref, cur, columns=["stable", "nope"])


def test_empty_inputs_are_errors(tmp_path):
    """Zero rows or a zero-byte file is a SchemaError, not a crash."""
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.float64())}), empty)
    with pytest.raises(SchemaError, match="has no rows"):
        drift_report(empty, pa.table({"a": [1.0]}))
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    with pytest.raises(SchemaError, match="is empty"):
        drift_report(blank, pa.table({"a": [1.0]}))


def test_identifier_columns_are_skipped():
    """A unique-per-row text column is skipped as an identifier instead of always drifting."""
    ref = pa.table({"id": [f"r{i}" for i in range(3000)], "x": np.arange(3000.0)})
    cur = pa.table({"id": [f"c{i}" for i in range(3000)], "x": np.arange(3000.0)})
    report = drift_report(ref, cur)
    assert "identifier" in report["skipped"]["id"] and "id" not in report["columns"]
