"""Prometheus rule files and Grafana dashboards for the configured rules, SLOs and models.

Rules on signals Prometheus sees natively (latency percentiles, error rate, throughput, without a
segment or release scope) become PromQL over watchkeeper's own series; every other rule alerts on
``watchkeeper_rule_value``, the value the server computed at its last evaluation. Latency and error
SLOs get recording rules of their error ratio per window and multi-window burn-rate alerts; quality
SLOs alert on ``watchkeeper_slo_burn_rate``, which the server exposes.
"""

from __future__ import annotations

import json
import re

from ..ingest.summary import LATENCY_BUCKETS  # the server's latency histogram boundaries
from .rules import Rule, format_duration
from .slo import SLO

_QUANTILE = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
DATASOURCE_UID = "watchkeeper-prometheus"


def _esc(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def _matchers(project: str, scope: dict, version_label: bool = True) -> str:
    parts = [f'project="{_esc(project)}"']
    if scope.get("model"):
        parts.append(f'model="{_esc(scope["model"])}"')
    if version_label and scope.get("version"):
        parts.append(f'version="{_esc(scope["version"])}"')
    return ",".join(parts)


def _alert_name(name: str) -> str:
    return "Watchkeeper_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def native_expr(project: str, rule: Rule) -> str | None:
    """PromQL for the rule's value over Prometheus' own series, or None when only the server can compute it."""
    if rule.relative or rule.scope.get("segment") or rule.scope.get("release"):
        return None
    m = _matchers(project, rule.scope)
    w = format_duration(rule.window_s)
    if rule.signal in _QUANTILE:
        return (f"histogram_quantile({_QUANTILE[rule.signal]}, sum by (le) "
                f"(rate(watchkeeper_prediction_latency_seconds_bucket{{{m}}}[{w}]))) * 1000")
    if rule.signal == "error_rate":
        return (f"sum(rate(watchkeeper_prediction_errors_total{{{m}}}[{w}])) / "
                f"sum(rate(watchkeeper_predictions_total{{{m}}}[{w}]))")
    if rule.signal == "throughput_rps":
        return f"sum(rate(watchkeeper_predictions_total{{{m}}}[{w}]))"
    return None


def rule_expr(project: str, rule: Rule) -> str:
    expr = native_expr(project, rule)
    if expr is None:
        expr = f'watchkeeper_rule_value{{project="{_esc(project)}",rule="{_esc(rule.name)}"}}'
        return f"{expr} {rule.op} {rule.threshold!r}"
    return f"({expr}) {rule.op} {rule.threshold!r}"


def _slo_ratio_expr(project: str, slo: SLO, window: str) -> str | None:
    m = _matchers(project, slo.scope)
    kind = slo.sli["type"]
    if slo.scope.get("segment") or slo.scope.get("release"):
        return None
    if kind == "latency":
        le = float(slo.sli["threshold_ms"]) / 1000.0
        if not any(abs(le - b) < 1e-12 for b in LATENCY_BUCKETS):
            return None
        return (f'1 - (sum(rate(watchkeeper_prediction_latency_seconds_bucket{{{m},le="{le!r}"}}[{window}])) / '
                f"sum(rate(watchkeeper_prediction_latency_seconds_count{{{m}}}[{window}])))")
    if kind == "errors":
        return (f"sum(rate(watchkeeper_prediction_errors_total{{{m}}}[{window}])) / "
                f"sum(rate(watchkeeper_predictions_total{{{m}}}[{window}]))")
    return None


def prometheus_rules(project: str, rules: list[Rule], slos: list[SLO]) -> dict:
    """A Prometheus rule file (as a dict to dump as YAML) for ``project``'s rules and SLOs."""
    groups = []
    alerts = []
    for rule in rules:
        entry = {"alert": _alert_name(rule.name), "expr": rule_expr(project, rule),
                 "labels": {"severity": rule.severity, "watchkeeper_rule": rule.name, "project": project},
                 "annotations": {"summary": f"{rule.signal} {rule.op} {rule.threshold:g}"
                                            f"{' (change vs ' + format_duration(rule.baseline_s) + ' ago)' if rule.relative else ''}",
                                 "description": (rule.description or f"watchkeeper rule {rule.name}") + " (value {{ $value }})"}}
        if rule.for_s:
            entry["for"] = format_duration(rule.for_s)
        alerts.append(entry)
    if alerts:
        groups.append({"name": f"watchkeeper-rules-{project}", "rules": alerts})
    for slo in slos:
        group_rules: list[dict] = []
        labels = f'project="{_esc(project)}",slo="{_esc(slo.name)}"'
        windows = sorted({w for lw, sw, _, _ in slo.tiers() for w in (lw, sw)})
        native = all(_slo_ratio_expr(project, slo, format_duration(w)) for w in windows)
        if native:
            for w in windows:
                group_rules.append({"record": "watchkeeper:slo_error_ratio", "expr": _slo_ratio_expr(project, slo, format_duration(w)),
                                    "labels": {"project": project, "slo": slo.name, "window": format_duration(w)}})
        for i, (lw, sw, factor, severity) in enumerate(slo.tiers()):
            if native:
                limit = factor * slo.budget
                long_e = f'watchkeeper:slo_error_ratio{{{labels},window="{format_duration(lw)}"}} > {limit!r}'
                short_e = f'watchkeeper:slo_error_ratio{{{labels},window="{format_duration(sw)}"}} > {limit!r}'
            else:
                long_e = f'watchkeeper_slo_burn_rate{{{labels},window="{format_duration(lw)}"}} > {factor!r}'
                short_e = f'watchkeeper_slo_burn_rate{{{labels},window="{format_duration(sw)}"}} > {factor!r}'
            group_rules.append({
                "alert": _alert_name(f"slo_{slo.name}_burn_{i + 1}"),
                "expr": f"({long_e}) and ignoring(window) ({short_e})",
                "labels": {"severity": severity, "slo": slo.name, "project": project,
                           "long_window": format_duration(lw), "short_window": format_duration(sw)},
                "annotations": {"summary": f"SLO {slo.name} burning its error budget {factor:g}x too fast",
                                "description": f"objective {slo.objective:g} over {format_duration(slo.period_s)}; "
                                               f"burn above {factor:g} on {format_duration(lw)} and {format_duration(sw)}"}})
        groups.append({"name": f"watchkeeper-slo-{project}-{slo.name}", "rules": group_rules})
    return {"groups": groups}


# -- Grafana ---------------------------------------------------------------------------------------

def _sel(extra: str = "") -> str:
    base = 'project=~"$project",model=~"$model"'
    return "{" + base + (("," + extra) if extra else "") + "}"


def _hq(q: float, metric: str, sel: str) -> str:
    return f"histogram_quantile({q}, sum by (le, model) (rate({metric}_bucket{sel}[$__rate_interval])))"


def _panel(pid: int, title: str, targets: list[tuple[str, str]], unit: str, x: int, y: int, w: int = 12,
           kind: str = "timeseries") -> dict:
    return {"id": pid, "type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": 8},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {},
            "targets": [{"refId": chr(65 + i), "datasource": {"type": "prometheus", "uid": "${datasource}"},
                         "expr": expr, "legendFormat": legend, "range": True, "instant": False}
                        for i, (expr, legend) in enumerate(targets)]}


PANELS: list[tuple[str, list[tuple[str, str]], str]] = [
    ("Latency P50 / P95 / P99", [(_hq(q, "watchkeeper_prediction_latency_seconds", _sel()), f"{{{{model}}}} p{int(q * 100)}")
                                 for q in (0.5, 0.95, 0.99)], "s"),
    ("Traffic", [(f"sum by (model) (rate(watchkeeper_predictions_total{_sel()}[$__rate_interval]))", "{{model}}")], "reqps"),
    ("Error rate", [(f"sum by (model) (rate(watchkeeper_prediction_errors_total{_sel()}[$__rate_interval])) / "
                     f"sum by (model) (rate(watchkeeper_predictions_total{_sel()}[$__rate_interval]))", "{{model}}")], "percentunit"),
    ("Prediction distribution", [(f"sum by (model, class) (rate(watchkeeper_predictions_total{_sel()}[$__rate_interval]))",
                                  "{{model}} {{class}}")], "reqps"),
    ("Drift (max feature PSI / drift score)", [("watchkeeper_model_signal" + _sel('signal=~"drift_score|feature_shift_psi"'),
                                                "{{model}} {{signal}}")], "short"),
    ("Quality (labelled predictions, last hour)", [("watchkeeper_model_signal" + _sel('signal=~"accuracy|precision|recall|false_positive_rate"'),
                                                    "{{model}} {{signal}}")], "percentunit"),
    ("Label coverage", [("watchkeeper_model_signal" + _sel('signal="label_coverage"'), "{{model}}")], "percentunit"),
    ("Cost per request", [("watchkeeper_model_signal" + _sel('signal="cost_per_request"'), "{{model}}")], "currencyUSD"),
    ("LLM time to first token P50 / P95", [(_hq(q, "watchkeeper_llm_time_to_first_token_seconds", _sel()), f"{{{{model}}}} p{int(q * 100)}")
                                            for q in (0.5, 0.95)], "s"),
    ("LLM inter-token latency P50 / P95", [(_hq(q, "watchkeeper_llm_inter_token_latency_seconds", _sel()), f"{{{{model}}}} p{int(q * 100)}")
                                            for q in (0.5, 0.95)], "s"),
    ("Security events", [('sum by (type, severity) (rate(watchkeeper_security_events_total{project=~"$project"}[$__rate_interval]))',
                          "{{type}} {{severity}}")], "short"),
    ("SLO burn rate", [('watchkeeper_slo_burn_rate{project=~"$project"}', "{{slo}} {{window}}")], "short"),
    ("SLO error budget remaining", [('watchkeeper_slo_error_budget_remaining{project=~"$project"}', "{{slo}}")], "percentunit"),
    ("Alerts firing", [('watchkeeper_alert_firing{project=~"$project"}', "{{rule}}")], "short"),
]


def dashboard() -> dict:
    panels = [_panel(i + 1, title, targets, unit, x=(i % 2) * 12, y=(i // 2) * 8) for i, (title, targets, unit) in enumerate(PANELS)]
    var = lambda name, query: {"type": "query", "name": name, "label": name,
                               "datasource": {"type": "prometheus", "uid": "${datasource}"},
                               "query": {"query": query, "refId": "StandardVariableQuery"}, "definition": query,
                               "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
                               "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}
    return {
        "uid": "watchkeeper-models", "id": None, "title": "watchkeeper: models", "tags": ["watchkeeper", "ml", "llm"],
        "timezone": "utc", "refresh": "30s", "schemaVersion": 39, "version": 1, "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"},
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                                  "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                                  "type": "dashboard"}]},
        "templating": {"list": [
            {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
             "current": {"selected": True, "text": "watchkeeper Prometheus", "value": DATASOURCE_UID}},
            var("project", "label_values(watchkeeper_predictions_total, project)"),
            var("model", 'label_values(watchkeeper_predictions_total{project=~"$project"}, model)'),
        ]},
        "panels": panels,
    }


def grafana_files(prometheus_url: str = "http://prometheus:9090",
                  dashboards_path: str = "/var/lib/grafana/dashboards/watchkeeper") -> dict[str, str]:
    """Relative path -> file text: data source and dashboard provisioning, and the dashboard JSON."""
    import yaml

    datasource = {"apiVersion": 1, "datasources": [{
        "name": "watchkeeper Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
        "url": prometheus_url, "isDefault": False, "editable": False, "jsonData": {"httpMethod": "POST", "timeInterval": "15s"}}]}
    provider = {"apiVersion": 1, "providers": [{
        "name": "watchkeeper", "type": "file", "folder": "watchkeeper", "disableDeletion": False,
        "updateIntervalSeconds": 30, "allowUiUpdates": False, "options": {"path": dashboards_path}}]}
    return {
        "provisioning/datasources/watchkeeper.yaml": yaml.safe_dump(datasource, sort_keys=False),
        "provisioning/dashboards/watchkeeper.yaml": yaml.safe_dump(provider, sort_keys=False),
        "dashboards/watchkeeper-models.json": json.dumps(dashboard(), indent=2) + "\n",
    }


def panel_queries(dash: dict | None = None) -> list[tuple[str, str]]:
    """(panel title, expr) for every target of the dashboard."""
    dash = dash or dashboard()
    return [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]
