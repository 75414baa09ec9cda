"""The simulated production workload behind `watchkeeper demo`.

Each scenario module exposes ``start(endpoint, stop_event) -> threading.Thread``; ``SCENARIOS``
lists them in start order. Later features add their own scenario module here.
"""

SCENARIOS = [
    "watchkeeper.demo.tabular",
    "watchkeeper.demo.drift_setup",
    "watchkeeper.demo.llm_agent",
    "watchkeeper.demo.releases",
    "watchkeeper.demo.attacks",
    "watchkeeper.demo.evals",
]
