"""Prometheus metrics: the server's own, and the monitored models'.

Model metrics are updated once per batch, not once per record: counts are grouped in Python and
latencies are bucketed with numpy, then added to ``BulkHistogram`` in one step.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import HistogramMetricFamily

from ..ingest.records import Batch
from ..ingest.summary import LATENCY_BUCKETS, SIZE_BUCKETS, summarize

disable_created_metrics()  # *_created series only add noise to every dashboard

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
        self.add(labels, np.bincount(idx, minlength=len(self.bounds) + 1), float(values.sum()))

    def add(self, labels: tuple[str, ...], counts: np.ndarray, total: float) -> None:
        """Add observations already counted per bucket (``ingest.summary.bucket``)."""
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
        """Update model metrics from an accepted batch (its summary when a worker made one)."""
        summary = batch.summary if batch.summary is not None else summarize(batch.kind, batch.columns, batch.rows)
        self.apply(summary)

    def apply(self, summary: dict) -> None:
        kind = summary["kind"]
        self.ingested.labels(kind).inc(summary["rows"])
        if not summary["rows"]:
            return
        if kind == "predictions":
            for ((project, model, version), label), n in summary["classes"].items():
                self.predictions.labels(project, model, version, self._class(project, model, label)).inc(n)
            for key, n in summary["errors"].items():
                self.prediction_errors.labels(*key).inc(n)
            for key, (counts, total) in summary["latency"].items():
                self.latency.add(key, counts, total)
            for key, (counts, total) in summary["input_size"].items():
                self.input_size.add(key, counts, total)
        elif kind == "labels":
            for project, n in summary["projects"].items():
                self.labels.labels(project).inc(n)
        elif kind == "feedback":
            for (project, fkind), n in summary["kinds"].items():
                self.feedback.labels(project, fkind[:MAX_CLASS_LEN]).inc(n)

    def reject(self, kind: str, reason: str, n: int = 1) -> None:
        self.rejected.labels(kind, reason).inc(n)
