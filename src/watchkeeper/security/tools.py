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

    def unseen(self, seq: Sequence[Any]) -> list[tuple[int, str, str]]:
        """(index, from, to) for every transition absent from the baseline (ignoring self-loops)."""
        names = [_START] + [call_name(c) for c in seq] + [_END]
        return [(i, a, c) for i, (a, c) in enumerate(zip(names, names[1:]))
                if a != c and (a, c) not in self.transitions]

    def to_dict(self) -> dict[str, Any]:
        return {"transitions": [[a, c, n] for (a, c), n in sorted(self.transitions.items())], "tools": sorted(self.tools)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SequenceBaseline":
        b = cls()
        for a, c, n in data.get("transitions", []):
            b.transitions[(a, c)] = int(n)
        b.tools = set(data.get("tools", []))
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
    seen_read = -1
    for i, n in enumerate(names):
        if _READ_SENSITIVE.search(n) and not _SEND_EXTERNAL.match(n):
            seen_read = i
        elif seen_read >= 0 and _SEND_EXTERNAL.search(n) and _points_outside(_args(calls[i]), policy):
            issues.append(ToolIssue("exfil_flow", n, i, f"{names[seen_read]} then {n} to an outside address", "high"))
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
