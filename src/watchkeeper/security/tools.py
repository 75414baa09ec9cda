"""Tool-call anomalies for agents.

A tool call is a dict ``{"name" (or "function"), "args", "error"?, "timeout"?, "duration_ms"?, "ts"?}``.

* ``ToolPolicy`` says which tools may run, which URL domains and e-mail recipients their
  arguments may point at, and the JSON schema each tool's arguments must satisfy.
* ``SequenceBaseline.fit(benign_sequences)`` learns which tool-to-tool transitions are normal; a
  transition never seen before is reported, and a read of sensitive data followed by a send to the
  outside is reported even without a baseline.
* ``check_calls(calls, policy, baseline)`` returns :class:`ToolIssue` items; it never raises.

jsonschema is imported only when a policy has schemas (it ships with the server extra).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

__all__ = ["ToolIssue", "ToolPolicy", "SequenceBaseline", "check_calls", "call_name"]

_START, _END = "<start>", "<end>"
_URL = re.compile(r"https?://[^\s'\"<>]+|\bwww\.[^\s'\"<>]+", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_READ_SENSITIVE = re.compile(r"(?:read|get|list|search|fetch|download|open|query)\w*_?(?:\w+_)*(?:email|inbox|message|file|secret|password|credential|key|token|contact|document|channel|drive)s?", re.I)
_SEND_EXTERNAL = re.compile(r"(?:send|post|share|upload|forward|email|invite|publish|transfer|webhook|http)", re.I)


@dataclass(frozen=True)
class ToolIssue:
    """One anomaly in a tool call or sequence."""

    kind: str        # schema | error | timeout | not_allowed | resource | unseen_transition | exfil_flow | loop | burst
    tool: str
    index: int
    detail: str
    severity: str = "medium"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "tool": self.tool, "index": self.index, "detail": self.detail, "severity": self.severity}


@dataclass
class ToolPolicy:
    """What an agent may call and where its arguments may point."""

    allowed_tools: set[str] | None = None           # None: any tool
    denied_tools: set[str] = field(default_factory=set)
    allowed_domains: set[str] | None = None          # URL hosts (suffix match); None: any
    allowed_recipients: set[str] | None = None       # e-mail addresses or "@domain"; None: any
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_repeats: int = 3                              # identical consecutive calls before "loop"
    max_calls: int = 50                               # calls in ``window_s`` before "burst"
    window_s: float = 60.0
    timeout_ms: float | None = None                   # a duration above this counts as a timeout

    def domain_allowed(self, host: str) -> bool:
        if self.allowed_domains is None:
            return True
        host = host.lower().split(":")[0]
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def recipient_allowed(self, addr: str) -> bool:
        if self.allowed_recipients is None:
            return True
        addr = addr.lower()
        return any(addr == r or (r.startswith("@") and addr.endswith(r)) for r in self.allowed_recipients)


def call_name(call: Any) -> str:
    if isinstance(call, dict):
        v = call.get("name") or call.get("function") or call.get("tool")
        if isinstance(v, dict):
            v = v.get("name")
        return str(v) if v is not None else "?"
    return str(getattr(call, "name", call))


def _args(call: Any) -> Any:
    if isinstance(call, dict):
        a = call.get("args", call.get("arguments", {}))
        if isinstance(a, str):
            try:
                import json
                return json.loads(a)
            except ValueError:
                return a
        return a if a is not None else {}
    return getattr(call, "args", {}) or {}


@dataclass
class SequenceBaseline:
    """Transitions between tool names seen in benign sequences."""

    transitions: Counter = field(default_factory=Counter)
    tools: set[str] = field(default_factory=set)
    destinations: Counter = field(default_factory=Counter)  # e-mail addresses and URL hosts benign runs sent to

    @classmethod
    def fit(cls, sequences: Iterable[Sequence[Any]]) -> "SequenceBaseline":
        b = cls()
        for seq in sequences:
            b.update(seq)
        return b

    def update(self, seq: Sequence[Any]) -> None:
        names = [_START] + [call_name(c) for c in seq] + [_END]
        self.tools.update(names[1:-1])
        for a, c in zip(names, names[1:]):
            self.transitions[(a, c)] += 1
        for call in seq:
            self.destinations.update(_destinations(_args(call)))

    def unseen(self, seq: Sequence[Any]) -> list[tuple[int, str, str]]:
        """(index, from, to) for every transition absent from the baseline (ignoring self-loops)."""
        names = [_START] + [call_name(c) for c in seq] + [_END]
        return [(i, a, c) for i, (a, c) in enumerate(zip(names, names[1:]))
                if a != c and (a, c) not in self.transitions]

    def to_dict(self) -> dict[str, Any]:
        return {"transitions": [[a, c, n] for (a, c), n in sorted(self.transitions.items())], "tools": sorted(self.tools),
                "destinations": dict(sorted(self.destinations.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SequenceBaseline":
        b = cls()
        for a, c, n in data.get("transitions", []):
            b.transitions[(a, c)] = int(n)
        b.tools = set(data.get("tools", []))
        b.destinations = Counter({str(k): int(v) for k, v in (data.get("destinations") or {}).items()})
        return b


def check_calls(calls: Sequence[Any], policy: ToolPolicy | None = None,
                baseline: SequenceBaseline | None = None) -> list[ToolIssue]:
    """Every anomaly in one agent run's tool calls, in call order."""
    try:
        return _check(list(calls or []), policy or ToolPolicy(), baseline)
    except Exception as exc:  # never break the agent loop
        return [ToolIssue("checker_error", "?", -1, f"{type(exc).__name__}: {exc}", "low")]


def _check(calls: list[Any], policy: ToolPolicy, baseline: SequenceBaseline | None) -> list[ToolIssue]:
    issues: list[ToolIssue] = []
    for i, call in enumerate(calls):
        name = call_name(call)
        issues.extend(_check_one(i, name, call, policy))
    names = [call_name(c) for c in calls]
    if baseline is not None and baseline.transitions:
        for i, a, c in baseline.unseen(calls):
            tool = c if c != _END else a
            sev = "medium" if (c not in baseline.tools and c != _END) else "low"
            issues.append(ToolIssue("unseen_transition", tool, min(i, len(calls) - 1), f"{a} -> {c} never seen in baseline", sev))
    issues.extend(_flows(calls, names, policy, baseline))
    run = 1
    for i in range(1, len(calls)):
        same = names[i] == names[i - 1] and _args(calls[i]) == _args(calls[i - 1])
        run = run + 1 if same else 1
        if run == policy.max_repeats + 1:
            issues.append(ToolIssue("loop", names[i], i, f"{names[i]} called {run} times in a row with the same arguments", "medium"))
    stamps = [c.get("ts") for c in calls if isinstance(c, dict) and isinstance(c.get("ts"), (int, float))]
    if len(calls) > policy.max_calls and (len(stamps) < len(calls) or stamps[-1] - stamps[0] <= policy.window_s):
        issues.append(ToolIssue("burst", names[-1], len(calls) - 1, f"{len(calls)} calls within {policy.window_s:g}s", "medium"))
    return issues


def _flows(calls: list[Any], names: list[str], policy: ToolPolicy,
           baseline: SequenceBaseline | None) -> list[ToolIssue]:
    """Sensitive read -> outward send, judged on what flows and where it goes, not on tool names alone.

    A send after a read of sensitive data is an ``exfil_flow`` (high) when the send's arguments
    carry text the read returned (a ``result``/``output`` field), or when it points at a recipient
    or host outside the policy's allow-lists, or (with no allow-list) at one that the benign
    baseline never sent to. A send to an unseen destination without a prior read is ``new_destination``.
    """
    out: list[ToolIssue] = []
    reads: list[int] = []
    known = baseline.destinations if baseline is not None else None
    for i, n in enumerate(names):
        if _READ_SENSITIVE.search(n) and not _SEND_EXTERNAL.match(n):
            reads.append(i)
            continue
        if not _SEND_EXTERNAL.search(n):
            continue
        args = _args(calls[i])
        dests = _destinations(args)
        if policy.allowed_domains is not None or policy.allowed_recipients is not None:
            outside = [d for d in _destinations(args, group=False)
                       if not (policy.recipient_allowed(d) if "@" in d else policy.domain_allowed(d))]
        elif known:
            outside = [d for d in dests if d not in known]
        else:
            outside = []
        carried = next((j for j in reversed(reads) if _carries(args, _result(calls[j]))), None)
        if carried is not None and (dests or outside):
            out.append(ToolIssue("exfil_flow", n, i, f"{n} sends data returned by {names[carried]} to {', '.join(dests[:3])}", "high"))
        elif reads and outside:
            out.append(ToolIssue("exfil_flow", n, i, f"{names[reads[-1]]} then {n} to {', '.join(outside[:3])} (outside the usual destinations)", "high"))
        elif outside:
            out.append(ToolIssue("new_destination", n, i, f"{n} to {', '.join(outside[:3])}, never seen before", "medium"))
        elif reads and dests and not known and policy.allowed_domains is None and policy.allowed_recipients is None:
            # nothing to compare with: worth a look, not an alarm
            out.append(ToolIssue("exfil_flow", n, i, f"{names[reads[-1]]} then {n} to {', '.join(dests[:3])}", "medium"))
    return out


_FREEMAIL = frozenset("gmail.com googlemail.com yahoo.com outlook.com hotmail.com live.com icloud.com me.com aol.com "
                      "proton.me protonmail.com gmx.com gmx.de mail.com yandex.com yandex.ru qq.com 163.com web.de".split())


def _destinations(args: Any, group: bool = True) -> list[str]:
    """Where a call points: URL hosts, and e-mail recipients (a whole organisation's domain as "@domain")."""
    hosts = [(urlparse(u if "://" in u else "http://" + u).hostname or "").lower().rstrip(".")
             for u in (x.rstrip(".,;:!?)]}'\"") for x in _strings(args, _URL))]
    mails = set()
    for m in _strings(args, _EMAIL):
        m = m.lower()
        domain = m.rsplit("@", 1)[-1]
        mails.add(m if domain in _FREEMAIL or not group else "@" + domain)
    return sorted({h for h in hosts if h} | mails)


def _result(call: Any) -> Any:
    if isinstance(call, dict):
        for k in ("result", "output", "response", "return"):
            if call.get(k) is not None:
                return call[k]
    return None


_CHUNK = re.compile(r"[^\s\"',.;:]{6,}|\d{4,}")


def _carries(args: Any, result: Any) -> bool:
    """True when a distinctive token (6+ characters, or 4+ digits) of ``result`` appears in ``args``."""
    if result is None:
        return False
    got = " ".join(_strings(result, _ANY))
    sent = " ".join(_strings(args, _ANY))
    if not got or not sent:
        return False
    tokens = {t for t in _CHUNK.findall(got) if not t.isalpha() or len(t) >= 10}
    return any(t in sent for t in tokens)


_ANY = re.compile(r"[\s\S]+")


def _check_one(i: int, name: str, call: Any, policy: ToolPolicy) -> list[ToolIssue]:
    out: list[ToolIssue] = []
    if name in policy.denied_tools or (policy.allowed_tools is not None and name not in policy.allowed_tools):
        out.append(ToolIssue("not_allowed", name, i, f"{name} is not in the allow-list", "high"))
    if isinstance(call, dict):
        if call.get("error"):
            out.append(ToolIssue("error", name, i, str(call["error"])[:200], "low"))
        dur = call.get("duration_ms")
        if call.get("timeout") or (policy.timeout_ms is not None and isinstance(dur, (int, float)) and dur > policy.timeout_ms):
            out.append(ToolIssue("timeout", name, i, f"took {dur} ms" if dur is not None else "timed out", "low"))
    args = _args(call)
    schema = policy.schemas.get(name)
    if schema is not None:
        out.extend(_schema_issues(i, name, args, schema))
    for url in _strings(args, _URL):
        host = urlparse(url if "://" in url else "http://" + url).hostname or ""
        if not policy.domain_allowed(host):
            out.append(ToolIssue("resource", name, i, f"URL host {host!r} is outside the allowed domains", "high"))
    for addr in _strings(args, _EMAIL):
        if not policy.recipient_allowed(addr):
            out.append(ToolIssue("resource", name, i, f"recipient {addr!r} is outside the allowed recipients", "high"))
    return out


def _schema_issues(i: int, name: str, args: Any, schema: dict[str, Any]) -> list[ToolIssue]:
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema ships with the server extra
        return [ToolIssue("schema_unchecked", name, i, "jsonschema is not installed: pip install 'watchkeeper[server]'", "low")]
    validator = jsonschema.Draft202012Validator(schema)
    return [ToolIssue("schema", name, i, f"{'/'.join(map(str, e.absolute_path)) or '<args>'}: {e.message}"[:300], "medium")
            for e in validator.iter_errors(args)]


def _strings(obj: Any, pat: re.Pattern[str], depth: int = 0) -> list[str]:
    if depth > 16:
        return []
    if isinstance(obj, str):
        return pat.findall(obj)
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v, pat, depth + 1)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v, pat, depth + 1)]
    return []


def _points_outside(args: Any, policy: ToolPolicy) -> bool:
    urls = _strings(args, _URL)
    mails = _strings(args, _EMAIL)
    if policy.allowed_domains is None and policy.allowed_recipients is None:
        return bool(urls or mails)
    hosts = [urlparse(u if "://" in u else "http://" + u).hostname or "" for u in urls]
    return any(not policy.domain_allowed(h) for h in hosts) or any(not policy.recipient_allowed(m) for m in mails)
