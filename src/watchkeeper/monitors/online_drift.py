"""Online drift: a window of logged predictions against the model's stored reference profile.

``compute(store, project, model, reference, since_us, until_us)`` runs one SQL query that counts
every tabular feature, the predicted class and the score against the reference's bins inside the
store (``store/queries/drift.py``), then compares the small count vectors with the drift statistics
(``drift.compare``: Wasserstein / Jensen-Shannon / KS / chi-square by type and size, plus the
missing-rate test). Embedding inputs are compared by MMD on a sample (``embedding.py``); text inputs
by descriptors (``text_drift.py``), per tenant when a segment is given. Comparing against the
*training* profile is the training-serving skew check per feature.

The job ``drift`` (``control/scheduler.py``) runs this every ``INTERVAL_S`` for every model with a
reference over the last ``WINDOW_S`` and appends the results to the event table ``drift_results``;
``/metrics`` exports the latest of them, and the signals ``drift_score``/``drifted_features`` read them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np

from ..ingest.records import Batch
from ..store.queries import drift as q
from .drift.compare import compare
from .embedding import embedding_drift
from .profile import profile_from_counts
from .references import LABEL, SCORE, DatasetProfile, load, models_with_reference
from .text_drift import text_drift

log = logging.getLogger("watchkeeper.drift")

INTERVAL_S = 60.0
WINDOW_S = 3600


def _counts(ref, counts: dict, rows: int):
    if ref.kind == "numerical":
        c = np.zeros(ref.edges.size + 1, dtype=np.int64)
        for b, n in counts.items():
            if b >= 0:
                c[b] += n
        missing = int(counts.get(q.MISSING, 0))
        return profile_from_counts(ref, c, missing=missing)
    cats = {str(k): int(v) for k, v in counts.items() if k is not None}
    return profile_from_counts(ref, cats, missing=int(counts.get(None, 0)))


def _column(name: str, kind: str, ref, counts: dict, rows: int, method, threshold) -> dict:
    cur = _counts(ref, counts, rows)
    item = {"feature": name, "kind": kind}
    if cur.rows == 0:
        item.update(type=ref.kind, method=None, statistic=None, threshold=None, drifted=False,
                    missing={"reference": round(ref.missing_rate, 6), "current": None},
                    rows={"reference": ref.rows, "current": 0}, reason="no data in the window")
        return item
    res = compare(ref, cur, method=method, threshold=threshold)
    item.update(res.to_dict())
    return item


def compute(store, project: str, model: str, reference: DatasetProfile, since_us: int, until_us: int, *,
            segment: dict | None = None, release: str | None = None, method: str | None = None,
            threshold: float | None = None, samples: bool = True) -> dict[str, Any]:
    """Judge one window: per-feature results, outputs, embeddings and texts (see the module docstring)."""
    numeric = {k: p.edges for k, p in reference.columns.items() if p.kind == "numerical"}
    categorical = [k for k, p in reference.columns.items() if p.kind == "categorical"]
    score = reference.outputs.get(SCORE)
    h = q.histograms(store, project, model, since_us, until_us, numeric=numeric, categorical=categorical,
                     score_edges=None if score is None else score.edges, output_label=LABEL in reference.outputs,
                     segment=segment, release=release)
    features = []
    for name, ref in reference.columns.items():
        counts = h["numeric" if ref.kind == "numerical" else "categorical"].get(name, {})
        features.append(_column(name, "input", ref, counts, h["inputs_rows"], method, threshold))
    outputs = []
    for name, ref in reference.outputs.items():
        counts = h["numeric" if ref.kind == "numerical" else "categorical"].get(name, {})
        outputs.append(_column(name, "output", ref, counts, h["rows"], None, None))
    embeddings, texts = [], []
    if samples:
        for name, prof in reference.embeddings.items():
            raw = q.sample_values(store, project, model, since_us, until_us, name, segment=segment)
            item = {"feature": name, "kind": "embedding"}
            try:
                item.update(embedding_drift(prof["sample"], raw).to_dict())
            except ValueError as exc:
                item.update(type="embedding", method="mmd_rbf", statistic=None, threshold=None, drifted=False,
                            reason=str(exc))
            embeddings.append(item)
        for name, prof in reference.texts.items():
            raw = q.sample_values(store, project, model, since_us, until_us, name, segment=segment, limit=2000)
            texts.append({"feature": name, "kind": "text", **text_drift(prof, raw)})
    drifted = [f["feature"] for f in features + embeddings + texts if f.get("drifted")]
    return {
        "model": model, "segment": segment or {}, "release": release,
        "window": {"since_us": since_us, "until_us": until_us},
        "rows": h["rows"], "rows_with_inputs": h["inputs_rows"],
        "dataset": {"drifted": bool(drifted), "drifted_features": len(drifted),
                    "features": len(features) + len(embeddings) + len(texts), "drifted_names": drifted},
        "features": sorted(features, key=lambda f: (not f.get("drifted"), f["feature"])),
        "outputs": outputs, "embeddings": embeddings, "texts": texts,
    }


def segment_label(segment: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((segment or {}).items()))


def to_rows(project: str, result: dict, release: str = "") -> dict[str, list]:
    """Columns of ``drift_results`` rows for one computed window."""
    cols: dict[str, list] = {k: [] for k in ("project", "model", "release", "segment", "feature", "kind", "method",
                                              "ts", "window_s", "statistic", "threshold", "drifted",
                                              "missing_reference", "missing_current", "rows_current", "details",
                                              "computed_at")}
    now = int(time.time() * 1e6)
    w = result["window"]
    seg = segment_label(result["segment"])
    for item in result["features"] + result["outputs"] + result["embeddings"] + result["texts"]:
        miss = item.get("missing") or {}
        rows = item.get("rows") or 0
        details = {k: item[k] for k in ("histogram", "new_categories", "vanished_categories", "reason", "p_value",
                                         "drifted_descriptors", "descriptors") if k in item}
        cols["project"].append(project)
        cols["model"].append(result["model"])
        cols["release"].append(release or "")
        cols["segment"].append(seg)
        cols["feature"].append(item["feature"])
        cols["kind"].append(item["kind"])
        cols["method"].append(item.get("method") or "none")
        cols["ts"].append(int(w["until_us"]))
        cols["window_s"].append(int((w["until_us"] - w["since_us"]) // 1_000_000))
        cols["statistic"].append(item.get("statistic"))
        cols["threshold"].append(item.get("threshold"))
        cols["drifted"].append(int(bool(item.get("drifted"))))
        cols["missing_reference"].append(miss.get("reference"))
        cols["missing_current"].append(miss.get("current"))
        cols["rows_current"].append(float((rows.get("current") if isinstance(rows, dict) else rows) or 0))
        cols["details"].append(json.dumps(details, separators=(",", ":"), default=str))
        cols["computed_at"].append(now)
    return cols


def record(store, project: str, result: dict, release: str = "") -> int:
    cols = to_rows(project, result, release)
    n = len(cols["feature"])
    if n:
        store.write([Batch("drift_results", cols, rows=n)])
    return n


def run(store, meta, now_us: int | None = None, window_s: int = WINDOW_S) -> int:
    """The periodic job: judge the last ``window_s`` of every model with a reference; return rows stored."""
    now_us = now_us or int(time.time() * 1e6)
    stored = 0
    for project, model, release in models_with_reference(meta):
        try:
            found = load(meta, project, model, release or None)
            if found is None:
                continue
            result = compute(store, project, model, found[0], now_us - window_s * 1_000_000, now_us,
                             release=release or None)
            if result["rows"]:
                stored += record(store, project, result, release)
        except Exception:  # one broken model must not stop the others
            log.exception("drift job failed for %s/%s", project, model)
    return stored


def latest(store, project: str | None = None, max_age_s: int = 6 * 3600) -> list[dict]:
    return q.latest_results(store, project, int(time.time() * 1e6) - max_age_s * 1_000_000)


class DriftCollector:
    """Prometheus gauges over the latest stored drift results (one store read per scrape)."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        score = GaugeMetricFamily("watchkeeper_drift_score", "Latest drift statistic per model feature and method "
                                  "(the method's statistic: a distance, KS D, chi-square or MMD^2).", labels=["project", "model", "feature", "method"])
        missing = GaugeMetricFamily("watchkeeper_feature_missing_ratio", "Share of logged predictions missing the "
                                    "feature in the latest judged window.", labels=["project", "model", "feature"])
        drifted = GaugeMetricFamily("watchkeeper_drifted_features", "Features judged drifted in the latest window.",
                                    labels=["project", "model"])
        try:
            rows = [r for r in latest(self.store) if r["segment"] == ""]
        except Exception:  # a scrape must not fail because the store is busy or closed
            rows = []
        per_model: dict[tuple[str, str], int] = {}
        for r in rows:
            key = (r["project"], r["model"])
            per_model.setdefault(key, 0)
            if r["statistic"] is not None:
                score.add_metric([r["project"], r["model"], r["feature"], r["method"]], float(r["statistic"]))
            if r["missing_current"] is not None and r["kind"] == "input":
                missing.add_metric([r["project"], r["model"], r["feature"]], float(r["missing_current"]))
            if r["drifted"] and r["kind"] != "output":
                per_model[key] += 1
        for (project, model), n in per_model.items():
            drifted.add_metric([project, model], n)
        yield score
        yield missing
        yield drifted


def _register() -> None:
    try:
        from ..control.scheduler import register_job
    except ImportError:  # pragma: no cover - scheduler not installed
        return
    from ..settings import resolve

    try:
        interval = float(resolve("monitor_interval") or 0)
    except Exception:  # pragma: no cover - settings unavailable
        interval = 0.0
    register_job("drift", max(interval, INTERVAL_S), run)


_register()
