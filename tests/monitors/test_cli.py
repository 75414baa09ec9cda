"""`watchkeeper drift` through click's CliRunner on real temp files: output, exit codes, hard inputs."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from watchkeeper.cli import cli


def run(*args):
    return CliRunner().invoke(cli, ["drift", *map(str, args)])


def assert_clean_error(result, code, fragment):
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert fragment in result.output


def test_json_is_one_document_and_exit_zero_on_drift(files):
    """JSON output is one parseable document and the exit code is 0 even though drift was found."""
    result = CliRunner().invoke(cli, ["drift", str(files["ref"]), str(files["cur"])])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["dataset"]["drifted_columns"] == 2


def test_fail_on_drift_exits_one(files):
    """--fail-on-drift turns found drift into exit code 1."""
    assert run(files["ref"], files["cur"], "--fail-on-drift").exit_code == 1
    assert run(files["ref"], files["ref"], "--fail-on-drift").exit_code == 0


def test_options_method_columns_threshold(files):
    """--method, --columns and --threshold (global and COLUMN=VALUE) reach the report."""
    result = run(files["ref_csv"], files["cur_csv"], "--method", "psi", "--method", "plan=chi2",
                 "--columns", "stable,plan", "--threshold", "stable=0.3")
    assert result.exit_code == 0, result.output
    cols = json.loads(result.stdout)["columns"]
    assert cols["stable"]["method"] == "psi" and cols["stable"]["threshold"] == 0.3
    assert cols["plan"]["method"] == "chi2" and list(cols) == ["stable", "plan"]


def test_html_out_file(files, tmp_path):
    """--format html --out writes the page and prints a one-line summary on stderr."""
    out = tmp_path / "r.html"
    result = run(files["ref"], files["cur"], "--format", "html", "--out", out)
    assert result.exit_code == 0 and out.read_text().startswith("<!doctype html>")
    assert "2 of 4 columns drifted" in result.stderr


def test_unknown_method_lists_valid_ones(files):
    """An unknown method is a usage error (exit 2) listing the valid names."""
    result = run(files["ref"], files["cur"], "--method", "psy")
    assert_clean_error(result, 2, "No drift method named 'psy'. Available: chi2, hellinger, js, kl, ks, psi, wasserstein.")


def test_bad_threshold_is_usage_error(files):
    """A non-numeric threshold is a usage error."""
    assert_clean_error(run(files["ref"], files["cur"], "--threshold", "high"), 2, "is not a number")


def test_missing_file(files, tmp_path):
    """A missing file is a one-line error with exit code 1."""
    assert_clean_error(run(files["ref"], tmp_path / "nope.parquet"), 1, "does not exist")


def test_empty_files(files, tmp_path):
    """A zero-byte file and a header-only CSV are clear errors."""
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    assert_clean_error(run(files["ref"], blank), 1, "is empty")
    header = tmp_path / "header.csv"
    header.write_text("stable,plan\n")
    assert_clean_error(run(files["ref"], header), 1, "has no rows")


def test_unreadable_format(files, tmp_path):
    """A file that is not Parquet/CSV, or a corrupt Parquet file, is a clear error."""
    weird = tmp_path / "data.xlsx"
    weird.write_bytes(b"PK\x03\x04 not a table")
    assert_clean_error(run(files["ref"], weird), 1, "unknown format '.xlsx'")
    corrupt = tmp_path / "bad.parquet"
    corrupt.write_bytes(b"PAR1 garbage garbage PAR1")
    assert_clean_error(run(files["ref"], corrupt), 1, "cannot read current file")


def test_mismatched_schemas(files, tmp_path):
    """Columns in one file only are warned about; no shared column at all is an error."""
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"stable": [0.1, 0.2, 0.3] * 100, "extra": [1, 2, 3] * 100}), other)
    result = run(files["ref"], other)
    assert result.exit_code == 0
    assert "column 'plan' skipped: only in the reference" in result.stderr
    assert "column 'extra' skipped: only in the current data" in result.stderr
    unrelated = tmp_path / "unrelated.parquet"
    pq.write_table(pa.table({"zzz": [1.0, 2.0]}), unrelated)
    assert_clean_error(run(files["ref"], unrelated), 1, "no columns in common")


def test_requested_column_in_one_file_only(files):
    """--columns naming a column absent from a file says which file lacks it."""
    assert_clean_error(run(files["ref"], files["cur"], "--columns", "stable,ghost"), 1, "'ghost' (not in reference)")


@pytest.mark.parametrize("content", [
    "x,y\n1,a\n2,b\ninf,c\n-inf,a\nnan,b\n",  # infinities and NaN
    "x,y\n1,a\nabc,b\n2,c\n",  # mixed types in one CSV column
    "x,y\n,\n,\n,\n",  # all-null columns
    "x,y\n5,a\n5,a\n5,a\n",  # constant columns
])
def test_hard_csv_inputs_never_traceback(tmp_path, content):
    """Awkward CSVs compare cleanly: exit 0 and valid JSON, never a traceback."""
    ref = tmp_path / "ref.csv"
    ref.write_text("x,y\n1,a\n2,b\n3,c\n4,a\n5,b\n")
    cur = tmp_path / "cur.csv"
    cur.write_text(content)
    result = run(ref, cur)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
