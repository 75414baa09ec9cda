"""Embedding drift (MMD), text descriptors, and the row-level training-serving parity check."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from watchkeeper.monitors.embedding import embedding_drift, mmd_rbf
from watchkeeper.monitors.skew import parity
from watchkeeper.monitors.text_drift import language, text_drift, text_profile


def test_embedding_drift_detects_mean_shift_only():
    """A 0.3-sigma mean shift in 32 dimensions is flagged; a fresh same-distribution sample is not."""
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(400, 32))
    same = embedding_drift(ref, rng.normal(size=(400, 32)))
    moved = embedding_drift(ref, rng.normal(0.3, 1, size=(400, 32)))
    assert not same.drifted and same.p_value > 0.05
    assert moved.drifted and moved.p_value < 0.01 and moved.statistic > 10 * abs(same.statistic)


def test_mmd_matches_hand_computation():
    """The unbiased MMD^2 equals the textbook sum over the kernel matrix (Gretton et al. 2012, eq. 3)."""
    x, y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [3.0]])
    s2 = 1.5
    k = lambda a, b: np.exp(-((a - b) ** 2).sum() / (2 * s2))
    kxx = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j) / 6
    kyy = sum(k(y[i], y[j]) for i in range(2) for j in range(2) if i != j) / 2
    kxy = sum(k(a, b) for a in x for b in y) / 6
    assert abs(mmd_rbf(x, y, sigma2=s2) - (kxx + kyy - 2 * kxy)) < 1e-12


def test_embedding_drift_through_store(duck, load):
    """Vectors logged as JSON inputs are sampled from the store and judged against the reference sample."""
    from watchkeeper.monitors import online_drift
    from watchkeeper.monitors.references import profile_dataset

    rng = np.random.default_rng(1)
    ref = profile_dataset(pa.table({"emb": [list(v) for v in rng.normal(size=(600, 16))]}))
    assert list(ref.embeddings) == ["emb"]
    load(duck, [{"model": "e", "inputs": {"emb": rng.normal(0.4, 1, 16).tolist()}, "output": "1", "timestamp": 1e9 + i}
                for i in range(300)])
    out = online_drift.compute(duck, "default", "e", ref, int(1e15), int(1.1e15))
    assert out["embeddings"][0]["drifted"] and out["dataset"]["drifted_names"] == ["emb"]


def test_text_descriptors():
    """Language, length, out-of-vocabulary rate and topic each react to their own kind of change."""
    assert language("How do I reset the password for my account?") == "en"
    assert language("¿Cómo puedo cambiar la contraseña de mi cuenta por favor?") == "es"
    assert language("Как мне сбросить пароль?") == "ru"
    assert language("パスワードをリセットする方法") == "ja"
    rng = np.random.default_rng(2)
    topics = ["password reset account login", "refund order shipping delivery", "invoice billing payment card"]
    ref_texts = [f"How do I {' '.join(rng.choice(topics[i % 2].split(), 4))} for my account today?" for i in range(400)]
    prof = text_profile(ref_texts)
    same = text_drift(prof, [f"How do I {' '.join(rng.choice(topics[i % 2].split(), 4))} for my account today?"
                             for i in range(300)])
    assert not same["drifted"], same["drifted_descriptors"]
    moved = text_drift(prof, [f"Quiero {' '.join(rng.choice(['factura', 'pago', 'tarjeta', 'cobro'], 5))} "
                              f"de la cuenta por favor, es urgente y no entiendo nada del cobro" for _ in range(300)])
    d = moved["descriptors"]
    assert d["language"]["drifted"] and "es" in d["language"]["new"]
    assert d["oov_rate"]["drifted"] and d["oov_rate"]["current"] > 0.5
    assert d["topic"]["drifted"] and "factura" in d["topic"]["new_terms"]
    assert d["length"]["drifted"]


def _parity_data(rng, n=300):
    """Daily spend per user over 30 days; online serves the 7-day sum under the 30-day feature's name."""
    daily = rng.gamma(2.0, 20.0, size=(n, 30))
    ids = [f"r{i}" for i in range(n)]
    offline = [{"request_id": ids[i], "spend_30d": float(daily[i].sum()), "age": float(30 + i % 40),
                "country": ["US", "DE"][i % 2]} for i in range(n)]
    online = {ids[i]: {"spend_30d": float(daily[i, -7:].sum()), "age": float(30 + i % 40) + 1e-9,
                       "country": ["US", "DE"][i % 2]} for i in range(n)}
    return offline, online


def test_parity_catches_7_day_window_bug():
    """A 30-day sum silently computed over 7 days is flagged as systematic with its ratio; the rest are clean."""
    offline, online = _parity_data(np.random.default_rng(3))
    report = parity(offline, online)
    spend = report["features"]["spend_30d"]
    assert report["disagreeing_features"] == ["spend_30d"]
    assert spend["disagree_share"] == 1.0 and spend["systematic"]
    assert 0.18 < spend["ratio_online_to_offline"]["median"] < 0.3
    assert "7/30" in spend["hint"]
    assert spend["examples"] and spend["examples"][0]["online"] < spend["examples"][0]["offline"]
    assert report["features"]["age"]["disagree_share"] == 0 and report["features"]["country"]["disagree_share"] == 0


def test_parity_cli_against_live_server(live_server, tmp_path):
    """`watchkeeper reference parity` joins offline rows with logged inputs and exits 1 naming the bad feature."""
    from watchkeeper.sdk.client import Client

    server = live_server()
    offline, online = _parity_data(np.random.default_rng(4), 200)
    client = Client(endpoint=server.url, project="default", flush_interval=0.2)
    for rid, inputs in online.items():
        client.log_prediction("ranker", inputs, "1", request_id=rid)
    assert client.flush(30)
    client.shutdown()
    pq.write_table(pa.Table.from_pylist(offline + [{"request_id": "never-logged", "spend_30d": 1.0, "age": 1.0,
                                                   "country": "US"}]), tmp_path / "offline.parquet")
    done = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "reference", "parity", "ranker", "--data",
                           str(tmp_path / "offline.parquet"), "--endpoint", server.url, "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["matched"] == 200 and doc["unmatched"] == 1
    assert doc["disagreeing_features"] == ["spend_30d"] and doc["features"]["spend_30d"]["systematic"]
