"""instrument_fastapi(app, model=...): /health, /metrics and prediction logging for a model service.

A pure ASGI middleware times every request and counts errors; for prediction routes it keeps the
JSON request body (the inputs) and the JSON response (the output) and logs them through the SDK.
Metrics live in the service's own registry, served at /metrics in Prometheus text format.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from . import default

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_OUTPUT_KEYS = ("prediction", "label", "class", "output", "result", "score")
_INPUT_KEYS = ("inputs", "features", "instances", "data")
MAX_CAPTURE = 1 << 20  # do not buffer bodies over 1 MiB for logging


class ServiceMetrics:
    def __init__(self, model: str, registry: CollectorRegistry | None = None):
        self.model = model
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("watchkeeper_service_requests_total", "HTTP requests served, by route, method and status.",
                                ["model", "route", "method", "status"], registry=r)
        self.errors = Counter("watchkeeper_service_errors_total", "Requests that failed (5xx or exception).",
                              ["model", "route"], registry=r)
        self.latency = Histogram("watchkeeper_service_request_duration_seconds", "Request latency.",
                                 ["model", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.predictions = Counter("watchkeeper_service_predictions_total", "Predictions served, by predicted class.",
                                   ["model", "class"], registry=r)
        self.input_size = Histogram("watchkeeper_service_input_size", "Input size: number of features (or bytes when not JSON).",
                                    ["model"], buckets=(1, 2, 5, 10, 20, 50, 100, 500, 1000, 10000, 100000), registry=r)
        self._classes: set[str] = set()

    def klass(self, output: Any) -> str:
        if isinstance(output, bool):
            label = "true" if output else "false"
        elif isinstance(output, (int, str)):
            label = str(output)
        else:
            return ""
        if len(label) > 64:
            return ""
        if label not in self._classes:
            if len(self._classes) >= 50:
                return "other"
            self._classes.add(label)
        return label


def _pick(obj: Any, keys: Iterable[str]) -> Any:
    if isinstance(obj, dict):
        for key in keys:
            if key in obj:
                return obj[key]
    return obj


class _Middleware:
    def __init__(self, app, metrics: ServiceMetrics, predict_paths: Callable[[str, str], bool],
                 log_predictions: bool, version: str | None):
        self.app = app
        self.metrics = metrics
        self.is_predict = predict_paths
        self.log_predictions = log_predictions
        self.version = version

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if path in ("/metrics", "/health"):
            return await self.app(scope, receive, send)
        predict = self.is_predict(method, path)
        started = time.perf_counter()
        status = [500]
        req_chunks: list[bytes] = []
        resp_chunks: list[bytes] = []
        size = [0, 0]

        async def recv():
            message = await receive()
            if predict and message.get("type") == "http.request":
                body = message.get("body", b"")
                size[0] += len(body)
                if size[0] <= MAX_CAPTURE:
                    req_chunks.append(body)
            return message

        async def snd(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif predict and message["type"] == "http.response.body":
                body = message.get("body", b"")
                size[1] += len(body)
                if size[1] <= MAX_CAPTURE:
                    resp_chunks.append(body)
            await send(message)

        try:
            await self.app(scope, recv, snd)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            m = self.metrics
            m.requests.labels(m.model, route, method, str(status[0])).inc()
            m.latency.labels(m.model, route).observe(elapsed)
            if status[0] >= 500:
                m.errors.labels(m.model, route).inc()
            if predict:
                self._record(req_chunks, resp_chunks, size, status[0], elapsed)

    def _record(self, req_chunks, resp_chunks, size, status, elapsed) -> None:
        m = self.metrics
        inputs = output = None
        try:
            if size[0] <= MAX_CAPTURE:
                inputs = _pick(json.loads(b"".join(req_chunks) or b"null"), _INPUT_KEYS)
        except ValueError:
            inputs = None
        try:
            if size[1] <= MAX_CAPTURE and status < 400:
                output = _pick(json.loads(b"".join(resp_chunks) or b"null"), _OUTPUT_KEYS)
        except ValueError:
            output = None
        n_inputs = len(inputs) if isinstance(inputs, (dict, list)) else size[0]
        m.input_size.labels(m.model).observe(n_inputs)
        if status < 400:
            m.predictions.labels(m.model, m.klass(output)).inc()
        if self.log_predictions:
            fields: dict[str, Any] = {"latency_ms": elapsed * 1000.0}
            if self.version:
                fields["model_version"] = self.version
            if status >= 400:
                fields["error"] = f"HTTP {status}"
            if isinstance(output, (dict, list)):
                output = json.dumps(output)[:4096]
            default.log_prediction(m.model, inputs if isinstance(inputs, dict) else None, output, **fields)


def _route(scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path or "unmatched"


def instrument_fastapi(app, model: str, *, version: str | None = None, predict_paths: Iterable[str] | None = None,
                       log_predictions: bool = True, registry: CollectorRegistry | None = None) -> ServiceMetrics:
    """Add /health and /metrics to ``app`` and record every request; log predictions via the SDK.

    ``predict_paths``: the routes whose JSON bodies are predictions (default: every POST route
    except /health and /metrics).
    """
    from starlette.responses import JSONResponse, Response

    metrics = ServiceMetrics(model, registry)
    started = time.time()
    paths = set(predict_paths) if predict_paths is not None else None

    def is_predict(method: str, path: str) -> bool:
        return path in paths if paths is not None else method == "POST"

    existing = {getattr(r, "path", None) for r in app.router.routes}
    if "/metrics" not in existing:
        @app.get("/metrics", include_in_schema=False)
        def _metrics():
            return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
    if "/health" not in existing:
        @app.get("/health", include_in_schema=False)
        def _health():
            client = default.get_client()
            return JSONResponse({"status": "ok", "model": model, "version": version,
                                 "uptime_s": round(time.time() - started, 3),
                                 "watchkeeper": client.stats() if client else None})
    app.add_middleware(_Middleware, metrics=metrics, predict_paths=is_predict,
                       log_predictions=log_predictions, version=version)
    return metrics
