"""Server-side privacy and scanning of ingested batches (imported by the server only).

``Privacy`` is a project's redaction policy: ``mask`` (``[EMAIL]``), ``hash`` (``[EMAIL:<hmac>]``,
keyed per project so a value can be counted and joined without being stored), ``drop`` (removed)
or ``off``; plus an optional retention in days. ``redact_batch`` rewrites the text columns of a
``Batch`` in place before it reaches the store: JSON columns are parsed and every string inside is
redacted; identifier columns (ids, model names, timestamps) are left alone.

``scan_batch`` takes the *original* texts of a batch (``originals``, captured before redaction)
and returns security-event rows: prompts logged as prediction inputs and LLM span inputs go
through ``check_input``, outputs through ``check_output``, retrieved documents and tool results
inside spans through ``scan_context``. Evidence in the rows is redacted.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .detectors import scan_context
from .guard import SecurityEvent, Verdict, check_input, check_output, events_from_verdict, safe_evidence
from .pii import redact, redact_value

__all__ = ["Privacy", "MODES", "RedactStep", "redact_batch", "originals", "scan_batch", "event_columns", "EVENT_COLUMNS"]

_log = logging.getLogger("watchkeeper.security")
MODES = ("mask", "hash", "drop", "off")
EVENT_COLUMNS = ("project", "event_id", "ts", "received_at", "type", "detector", "severity", "score", "action",
                 "source", "evidence", "request_id", "trace_id", "span_id", "tenant", "model", "details")
# Text columns that hold identifiers or enumerations, never free text: never rewritten.
_KEEP = frozenset({
    "project", "model", "model_version", "request_id", "trace_id", "span_id", "parent_span_id", "release_id",
    "kind", "name", "service", "scope", "status", "provider", "operation", "finish_reason", "prompt_version",
    "model_id", "index_version", "policy_version", "session_id", "tool_name", "flags", "event_id", "type",
    "detector", "severity", "action", "source", "tenant", "scores",
})
_DEFAULT_TYPES = frozenset({
    "email", "phone", "credit_card", "iban", "ssn", "ip", "driver_license", "national_id",
    "aws_access_key", "aws_secret_key", "github_token", "openai_key", "slack_token", "stripe_key",
    "google_api_key", "jwt", "bearer_token", "private_key", "generic_secret",
})
_STRUCTURED = frozenset({"email", "phone", "credit_card", "iban", "ssn", "ip", "driver_license", "national_id"})
_PROMPT_KINDS = frozenset({"llm", "agent", "chain"})
_MIN_SCAN = 12  # characters: shorter values are labels, not prompts


@dataclass(frozen=True)
class Privacy:
    """A project's privacy policy."""

    mode: str = "mask"
    key: bytes | None = None          # HMAC key for ``hash``
    retention_days: int | None = None
    names: bool = False               # also redact person names and street addresses (heuristic, slower)

    @property
    def types(self) -> frozenset[str] | None:
        """What redaction looks for: structured PII and secrets, plus names/addresses when asked."""
        return None if self.names else _DEFAULT_TYPES

    def redact_text(self, text: str) -> str:
        if self.mode == "off" or not text:
            return text
        if text[:1] in "{[":
            try:
                value = json.loads(text)
            except ValueError:
                pass
            else:
                return json.dumps(self.redact_obj(value), ensure_ascii=False, separators=(",", ":"))
        return redact(text, self.mode, self.key, self.types)

    def redact_obj(self, value: Any) -> Any:
        if self.mode == "off":
            return value
        return redact_value(value, self.mode, self.key, types=self.types)


@dataclass(frozen=True)
class RedactStep:
    """An ingest step (ingest/prepare.py): capture what the scanner needs in ``batch.notes[note]``,
    then redact the batch with ``privacy``. Picklable, so it runs in an ingest worker as well."""

    privacy: Privacy
    note: str = "security_originals"

    def __call__(self, batch: Any) -> None:
        if not batch.rows or batch.kind == "security_events":
            return
        if batch.kind in ("predictions", "spans"):
            try:
                batch.notes[self.note] = originals(batch)
            except Exception:  # scanning is best effort; redaction below is not
                _log.warning("security: could not capture %s for scanning", batch.kind, exc_info=True)
        redact_batch(batch, self.privacy)


def redact_batch(batch: Any, privacy: Privacy, text_columns: tuple[str, ...] | None = None) -> int:
    """Redact every free-text column of ``batch`` in place; returns how many values changed."""
    if privacy.mode == "off" or not batch.rows:
        return 0
    changed = 0
    for name, col in batch.columns.items():
        if name in _KEEP or (text_columns is not None and name not in text_columns):
            continue
        texts = [v for v in col if type(v) is str and len(v) >= 5]
        if not texts:
            continue
        joined = "\x00".join(texts)
        # One pass over the whole column first: clean tabular features skip the per-value work.
        if " " not in joined and not may_hold_pii(joined):
            continue
        for i, v in enumerate(col):
            if isinstance(v, str) and len(v) >= 5 and not _plain_number(v) and may_hold_pii(v):
                new = privacy.redact_text(v)
                if new != v:
                    col[i] = new
                    changed += 1
    return changed


# A value can only hold something redact() finds if this cheap scan sees one of its ingredients:
# an '@', a run of digits, a secret's literal prefix, an IBAN/NINO shape, or free text (three or more
# words, where names and addresses are looked for). Compact JSON of tabular features ({"plan":"pro",
# "amount":42.5}) has none of these and skips the (much slower) full scan.
_DIGITISH = re.compile(r"\d[\d ().+/-]{5,}\d|\d\.\d{1,3}\.\d{1,3}\.\d")
_HEX_GROUPS = re.compile(r"[0-9a-f]{1,4}:[0-9a-f]{0,4}:[0-9a-f]{0,4}")
_NEEDLES = ("-----begin", "akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "ghp_", "gho_", "ghu_",
            "ghs_", "ghr_", "github_pat_", "sk-", "xox", "hooks.slack",
            "_live_", "_test_", "aiza", "eyj", "aws", "bearer", "key", "secret", "token", "pass", "pwd")


def may_hold_pii(text: str) -> bool:
    """False only when ``text`` certainly holds nothing that redaction would rewrite."""
    if "@" in text or text.count(" ") >= 2:
        return True
    low = text.lower()
    if any(n in low for n in _NEEDLES):
        return True
    if _DIGITISH.search(text) is not None:
        return True
    return "::" in text or (text.count(":") >= 2 and _HEX_GROUPS.search(low) is not None and "\"" not in text)


def _plain_number(v: str) -> bool:
    return len(v) < 7 and v.replace(".", "", 1).replace("-", "", 1).isdigit()


def originals(batch: Any) -> list[dict[str, Any]]:
    """What ``scan_batch`` needs from a batch, captured before redaction rewrites it."""
    c = batch.columns
    n = batch.rows
    out: list[dict[str, Any]] = []
    if batch.kind == "predictions":
        for i in range(n):
            raw, output = c["inputs"][i], c["output_label"][i]
            # Compact JSON has no blanks outside strings: no blank, no free text to scan.
            if (not raw or " " not in raw) and not (isinstance(output, str) and " " in output):
                continue
            prompt = _texts(raw)
            if len(prompt) >= _MIN_SCAN or isinstance(output, str) and len(output) >= _MIN_SCAN:
                out.append({"source": "predictions", "project": c["project"][i], "request_id": c["request_id"][i],
                            "trace_id": c["trace_id"][i], "model": c["model"][i], "ts": c["ts"][i],
                            "input": prompt, "output": output if isinstance(output, str) else ""})
    elif batch.kind == "spans":
        for i in range(n):
            kind = c["kind"][i]
            details = c["details"][i] if "details" in c else None
            docs, tool_result = _span_context(details)
            item = {"source": "spans", "project": c["project"][i], "request_id": c.get("request_id", [None] * n)[i],
                    "trace_id": c["trace_id"][i], "span_id": c["span_id"][i], "model": c.get("model", [None] * n)[i],
                    "ts": c["ts"][i], "kind": kind, "docs": docs, "tool_result": tool_result,
                    "input": (c["input"][i] or "") if kind in _PROMPT_KINDS else "",
                    "output": (c["output"][i] or "") if kind == "llm" else ""}
            if item["input"] or item["output"] or docs or tool_result:
                out.append(item)
    return out


def _texts(inputs_json: str | None) -> str:
    """The string values of a prediction's inputs (an LLM app logs its prompt or messages there)."""
    if not inputs_json:
        return ""
    try:
        value = json.loads(inputs_json)
    except ValueError:
        return inputs_json
    parts: list[str] = []
    _collect(value, parts, 0)
    return "\n".join(parts)


def _collect(v: Any, parts: list[str], depth: int) -> None:
    if depth > 8:
        return
    if isinstance(v, str):
        if len(v) >= _MIN_SCAN or " " in v:
            parts.append(v)
    elif isinstance(v, dict):
        for x in v.values():
            _collect(x, parts, depth + 1)
    elif isinstance(v, list):
        for x in v:
            _collect(x, parts, depth + 1)


def _span_context(details: str | None) -> tuple[list[str], str]:
    if not details:
        return [], ""
    try:
        d = json.loads(details)
    except ValueError:
        return [], ""
    if not isinstance(d, dict):
        return [], ""
    docs = []
    for doc in d.get("documents") or ():
        if isinstance(doc, dict):
            text = doc.get("content") or doc.get("text")
            if isinstance(text, str) and text:
                docs.append(text)
    tool = d.get("tool") if isinstance(d.get("tool"), dict) else {}
    result = tool.get("result") if tool else None
    if result is not None and not isinstance(result, str):
        result = json.dumps(result, ensure_ascii=False)
    return docs, result or ""


def scan_batch(items: list[dict[str, Any]], received_us: int | None = None) -> list[SecurityEvent | dict]:
    """Security events for the captured texts of one batch, as rows ready for ``event_columns``."""
    rows: list[dict[str, Any]] = []
    received = received_us if received_us is not None else int(time.time() * 1_000_000)
    for it in items:
        verdicts: list[tuple[Verdict, str, dict]] = []
        if it.get("input"):
            verdicts.append((check_input(it["input"]), "input", {}))
        if it.get("output"):
            verdicts.append((check_output(it["output"], prompt=it.get("input") or None), "output", {}))
        for j, doc in enumerate(it.get("docs") or ()):
            det = scan_context(doc, source="retrieval")
            if det.flagged:
                verdicts.append((_context_verdict(det), "retrieval", {"document": j}))
        if it.get("tool_result"):
            det = scan_context(it["tool_result"], source="tool")
            if det.flagged:
                verdicts.append((_context_verdict(det), "tool_result", {}))
        for v, where, extra in verdicts:
            for ev in _events(v):
                ts = it.get("ts")
                rows.append({
                    "project": it["project"], "event_id": uuid.uuid4().hex, "ts": ts if ts is not None else received,
                    "received_at": received, "type": ev.type, "detector": ev.detector, "severity": ev.severity,
                    "score": ev.score, "action": "detected", "source": f"{it['source']}.{where}",
                    "evidence": ev.evidence, "request_id": it.get("request_id"), "trace_id": it.get("trace_id"),
                    "span_id": it.get("span_id"), "tenant": None, "model": it.get("model"),
                    "details": json.dumps({"categories": v.categories, **extra, **_hits(v)}, ensure_ascii=False),
                })
    return rows


def _context_verdict(det) -> Verdict:
    cats = sorted(c for c, s in det.categories.items() if s >= 0.45) or ["injection"]
    return Verdict(flagged=True, categories=cats, score=det.score,
                   detectors={"context": {"score": det.score, "hits": sorted({h.name for h in det.hits})}},
                   evidence=safe_evidence(det.evidence()))


def _events(v: Verdict) -> list[SecurityEvent]:
    """Events worth logging: attacks, leaks, secrets, and structured PII (not every capitalised word)."""
    if not v.categories:
        return []
    structured = any(p["type"] in _STRUCTURED for p in v.pii)
    keep = [c for c in v.categories if c != "pii" or structured]
    if not keep:
        return []
    v2 = Verdict(flagged=v.flagged, categories=keep, score=v.score, detectors=v.detectors, evidence=v.evidence, pii=v.pii)
    return events_from_verdict(v2)


def _hits(v: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("input", "context"):
        d = v.detectors.get(key)
        if isinstance(d, dict) and d.get("hits"):
            out["hits"] = d["hits"]
    pii = v.detectors.get("pii")
    if isinstance(pii, dict) and pii.get("types"):
        out["pii_types"] = pii["types"]
    return out


def event_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows -> the column lists of a ``security_events`` Batch."""
    return {name: [r.get(name) for r in rows] for name in EVENT_COLUMNS}
