"""The in-process guard: check prompts and responses in the request path, record what was found.

    import watchkeeper
    watchkeeper.init(project="support-bot")
    v = watchkeeper.guard.check_input(prompt, context=retrieved_docs, request_id=rid)
    if v.flagged and "injection" in v.categories:
        v.block()            # the event is recorded with action="blocked"
        return refusal
    v.allow()                # optional: record that a flagged request was let through

The check runs locally (about a millisecond for a 2 KB prompt; see the README's security figures)
and never raises on any text. When the verdict found something, one security event per category is
queued on the SDK client (non-blocking) and sent by its background thread; the event's ``action`` is
whatever the app decided before the send (``detected`` when it did not say; ``block()``/``allow()``
after the send record a follow-up event).

PII: both checks look for structured PII and secrets (e-mails, phones, cards, IBANs, national ids,
IPs, driver licences, API keys...) by default, like server-side redaction. Person names and street
addresses are heuristics that cost most of a PII scan, so they are looked for on request:
``check_input(prompt, pii="all")``; ``pii=False`` skips the PII scan (attack detection still runs).
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

from .security import guard as _g

__all__ = ["Checked", "check_input", "check_output", "record"]


class Checked:
    """A verdict (``flagged``, ``categories``, ``score``, ``detectors``, ``pii``) plus the app's decision."""

    __slots__ = ("verdict", "action", "request_id", "trace_id", "tenant", "source", "_ts", "_sent", "_client")

    def __init__(self, verdict: _g.Verdict, source: str, request_id: str | None, trace_id: str | None,
                 tenant: str | None, client: Any) -> None:
        self.verdict = verdict
        self.action = "detected"
        self.request_id, self.trace_id, self.tenant, self.source = request_id, trace_id, tenant, source
        self._ts = time.time()
        self._sent = False
        self._client = client

    flagged = property(lambda self: self.verdict.flagged)
    categories = property(lambda self: self.verdict.categories)
    score = property(lambda self: self.verdict.score)
    detectors = property(lambda self: self.verdict.detectors)
    pii = property(lambda self: self.verdict.pii)
    evidence = property(lambda self: self.verdict.evidence)

    def block(self) -> "Checked":
        """Say the app blocked this request; the recorded events carry ``action="blocked"``."""
        return self._decide("blocked")

    def allow(self) -> "Checked":
        """Say the app let a flagged request through; the events carry ``action="allowed"``."""
        return self._decide("allowed")

    def blocked(self) -> bool:
        return self.action == "blocked"

    def _decide(self, action: str) -> "Checked":
        self.action = action
        if self._sent and self.verdict.categories:
            self._sent = False
            _queue(self, self._client)  # the first events already left: record the decision too
        return self

    def records(self) -> list[dict]:
        """The security events of this verdict as API records (built on the SDK's send thread)."""
        self._sent = True
        events = _g.events_from_verdict(self.verdict, request_id=self.request_id, trace_id=self.trace_id,
                                        tenant=self.tenant, action=self.action, timestamp=self._ts)
        out = []
        for e in events:
            rec = {k: v for k, v in e.to_dict().items() if v is not None and k != "timestamp"}
            rec["timestamp"] = e.timestamp
            rec["source"] = self.source
            rec["details"] = {"categories": list(self.verdict.categories)}
            out.append(rec)
        return out

    def __repr__(self) -> str:
        return f"Checked(flagged={self.flagged}, categories={self.categories}, score={self.score}, action={self.action!r})"


def _client(client: Any) -> Any:
    if client is not None:
        return client
    from .sdk.default import get_client

    return get_client()


def _queue(checked: Checked, client: Any) -> None:
    if client is not None and checked.verdict.categories:
        log = getattr(client, "log_security_events", None)
        if log is not None:
            log(checked.records)


def check_input(text: str, context: str | Sequence[str] | None = None, *, request_id: str | None = None,
                trace_id: str | None = None, tenant: str | None = None, record: bool = True, client: Any = None,
                **options: Any) -> Checked:
    """Check a prompt (and retrieved ``context``) for injection, jailbreak, extraction, PII; record findings.

    ``options`` go to ``watchkeeper.security.check_input``: ``pii="structured"`` (default), ``"all"``
    (also names and street addresses) or ``False``; ``baseline``; ``threshold``.
    """
    c = _client(client) if record else None
    checked = Checked(_g.check_input(text, context, **options), "guard.input", request_id, trace_id, tenant, c)
    _queue(checked, c)
    return checked


def check_output(text: str, prompt: str | None = None, canaries: Iterable[str] = (), tool_calls: Sequence[Any] | None = None,
                 *, request_id: str | None = None, trace_id: str | None = None, tenant: str | None = None,
                 record: bool = True, client: Any = None, **options: Any) -> Checked:
    """Check a response for leaks (canaries, system prompt), PII/secrets and obeyed injections; record findings.

    ``options`` go to ``watchkeeper.security.check_output`` (``pii`` as for ``check_input``).
    """
    c = _client(client) if record else None
    checked = Checked(_g.check_output(text, prompt, canaries, tool_calls, **options), "guard.output", request_id,
                      trace_id, tenant, c)
    _queue(checked, c)
    return checked


def record(checked: Checked, action: str = "detected") -> Checked:
    """Record (or re-record) a verdict with an explicit action: detected, blocked or allowed."""
    if action not in ("detected", "blocked", "allowed"):
        raise ValueError(f"action has value {action!r}. Expected one of: allowed, blocked, detected.")
    if checked._client is None:
        checked.action = action
        checked._client = _client(None)
        _queue(checked, checked._client)
        return checked
    return checked._decide(action)
