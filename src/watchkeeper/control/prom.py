"""Model-level signals, rule state, SLO burn and release aliases on /metrics.

Series (gauges; computed at most every ``ttl_s`` seconds, over the last ``window_s``):

    watchkeeper_model_signal{project,model,signal}       quality (false_positive_rate, precision, recall,
                                                          accuracy), label_coverage, error_rate,
                                                          cost_per_request, drift_score when wired
    watchkeeper_rule_value{project,rule,signal}           the value each rule saw at its last evaluation
    watchkeeper_alert_firing{project,rule,severity}       1 while a rule fires, else 0
    watchkeeper_slo_burn_rate{project,slo,window}         burn rate per alert window
    watchkeeper_slo_error_budget_remaining{project,slo}   share of the period's budget left (may go negative)
    watchkeeper_slo_objective{project,slo}
    watchkeeper_release_info{project,model,alias,release} 1 for each alias
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client.core import GaugeMetricFamily

from ..ingest.timestamps import now_us
from . import catalog, releases, signals
from . import slo as slo_mod

log = logging.getLogger("watchkeeper.control")
MODEL_SIGNALS = ("false_positive_rate", "precision", "recall", "accuracy", "label_coverage", "error_rate",
                 "cost_per_request", "drift_score", "feature_shift_psi")


class ControlCollector:
    def __init__(self, store, meta, window_s: float = 3600.0, ttl_s: float = 10.0):
        self.store = store
        self.meta = meta
        self.window_s = window_s
        self.ttl_s = ttl_s
        self._cache: tuple[float, list] | None = None
        self._lock = threading.Lock()

    def describe(self):
        return []  # computed lazily at scrape time; nothing to describe up front

    def collect(self):
        with self._lock:
            if self._cache is None or time.monotonic() - self._cache[0] > self.ttl_s:
                try:
                    self._cache = (time.monotonic(), self._families())
                except Exception:  # a scrape must not fail because the store is busy or closed
                    log.exception("control metrics failed")
                    self._cache = (time.monotonic(), [])
            families = self._cache[1]
        yield from families

    def _families(self) -> list:
        now = now_us()
        start = int(now - self.window_s * 1e6)
        model_sig = GaugeMetricFamily("watchkeeper_model_signal",
                                      "Model-level signals over the last hour (quality, coverage, errors, cost, drift).",
                                      labels=["project", "model", "signal"])
        rule_value = GaugeMetricFamily("watchkeeper_rule_value", "Value of each alert rule at its last evaluation.",
                                       labels=["project", "rule", "signal"])
        firing = GaugeMetricFamily("watchkeeper_alert_firing", "1 while the rule is firing.",
                                   labels=["project", "rule", "severity"])
        burn = GaugeMetricFamily("watchkeeper_slo_burn_rate", "Error-budget burn rate of each SLO per window.",
                                 labels=["project", "slo", "window"])
        budget = GaugeMetricFamily("watchkeeper_slo_error_budget_remaining",
                                   "Share of the SLO period's error budget left.", labels=["project", "slo"])
        objective = GaugeMetricFamily("watchkeeper_slo_objective", "Objective of each SLO.", labels=["project", "slo"])
        info = GaugeMetricFamily("watchkeeper_release_info", "The release each alias points at.",
                                 labels=["project", "model", "alias", "release"])
        available = set(signals.names())
        d = self.store.dialect
        pairs = self.store.rows(
            f"SELECT DISTINCT project, model FROM predictions WHERE ts >= {d.ts_param()} AND ts < {d.ts_param()} "
            "ORDER BY project, model LIMIT 200", [start, now])
        for p in pairs:
            scope = {"model": p["model"]}
            for name in MODEL_SIGNALS:
                if name not in available:
                    continue
                try:
                    value = signals.compute(name, self.store, p["project"], scope, start, now)
                except Exception:
                    continue
                if value is not None:
                    model_sig.add_metric([p["project"], p["model"], name], value)
        for (project, rule), state in catalog.states(self.meta).items():
            if state.get("value") is not None:
                rule_value.add_metric([project, rule, state.get("signal") or ""], float(state["value"]))
            firing.add_metric([project, rule, state.get("severity") or ""], 1.0 if state.get("status") == "firing" else 0.0)
        for project in catalog.projects_with_rules(self.meta):
            for s in catalog.slos(self.meta, project):
                st = slo_mod.status(s, self.store, project, now)
                objective.add_metric([project, s.name], s.objective)
                budget.add_metric([project, s.name], st["error_budget_remaining"])
                for window, rate in st["burn_rates"].items():
                    if rate is not None:
                        burn.add_metric([project, s.name, window], rate)
        for project in [r["project"] for r in self.meta.rows("SELECT DISTINCT project FROM meta_aliases ORDER BY project")]:
            for a in releases.list_aliases(self.meta, project):
                info.add_metric([project, a["model"], a["alias"], a["release_id"]], 1.0)
        return [model_sig, rule_value, firing, burn, budget, objective, info]
