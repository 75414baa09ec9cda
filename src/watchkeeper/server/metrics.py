"""Prometheus metrics: the server's own, and the monitored models'.

Model metrics are updated once per batch, not once per record: counts are grouped in Python and
latencies are bucketed with numpy, then added to ``BulkHistogram`` in one step.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from typing import Callable, Iterable

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import HistogramMetricFamily

from ..ingest.records import Batch

disable_created_metrics()  # *_created series only add noise to every dashboard

# Seconds; a boundary at each common SLO threshold (0.05, 0.1, 0.25, 0.5, 1).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
MAX_CLASSES_PER_MODEL = 50
MAX_CLASS_LEN = 64


class BulkHistogram:
    """A Prometheus histogram fed with whole arrays of observations at once."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...], buckets: tuple[float, ...]):
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.bounds = np.asarray(buckets, dtype=float)
        self._series: dict[tuple[str, ...], list] = {}
        self._lock = threading.Lock()

    def observe_many(self, labels: tuple[str, ...], values: np.ndarray) -> None:
        if values.size == 0:
            return
        idx = np.searchsorted(self.bounds, values, side="left")
        counts = np.bincount(idx, minlength=len(self.bounds) + 1)
        total = float(values.sum())
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = [np.zeros(len(self.bounds) + 1, dtype=np.int64), 0.0]
            series[0] += counts
            series[1] += total

    def collect(self) -> Iterable[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        with self._lock:
            items = [(k, v[0].copy(), v[1]) for k, v in self._series.items()]
        for labels, counts, total in items:
            cumulative = np.cumsum(counts)
            buckets = [(_fmt(b), int(c)) for b, c in zip(self.bounds, cumulative[:-1])]
            buckets.append(("+Inf", int(cumulative[-1])))
            family.add_metric(list(labels), buckets, total)
        yield family


def _fmt(bound: float) -> str:
    return repr(float(bound))


class ServerMetrics:
    def __init__(self, queue_depth: Callable[[], float] | None = None):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ingested = Counter("watchkeeper_ingested_events_total", "Events accepted and stored, by kind.", ["kind"], registry=r)
        self.rejected = Counter("watchkeeper_rejected_events_total", "Events rejected, by kind and reason.", ["kind", "reason"], registry=r)
        self.queue_depth = Gauge("watchkeeper_ingest_queue_depth", "Batches waiting for the store writer.", registry=r)
        if queue_depth is not None:
            self.queue_depth.set_function(queue_depth)
        self.write_seconds = Histogram(
            "watchkeeper_store_write_seconds", "Time to commit one group of batches to the event store.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=r,
        )
        self.predictions = Counter(
            "watchkeeper_predictions_total", "Predictions logged, by model, version and predicted class.",
            ["project", "model", "version", "class"], registry=r,
        )
        self.prediction_errors = Counter(
            "watchkeeper_prediction_errors_total", "Predictions that carried an error.",
            ["project", "model", "version"], registry=r,
        )
        self.labels = Counter("watchkeeper_labels_total", "Ground-truth labels received.", ["project"], registry=r)
        self.feedback = Counter("watchkeeper_feedback_total", "Product feedback events, by kind.", ["project", "kind"], registry=r)
        self.latency = BulkHistogram(
            "watchkeeper_prediction_latency_seconds", "Model latency reported with each prediction.",
            ("project", "model", "version"), LATENCY_BUCKETS,
        )
        self.input_size = BulkHistogram(
            "watchkeeper_prediction_input_features", "Number of input features per prediction.",
            ("project", "model"), SIZE_BUCKETS,
        )
        r.register(self.latency)
        r.register(self.input_size)
        self._classes: dict[tuple[str, str], set[str]] = {}

    def _class(self, project: str, model: str, label: str | None) -> str:
        if label is None or label == "" or len(label) > MAX_CLASS_LEN:
            return ""
        seen = self._classes.setdefault((project, model), set())
        if label in seen:
            return label
        if len(seen) >= MAX_CLASSES_PER_MODEL:
            return "other"
        seen.add(label)
        return label

    def observe(self, batch: Batch) -> None:
        """Update model metrics from an accepted batch."""
        self.ingested.labels(batch.kind).inc(batch.rows)
        if not batch.rows:
            return
        cols = batch.columns
        if batch.kind == "predictions":
            projects, models, versions = cols["project"], cols["model"], cols["model_version"]
            tally = Tally(zip(projects, models, versions, cols["output_label"]))
            for (project, model, version, label), n in tally.items():
                self.predictions.labels(project, model, version, self._class(project, model, label)).inc(n)
            errors = Tally((p, m, v) for p, m, v, e in zip(projects, models, versions, cols["error"]) if e is not None)
            for key, n in errors.items():
                self.prediction_errors.labels(*key).inc(n)
            groups: dict[tuple[str, str, str], list[int]] = {}
            for i, key in enumerate(zip(projects, models, versions)):
                groups.setdefault(key, []).append(i)
            latency = np.array([np.nan if v is None else v for v in cols["latency_ms"]], dtype=float) / 1000.0
            sizes = np.asarray(cols["input_size"], dtype=float)
            for key, idx in groups.items():
                sel = latency[idx]
                self.latency.observe_many(key, sel[~np.isnan(sel)])
                self.input_size.observe_many(key[:2], sizes[idx])
        elif batch.kind == "labels":
            for project, n in Tally(cols["project"]).items():
                self.labels.labels(project).inc(n)
        elif batch.kind == "feedback":
            for (project, kind), n in Tally(zip(cols["project"], cols["kind"])).items():
                self.feedback.labels(project, kind[:MAX_CLASS_LEN]).inc(n)

    def reject(self, kind: str, reason: str, n: int = 1) -> None:
        self.rejected.labels(kind, reason).inc(n)
