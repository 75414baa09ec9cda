"""What an eval suite runs against: an OpenAI-compatible chat URL or a Python callable.

``make_target(spec, suite)`` returns ``call(prompt, context) -> {"output", "latency_ms", "cost",
"input_tokens", "output_tokens", "error"}``.

* ``http://host/v1`` or ``.../v1/chat/completions``: POST ``{"model", "messages"}`` with urllib (no
  openai package needed); the key comes from ``OPENAI_API_KEY`` or ``WATCHKEEPER_EVAL_API_KEY``.
  Messages: the suite's ``system`` prompt, then ``Context:\\n...`` (when the case has context) as a
  system message, then the case input as the user message.
* ``package.module:function``: called as ``fn(prompt)`` or ``fn(prompt, context)``; it returns the
  answer text, or a dict with ``output`` (or ``text``) and optionally ``cost``, ``input_tokens``,
  ``output_tokens``.

Cost: the target's own figure, else tokens x the suite's ``price`` (``input_per_1k``,
``output_per_1k``), else unknown.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Callable


class TargetError(Exception):
    """The target spec cannot be used (bad module path, not callable)."""


def _price(suite: dict, input_tokens: int | None, output_tokens: int | None) -> float | None:
    price = suite.get("price") or {}
    if not price or input_tokens is None:
        return None
    return (input_tokens * float(price.get("input_per_1k", 0)) + (output_tokens or 0) * float(price.get("output_per_1k", 0))) / 1000


def _http(url: str, suite: dict, timeout: float) -> Callable[[str, str | None], dict]:
    endpoint = url.rstrip("/")
    if not endpoint.endswith("/chat/completions"):
        endpoint += "/chat/completions"
    key = os.environ.get("WATCHKEEPER_EVAL_API_KEY") or os.environ.get("OPENAI_API_KEY")

    def call(prompt: str, context: str | None) -> dict:
        messages = []
        if suite.get("system"):
            messages.append({"role": "system", "content": suite["system"]})
        if context:
            messages.append({"role": "system", "content": f"Context:\n{context}"})
        messages.append({"role": "user", "content": prompt})
        body = {"model": suite.get("model", "default"), "messages": messages, **(suite.get("params") or {})}
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(endpoint, data=json.dumps(body).encode(), headers=headers, method="POST")
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return {"output": "", "error": f"HTTP {exc.code} from {endpoint}",
                    "latency_ms": (time.perf_counter() - start) * 1000}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return {"output": "", "error": f"{endpoint}: {exc}", "latency_ms": (time.perf_counter() - start) * 1000}
        latency = (time.perf_counter() - start) * 1000
        try:
            text = doc["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            return {"output": "", "error": "the reply has no choices[0].message.content", "latency_ms": latency}
        usage = doc.get("usage") or {}
        tin, tout = usage.get("prompt_tokens"), usage.get("completion_tokens")
        return {"output": text, "latency_ms": latency, "input_tokens": tin, "output_tokens": tout,
                "cost": _price(suite, tin, tout)}

    return call


def _callable(spec: str, suite: dict) -> Callable[[str, str | None], dict]:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise TargetError(f"{spec!r}: {module_name} has no callable {attr!r}")
    try:
        takes_context = len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        takes_context = False

    def call(prompt: str, context: str | None) -> dict:
        start = time.perf_counter()
        try:
            out = fn(prompt, context) if takes_context else fn(prompt)
        except Exception as exc:  # the target's failure is the case's failure, not the runner's
            return {"output": "", "error": f"{type(exc).__name__}: {exc}", "latency_ms": (time.perf_counter() - start) * 1000}
        latency = (time.perf_counter() - start) * 1000
        if isinstance(out, dict):
            text = out.get("output", out.get("text", ""))
            tin, tout = out.get("input_tokens"), out.get("output_tokens")
            cost = out.get("cost")
            return {"output": str(text or ""), "latency_ms": latency, "input_tokens": tin, "output_tokens": tout,
                    "cost": float(cost) if cost is not None else _price(suite, tin, tout)}
        return {"output": "" if out is None else str(out), "latency_ms": latency, "cost": None}

    return call


def make_target(spec: str, suite: dict, timeout: float = 60.0) -> Callable[[str, str | None], dict]:
    if spec.startswith(("http://", "https://")):
        return _http(spec, suite, timeout)
    if ":" in spec and not spec.startswith(":") and not spec.endswith(":"):
        return _callable(spec, suite)
    raise TargetError(f"target {spec!r} is neither an http(s) URL nor module:function")


def describe(spec: str) -> str:
    return spec if not spec.startswith("http") else spec.split("?")[0]


__all__ = ["TargetError", "make_target", "describe", "Any"]
