"""watchkeeper: observability and control for ML models and LLM apps in production."""

__version__ = "0.1.0"
