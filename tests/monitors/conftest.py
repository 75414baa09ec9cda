"""Small real datasets written to temp Parquet/CSV files for the report and CLI tests."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def make_tables(n: int = 4000, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """Reference and current with known drift: ``shifted`` moves 1 sd, ``gaps`` goes 1% -> 25% missing."""
    rng = np.random.default_rng(seed)

    def side(shift: float, missing: float, plans) -> pa.Table:
        gaps = rng.normal(size=n)
        gaps[rng.random(n) < missing] = np.nan
        return pa.table({
            "stable": rng.normal(size=n),
            "shifted": rng.normal(shift, 1, size=n),
            "gaps": pa.array(gaps, from_pandas=True),
            "plan": pa.array(rng.choice(["free", "pro", "team"], size=n, p=plans)),
        })

    return side(0.0, 0.01, [0.6, 0.3, 0.1]), side(1.0, 0.25, [0.6, 0.3, 0.1])


@pytest.fixture
def tables():
    return make_tables()


@pytest.fixture
def files(tmp_path, tables):
    ref, cur = tables
    paths = {"ref": tmp_path / "ref.parquet", "cur": tmp_path / "cur.parquet",
             "ref_csv": tmp_path / "ref.csv", "cur_csv": tmp_path / "cur.csv"}
    pq.write_table(ref, paths["ref"])
    pq.write_table(cur, paths["cur"])
    ref.to_pandas().to_csv(paths["ref_csv"], index=False)
    cur.to_pandas().to_csv(paths["cur_csv"], index=False)
    return paths
