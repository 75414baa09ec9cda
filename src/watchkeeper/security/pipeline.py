"""Server-side privacy and scanning of ingested batches (imported by the server only).

``Privacy`` is a project's redaction policy: ``mask`` (``[EMAIL]``), ``hash`` (``[EMAIL:<hmac>]``,
keyed per project so a value can be counted and joined without being stored), ``drop`` (removed)
or ``off``; plus an optional retention in days. ``redact_batch`` rewrites the text columns of a
``Batch`` in place before it reaches the store: JSON columns are parsed and every string inside is
redacted; identifier columns (ids, model names, timestamps) are left alone. With the default types
(no names) it runs through ``FastRedactor``: a prefilter (``piigates.may_hold_structured``) proves
most strings clean, and answers are remembered per distinct value.

``scan_batch`` takes the *original* texts of a batch (``originals``, captured before redaction)
and returns security-event rows: prompts logged as prediction inputs and LLM span inputs go
through ``check_input``, outputs through ``check_output``, retrieved documents and tool results
inside spans through ``scan_context``. Evidence in the rows is redacted.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

import orjson

from .detectors import scan_context
from .guard import SecurityEvent, Verdict, check_input, check_output, events_from_verdict, safe_evidence
from ..ingest.records import PLAIN_COLUMNS
from .pii import redact, redact_value
from .piigates import may_hold_structured

__all__ = ["Privacy", "MODES", "RedactStep", "FastRedactor", "redact_batch", "originals", "sample_rows", "scan_batch",
           "event_columns", "EVENT_COLUMNS"]

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
    quota: int | None = None  # rows to capture for scanning (a random sample); None: all of them

    def __call__(self, batch: Any) -> None:
        if not batch.rows or batch.kind == "security_events":
            return
        if batch.kind in ("predictions", "spans"):
            rows = sample_rows(batch.rows, self.quota)
            try:
                batch.notes[self.note] = originals(batch, rows)
            except Exception:  # scanning is best effort; redaction below is not
                _log.warning("security: could not capture %s for scanning", batch.kind, exc_info=True)
            if rows is not None:
                batch.notes[self.note + ".skipped"] = batch.rows - len(rows)
        redact_batch(batch, self.privacy)


def sample_rows(n: int, quota: int | None) -> list[int] | None:
    """The rows to capture for scanning: None for all ``n``, else a random sample of at most ``quota``."""
    if quota is None:
        return None
    if quota <= 0 or n <= 0:
        return []
    return sorted(random.sample(range(n), min(quota, n)))


def redact_batch(batch: Any, privacy: Privacy, text_columns: tuple[str, ...] | None = None) -> int:
    """Redact every free-text column of ``batch`` in place; returns how many values changed."""
    if privacy.mode == "off" or not batch.rows:
        return 0
    plain = batch.notes.get(PLAIN_COLUMNS, ()) if hasattr(batch, "notes") else ()
    if not privacy.names:
        return _redact_columns(batch, fast_redactor(privacy), plain, text_columns)
    changed = 0
    for col in _free_text_columns(batch, plain, text_columns):
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


def _free_text_columns(batch: Any, plain, text_columns: tuple[str, ...] | None):
    """The columns redaction looks at: not identifiers, not known-plain JSON, and among ``text_columns`` if given."""
    numeric = _numeric_columns(batch.kind)
    for name, col in batch.columns.items():
        if name in _KEEP or name in plain or name in numeric or (text_columns is not None and name not in text_columns):
            continue
        if col.count(None) != len(col):  # an all-empty column (error, extra...) costs nothing
            yield col


_NUMERIC: dict[str, frozenset[str]] = {}


def _numeric_columns(kind: str) -> frozenset[str]:
    """The columns of ``kind`` the store types as numbers or timestamps: never text in a validated batch."""
    names = _NUMERIC.get(kind)
    if names is None:
        from ..store.schema import TABLES

        names = _NUMERIC[kind] = frozenset(n for n, t in TABLES.get(kind, ()) if t in ("f64", "i32", "ts"))
    return names


def _redact_columns(batch: Any, r: "FastRedactor", plain, text_columns: tuple[str, ...] | None) -> int:
    changed = 0
    for col in _free_text_columns(batch, plain, text_columns):
        text = r.text
        for i, v in enumerate(col):
            if isinstance(v, str) and len(v) >= 5:
                new = text(v)
                if new is not v:
                    col[i] = new
                    changed += 1
    return changed


# -- fast redaction (the default types) --------------------------------------------------------
_MISS = object()
_SENSITIVE: dict[str, bool] = {}   # dict key -> does redact_value mask its value whole (``api_key``, ``password``...)


def _sensitive(key: str) -> bool:
    hit = _SENSITIVE.get(key)
    if hit is None:
        hit = redact_value({key: "x"}, "mask") != {key: "x"}  # pii.py's own rule, asked once per key
        if len(_SENSITIVE) < 65_536:
            _SENSITIVE[key] = hit
    return hit


class FastRedactor:
    """``Privacy`` redaction with the default types, fast enough for every ingested value.

    Same results as ``Privacy.redact_text`` / ``redact_value``, except that JSON text in which nothing
    needed redacting is kept as sent (not re-serialised). Three shortcuts: ``may_hold_structured``
    proves most strings clean without running the patterns; results are remembered per distinct value
    (resource attributes, model names and span names repeat in every batch); JSON is parsed with orjson
    and only written back when something changed.
    """

    MAX_CACHED = 50_000       # distinct values remembered per policy (then the memory starts over)
    MAX_CACHED_LEN = 1_024    # longer values (prompts, documents) are not remembered

    def __init__(self, privacy: Privacy):
        self.mode, self.key, self.types = privacy.mode, privacy.key, privacy.types
        self._strings: dict[str, str | None] = {}   # value -> redacted value, None: unchanged
        self._texts: dict[str, str | None] = {}

    def string(self, s: str) -> str:
        """``redact(s)``; returns ``s`` itself when nothing was found."""
        hit = self._strings.get(s, _MISS)
        if hit is not _MISS:
            return s if hit is None else hit
        out = redact(s, self.mode, self.key, self.types) if may_hold_structured(s) else s
        if len(s) <= self.MAX_CACHED_LEN:
            if len(self._strings) >= self.MAX_CACHED:
                self._strings.clear()
            self._strings[s] = None if out == s else out
        return s if out == s else out

    def value(self, obj: Any, depth: int = 0) -> Any:
        """``redact_value(obj)``; returns ``obj`` itself when nothing changed."""
        if depth > 32:
            return obj
        if isinstance(obj, str):
            return self.string(obj)
        if isinstance(obj, dict):
            out = None
            for k, v in obj.items():
                if isinstance(k, str) and isinstance(v, (str, bytes)) and v and _sensitive(k):
                    new = redact_value({k: v}, self.mode, self.key, types=self.types)[k]
                else:
                    new = self.value(v, depth + 1)
                if new is not v:
                    if out is None:
                        out = dict(obj)
                    out[k] = new
            return obj if out is None else out
        if isinstance(obj, (list, tuple)):
            items = None
            for i, v in enumerate(obj):
                new = self.value(v, depth + 1)
                if new is not v:
                    if items is None:
                        items = list(obj)
                    items[i] = new
            if items is None:
                return obj
            return items if isinstance(obj, list) else tuple(items)
        if isinstance(obj, (set, frozenset)):
            return [self.value(v, depth + 1) for v in obj]
        return obj

    def text(self, s: str) -> str:
        """``Privacy.redact_text(s)``: JSON text is redacted inside; returns ``s`` itself when unchanged."""
        if not s:
            return s
        hit = self._texts.get(s, _MISS)
        if hit is not _MISS:
            return s if hit is None else hit
        out = s
        value = _MISS
        if s[:1] in "{[":
            try:
                value = orjson.loads(s)
            except orjson.JSONDecodeError:
                try:  # NaN, integers past 64 bits...
                    value = json.loads(s)
                except ValueError:
                    value = _MISS
        if value is not _MISS:
            if self.value(value) is not value:  # rare: write it back from the stdlib's reading (exact big integers)
                out = json.dumps(self.value(json.loads(s)), ensure_ascii=False, separators=(",", ":"))
        else:
            out = self.string(s)
        if len(s) <= self.MAX_CACHED_LEN:
            if len(self._texts) >= self.MAX_CACHED:
                self._texts.clear()
            self._texts[s] = None if out is s else out
        return out


_REDACTORS: dict[Privacy, FastRedactor] = {}


def fast_redactor(privacy: Privacy) -> FastRedactor:
    """The (cached) fast redactor of a policy with the default types."""
    r = _REDACTORS.get(privacy)
    if r is None:
        if len(_REDACTORS) >= 256:
            _REDACTORS.clear()
        r = _REDACTORS[privacy] = FastRedactor(privacy)
    return r


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
    return "::" in text or ("\"" not in text and text.count(":") >= 2 and _HEX_GROUPS.search(low) is not None)


def _plain_number(v: str) -> bool:
    return len(v) < 7 and v.replace(".", "", 1).replace("-", "", 1).isdigit()


def originals(batch: Any, rows: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """What ``scan_batch`` needs from a batch (of ``rows`` only, when given), captured before redaction."""
    c = batch.columns
    n = batch.rows
    idx = range(n) if rows is None else rows
    out: list[dict[str, Any]] = []
    if batch.kind == "predictions":
        inputs, labels = c["inputs"], c["output_label"]
        for i in idx:
            raw, output = inputs[i], labels[i]
            # Compact JSON has no blanks outside strings: no blank, no free text to scan.
            if (not raw or " " not in raw) and not (isinstance(output, str) and " " in output):
                continue
            prompt = _texts(raw)
            if len(prompt) >= _MIN_SCAN or isinstance(output, str) and len(output) >= _MIN_SCAN:
                out.append({"source": "predictions", "project": c["project"][i], "request_id": c["request_id"][i],
                            "trace_id": c["trace_id"][i], "model": c["model"][i], "ts": c["ts"][i],
                            "input": prompt, "output": output if isinstance(output, str) else ""})
    elif batch.kind == "spans":
        kinds, inputs, outputs = c["kind"], c["input"], c["output"]
        details = c["details"] if "details" in c else None
        request_ids = c["request_id"] if "request_id" in c else None
        models = c["model"] if "model" in c else None
        # the builder's own details dicts of the rows with documents or a tool call (SpanBuilder.batch), when
        # the batch comes straight from it: nothing to parse again
        built = batch.objects.get("span_details") if getattr(batch, "objects", None) else None
        for i in idx:
            kind = kinds[i]
            if built is not None:
                obj = built.get(i)
                docs, tool_result = _context_of(obj) if obj is not None else ([], "")
            else:
                d = details[i] if details is not None else None
                # only a tool result or documents need the details parsed
                docs, tool_result = _span_context(d) if d and _CONTEXT_KEYS.search(d) else ([], "")
            text_in = (inputs[i] or "") if kind in _PROMPT_KINDS else ""
            text_out = (outputs[i] or "") if kind == "llm" else ""
            if text_in or text_out or docs or tool_result:
                out.append({"source": "spans", "project": c["project"][i],
                            "request_id": request_ids[i] if request_ids is not None else None,
                            "trace_id": c["trace_id"][i], "span_id": c["span_id"][i],
                            "model": models[i] if models is not None else None, "ts": c["ts"][i], "kind": kind,
                            "docs": docs, "tool_result": tool_result, "input": text_in, "output": text_out})
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


_CONTEXT_KEYS = re.compile(r'"(?:tool|retrieved|reranker_input|reranker_output|documents)"')


def _span_context(details: str | None) -> tuple[list[str], str]:
    if not details:
        return [], ""
    try:
        d = orjson.loads(details)
    except orjson.JSONDecodeError:
        try:
            d = json.loads(details)
        except ValueError:
            return [], ""
    return _context_of(d) if isinstance(d, dict) else ([], "")


def _context_of(d: dict) -> tuple[list[str], str]:
    """The distinct document texts and the tool result of one span's details."""
    docs, seen = [], set()
    # SpanBuilder stores retrieved documents under "retrieved" (and the reranker's lists); "documents" is older.
    for key in ("retrieved", "reranker_input", "reranker_output", "documents"):
        items = d.get(key)
        for doc in items if isinstance(items, list) else ():
            if isinstance(doc, dict):
                text = doc.get("content") or doc.get("text")
                if isinstance(text, str) and text and text not in seen:
                    seen.add(text)
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
        if it.get("input"):  # off the request path: names and addresses too, as before the guard's default changed
            verdicts.append((check_input(it["input"], pii="all"), "input", {}))
        if it.get("output"):
            verdicts.append((check_output(it["output"], prompt=it.get("input") or None, pii="all"), "output", {}))
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
