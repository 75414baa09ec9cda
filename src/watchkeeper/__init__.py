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

__version__ = "0.1.0"


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
    "shutdown",
    "stats",
]
