"""Output-side checks: system-prompt leakage, canaries, and signs that an injection worked.

* A *canary* is a random token placed in the system prompt (``make_canary()``); if it shows up in
  a response the prompt leaked. ``register_canary`` keeps app-wide canaries so callers need not
  pass them on every call.
* ``prompt_overlap`` catches verbatim leakage of a known system prompt without canaries: any run
  of eight consecutive words of the prompt found in the response.
* *Injection acceptance*: an action string the attacker asked for ("Haha pwned!") appears in the
  response, or the model called a tool the policy forbids for this request.
"""

from __future__ import annotations

import re
import secrets
import threading
import unicodedata
from typing import Any, Iterable

__all__ = [
    "make_canary", "register_canary", "unregister_canary", "registered_canaries",
    "find_canaries", "prompt_overlap", "accepted_injection", "forbidden_calls",
]

_lock = threading.Lock()
_canaries: set[str] = set()
_SHINGLE = 8
_WORD = re.compile(r"\w+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def make_canary(prefix: str = "wk") -> str:
    """A fresh random token to embed in a system prompt, e.g. ``wk-canary-3f9a1c7e5b2d``."""
    return f"{prefix}-canary-{secrets.token_hex(6)}"


def register_canary(token: str) -> None:
    """Remember ``token`` so every ``check_output`` call looks for it."""
    if not isinstance(token, str) or len(token) < 6:
        raise ValueError(f"canary {token!r} is too short; use make_canary() or at least 6 characters.")
    with _lock:
        _canaries.add(token)


def unregister_canary(token: str) -> None:
    with _lock:
        _canaries.discard(token)


def registered_canaries() -> frozenset[str]:
    with _lock:
        return frozenset(_canaries)


def _fold(s: str) -> str:
    return unicodedata.normalize("NFKC", s).translate(_INVISIBLE).casefold()


def find_canaries(text: str, canaries: Iterable[str] = ()) -> list[str]:
    """Canaries (passed or registered) that appear in ``text``, also with spacing or case games."""
    if not text:
        return []
    pool = set(canaries) | registered_canaries()
    if not pool:
        return []
    folded = _fold(text)
    squeezed = re.sub(r"[\s\-_.]", "", folded)
    out = []
    for c in pool:
        fc = _fold(c)
        if c in text or fc in folded or re.sub(r"[\s\-_.]", "", fc) in squeezed:
            out.append(c)
    return sorted(out)


def prompt_overlap(response: str, system_prompt: str, shingle: int = _SHINGLE) -> float:
    """Share of the system prompt's word ``shingle``-grams that appear in the response (0..1)."""
    if not response or not system_prompt:
        return 0.0
    p = [w.casefold() for w in _WORD.findall(system_prompt)]
    r = [w.casefold() for w in _WORD.findall(response)]
    if len(p) < shingle or len(r) < shingle:
        short = " ".join(p)
        return 1.0 if len(p) >= 4 and short in " ".join(r) else 0.0
    grams = {tuple(p[i:i + shingle]) for i in range(len(p) - shingle + 1)}
    seen = {tuple(r[i:i + shingle]) for i in range(len(r) - shingle + 1)}
    return len(grams & seen) / len(grams)


def accepted_injection(response: str, actions: Iterable[str]) -> list[str]:
    """Attacker action strings (e.g. ``"Haha pwned!"``) that the response repeats."""
    if not response:
        return []
    folded = _fold(response)
    return [a for a in actions if a and _fold(a).strip() in folded]


def forbidden_calls(tool_calls: Iterable[Any] | None, forbidden: Iterable[str] = (),
                    allowed: Iterable[str] | None = None) -> list[str]:
    """Names of tool calls that are forbidden, or outside ``allowed`` when that is given."""
    if not tool_calls:
        return []
    deny = set(forbidden)
    allow = set(allowed) if allowed is not None else None
    out = []
    for call in tool_calls:
        name = _call_name(call)
        if name is None:
            continue
        if name in deny or (allow is not None and name not in allow):
            out.append(name)
    return out


def _call_name(call: Any) -> str | None:
    if isinstance(call, str):
        return call
    if isinstance(call, dict):
        for k in ("name", "function", "tool"):
            v = call.get(k)
            if isinstance(v, str):
                return v
            if isinstance(v, dict) and isinstance(v.get("name"), str):
                return v["name"]
    return getattr(call, "name", None)
