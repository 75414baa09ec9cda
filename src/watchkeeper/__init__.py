"""watchkeeper: observability and control for ML models and LLM apps in production.

    import watchkeeper
    watchkeeper.init(project="churn")                 # WATCHKEEPER_ENDPOINT, default http://127.0.0.1:4318
    rid = watchkeeper.log_prediction(model="churn", inputs={"tenure": 14}, output=1, scores=[0.2, 0.8])
    watchkeeper.log_label(request_id=rid, label=1)   # whenever the truth arrives

Importing this module stays light: no FastAPI, DuckDB, numpy or pandas.
"""

from .errors import ConfigError, WatchkeeperError
from .sdk.client import Client
from .sdk.default import flush, init, log_feedback, log_label, log_outcome, log_prediction, shutdown, stats
from .sdk.release import release
from .sdk.tracing import set_trace_context, span, trace, traced
from . import llm  # watchkeeper.llm.stream: token timing of streamed responses

__version__ = "0.1.0"


def __getattr__(name: str):
    # watchkeeper.guard (the in-process security guard) loads on first use: ``import watchkeeper`` stays light.
    if name == "guard":
        import importlib

        return importlib.import_module(".guard", __name__)
    raise AttributeError(f"module 'watchkeeper' has no attribute {name!r}")


def instrument_fastapi(app, model: str, **options):
    """Give a FastAPI model service /health, /metrics and prediction logging. See sdk.fastapi."""
    from .sdk.fastapi import instrument_fastapi as _instrument

    return _instrument(app, model=model, **options)


__all__ = [
    "Client",
    "ConfigError",
    "WatchkeeperError",
    "__version__",
    "flush",
    "init",
    "instrument_fastapi",
    "log_feedback",
    "log_label",
    "log_outcome",
    "log_prediction",
    "release",
    "set_trace_context",
    "shutdown",
    "span",
    "stats",
    "trace",
    "traced",
]
