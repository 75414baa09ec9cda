"""Security detectors for LLM apps: prompt injection, jailbreak, extraction, PII, leaks, tool misuse.

Pure Python (stdlib only; jsonschema is imported lazily for tool-argument schemas), so the SDK
can import it inside user apps. The entry points:

    check_input(text, context=None) -> Verdict        # prompts and retrieved context
    check_output(text, prompt=None, canaries=...)     # responses and tool calls
    scan_record(record) -> dict                       # JSONL records (CLI, server)
    find_pii(text) / redact(text) / redact_value(obj) # personal data and secrets
    warm_up()                                         # optional: build the lazy indexes (~0.1 s) now,
                                                      # not on the first check
"""

from __future__ import annotations

from . import textfacts  # noqa: F401  (textfacts.set_enabled switches the fast-path gates)
from .anomaly import AnomalyBaseline
from .detectors import Detection, detect, register_classifier, scan_context, unregister_classifier
from .guard import SecurityEvent, Verdict, check_input, check_output, events_from_verdict, scan_record, warm_up
from .output import make_canary, register_canary, unregister_canary
from .pii import find_pii, iban_valid, luhn_valid, redact, redact_value
from .tools import SequenceBaseline, ToolIssue, ToolPolicy, check_calls

__all__ = [
    "AnomalyBaseline",
    "Detection",
    "SecurityEvent",
    "SequenceBaseline",
    "ToolIssue",
    "ToolPolicy",
    "Verdict",
    "check_calls",
    "check_input",
    "check_output",
    "detect",
    "events_from_verdict",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "make_canary",
    "redact",
    "redact_value",
    "register_canary",
    "register_classifier",
    "scan_context",
    "scan_record",
    "unregister_canary",
    "unregister_classifier",
    "warm_up",
]
