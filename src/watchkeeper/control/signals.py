"""The signal registry: every number an alert rule, an SLO or a canary comparison can watch.

A signal is ``fn(store, project, scope, window_start_us, window_end_us, **params) -> float | None``
(``None`` when the window holds no data to judge). ``scope`` is a dict with optional ``model``,
``release``, ``version`` and ``segment`` (``{"country": "US"}``). Built-in signals come from the
predictions and labels tables; other modules (quality, drift, contracts, traces, security) are
wired in lazily by ``load_optional()`` when they are installed, and skipped when they are not.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Callable

from ..errors import UnknownMethod
from ..store.queries import control as q

log = logging.getLogger("watchkeeper.control")

Signal = Callable[..., "float | None"]
SIGNALS: dict[str, Signal] = {}
UNITS: dict[str, str] = {}
WIRED: dict[str, str] = {}  # optional signal -> where it came from


def register(name: str, fn: Signal, unit: str = "") -> None:
    """Register (or replace) a signal under ``name``."""
    SIGNALS[name] = fn
    UNITS[name] = unit


def get(name: str) -> Signal:
    load_optional()
    try:
        return SIGNALS[name]
    except KeyError:
        raise UnknownMethod(f"unknown signal {name!r}; known signals: {', '.join(sorted(SIGNALS))}") from None


def names() -> list[str]:
    load_optional()
    return sorted(SIGNALS)


def compute(name: str, store, project: str, scope: dict | None, start_us: int, end_us: int,
            params: dict | None = None) -> float | None:
    value = get(name)(store, project, scope or {}, int(start_us), int(end_us), **(params or {}))
    if value is None:
        return None
    value = float(value)
    return None if value != value else value


# -- built-in signals ----------------------------------------------------------------------------

def _traffic_signal(pick: Callable[[dict, float], float | None]) -> Signal:
    def fn(store, project, scope, start_us, end_us, **_):
        t = q.traffic(store, project, scope, start_us, end_us)
        return pick(t, (end_us - start_us) / 1e6) if t["n"] else None
    return fn


def _confusion_signal(pick: Callable[[dict], float | None]) -> Signal:
    def fn(store, project, scope, start_us, end_us, positive: str = "1", **_):
        return pick(q.confusion(store, project, scope, start_us, end_us, positive))
    return fn


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _throughput(store, project, scope, start_us, end_us, **_):
    t = q.traffic(store, project, scope, start_us, end_us)
    return t["n"] / max((end_us - start_us) / 1e6, 1e-9)


def _label_coverage(store, project, scope, start_us, end_us, **_):
    t = q.traffic(store, project, scope, start_us, end_us)
    if not t["n"]:
        return None
    return q.confusion(store, project, scope, start_us, end_us)["labelled"] / t["n"]


def _missing_rate(store, project, scope, start_us, end_us, feature: str | None = None, **_):
    if not feature:
        raise UnknownMethod("signal missing_rate needs params.feature (the input feature to watch)")
    return q.missing_rate(store, project, scope, start_us, end_us, feature)


register("latency_p50_ms", _traffic_signal(lambda t, s: t["p50"]), "ms")
register("latency_p95_ms", _traffic_signal(lambda t, s: t["p95"]), "ms")
register("latency_p99_ms", _traffic_signal(lambda t, s: t["p99"]), "ms")
register("error_rate", _traffic_signal(lambda t, s: t["errors"] / t["n"]), "ratio")
register("throughput_rps", _throughput, "rps")
register("cost_per_request", _traffic_signal(lambda t, s: t["mean_cost"]), "currency")
register("label_coverage", _label_coverage, "ratio")
register("false_positive_rate", _confusion_signal(lambda c: _ratio(c["fp"], c["fp"] + c["tn"])), "ratio")
register("precision", _confusion_signal(lambda c: _ratio(c["tp"], c["tp"] + c["fp"])), "ratio")
register("recall", _confusion_signal(lambda c: _ratio(c["tp"], c["tp"] + c["fn"])), "ratio")
register("accuracy", _confusion_signal(lambda c: _ratio(c["correct"], c["labelled"])), "ratio")
register("missing_rate", _missing_rate, "ratio")

# -- optional signals from other modules -----------------------------------------------------------
# name -> (module, attribute, unit). The attribute is a callable with the signal signature, or a
# ``SIGNALS`` dict in that module which is merged whole. Missing modules are skipped quietly.
OPTIONAL: dict[str, tuple[str, str, str]] = {
    "realised_quality": ("watchkeeper.monitors.quality", "quality_signal", "ratio"),
    "estimated_quality": ("watchkeeper.monitors.quality", "estimated_quality_signal", "ratio"),
    "drift_score": ("watchkeeper.monitors.drift.signal", "drift_signal", "score"),
    "contract_violations": ("watchkeeper.monitors.contracts", "violation_rate_signal", "ratio"),
    "token_usage": ("watchkeeper.store.queries.spans", "token_usage_signal", "tokens"),
    "security_event_rate": ("watchkeeper.security.events", "event_rate_signal", "rps"),
}
_EXPORTED_DICTS = ("watchkeeper.monitors.quality", "watchkeeper.monitors.drift.signal",
                   "watchkeeper.store.queries.spans", "watchkeeper.security.events")
_loaded = False


def load_optional(force: bool = False) -> dict[str, str]:
    """Import other modules' signals once; return {signal: source} of those wired."""
    global _loaded
    if _loaded and not force:
        return WIRED
    _loaded = True
    for name, (module, attr, unit) in OPTIONAL.items():
        fn = _import(module, attr)
        if callable(fn):
            register(name, fn, unit)
            WIRED[name] = f"{module}:{attr}"
    for module in _EXPORTED_DICTS:
        table = _import(module, "SIGNALS")
        if isinstance(table, dict):
            for name, fn in table.items():
                if callable(fn) and name not in SIGNALS:
                    register(name, fn)
                    WIRED[name] = f"{module}:SIGNALS"
    shift = _import("watchkeeper.store.queries.feature_shift", "feature_shift")
    if callable(shift) and "feature_shift_psi" not in SIGNALS:
        register("feature_shift_psi", _feature_shift_signal(shift), "psi")
        WIRED["feature_shift_psi"] = "watchkeeper.store.queries.feature_shift:feature_shift (max PSI over features)"
    return WIRED


def _feature_shift_signal(shift: Callable) -> Signal:
    """Largest PSI of any input feature between the model's first quarter of history and the window."""
    def fn(store, project, scope, start_us, end_us, **_):
        if not scope.get("model"):
            return None
        result = shift(store, project, scope["model"], start_us, end_us)
        values = [f["psi"] for f in result.get("features", []) if f.get("psi") is not None]
        return max(values) if values else None
    return fn


def _import(module: str, attr: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return None
    except Exception:  # a broken optional module must not break alerting
        log.exception("could not load signals from %s", module)
        return None
