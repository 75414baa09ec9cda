"""The per-batch metric summary equals a row-by-row count, for one model and for several."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from watchkeeper.ingest.summary import LATENCY_BUCKETS, SIZE_BUCKETS, summarize


def _batch(rng: random.Random, n: int, models: int) -> dict[str, list]:
    return {
        "project": ["p"] * n,
        "model": [f"m{rng.randrange(models)}" for _ in range(n)],
        "model_version": [rng.choice(["1", "2"]) if models > 1 else "1" for _ in range(n)],
        "output_label": [rng.choice(["a", "b", ""]) for _ in range(n)],
        "error": [rng.choice([None] * 9 + ["boom"]) for _ in range(n)],
        "latency_ms": [rng.choice([None, rng.random() * 3000]) for _ in range(n)],
        "input_size": [rng.randrange(0, 2000) for _ in range(n)],
    }


def _bucket_of(bounds, value):
    return next((i for i, b in enumerate(bounds) if value <= b), len(bounds))


@pytest.mark.parametrize("models", [1, 3])
def test_summary_matches_a_row_by_row_count(models):
    rng = random.Random(models)
    cols = _batch(rng, 500, models)
    got = summarize("predictions", cols, 500)
    keys = list(zip(cols["project"], cols["model"], cols["model_version"]))
    assert got["classes"] == Counter(zip(keys, cols["output_label"]))
    assert got["errors"] == Counter(k for k, e in zip(keys, cols["error"]) if e is not None)
    for key in set(keys):
        lat = [v / 1000 for k, v in zip(keys, cols["latency_ms"]) if k == key and v is not None]
        if lat:
            counts, total = got["latency"][key]
            assert counts.tolist() == np.bincount([_bucket_of(LATENCY_BUCKETS, v) for v in lat],
                                                  minlength=len(LATENCY_BUCKETS) + 1).tolist()
            assert total == pytest.approx(sum(lat))
    for pm in {k[:2] for k in keys}:
        sizes = [s for k, s in zip(keys, cols["input_size"]) if k[:2] == pm]
        counts, total = got["input_size"][pm]
        assert counts.tolist() == np.bincount([_bucket_of(SIZE_BUCKETS, s) for s in sizes],
                                              minlength=len(SIZE_BUCKETS) + 1).tolist()
        assert total == sum(sizes)
