"""Read GenAI meaning out of span attributes, whatever convention wrote them.

OpenTelemetry GenAI (``gen_ai.*``, the current names and the deprecated ones), OpenInference
(``openinference.span.kind``, ``llm.*``, flattened ``retrieval.documents.N.document.*``),
OpenLLMetry/Traceloop (``llm.request.type``, ``gen_ai.prompt.N.*``) and our own SDK
(``watchkeeper.*``) all map onto one vocabulary here. Each reader takes the attribute dict and
returns a plain value; ``SpanBuilder`` calls them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

KINDS = ("llm", "retriever", "reranker", "embedding", "tool", "agent", "chain", "guardrail", "evaluator", "other")

_OPENINFERENCE_KINDS = {
    "LLM": "llm", "RETRIEVER": "retriever", "RERANKER": "reranker", "EMBEDDING": "embedding", "TOOL": "tool",
    "AGENT": "agent", "CHAIN": "chain", "GUARDRAIL": "guardrail", "EVALUATOR": "evaluator", "PROMPT": "chain",
}
_GENAI_OPERATIONS = {
    "chat": "llm", "text_completion": "llm", "generate_content": "llm", "completion": "llm",
    "embeddings": "embedding", "retrieval": "retriever", "execute_tool": "tool",
    "create_agent": "agent", "invoke_agent": "agent", "plan": "agent", "invoke_workflow": "chain",
    "rerank": "reranker",
}
_TRACELOOP_KINDS = {"workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool"}

# (new name first) -> the first one present wins
MODEL = ("gen_ai.response.model", "llm.model_name", "gen_ai.request.model", "llm.request.model_name",
         "llm.response.model", "llm.request.model", "embedding.model_name", "reranker.model_name")
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
                "llm.usage.prompt_tokens")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
                 "llm.usage.completion_tokens")
COST = ("llm.cost.total", "gen_ai.usage.cost", "watchkeeper.cost")
PROMPT_TEMPLATE = ("llm.prompt_template.template", "gen_ai.prompt.template", "watchkeeper.prompt_template")
PROMPT_VERSION = ("watchkeeper.prompt_version", "llm.prompt_template.version", "gen_ai.prompt.version",
                  "traceloop.prompt.version")
REQUEST_ID = ("watchkeeper.request_id", "request.id", "http.request.id")
MODEL_ID = ("watchkeeper.model_id", "watchkeeper.model_version")
INDEX_VERSION = ("watchkeeper.index_version", "retrieval.index_version", "gen_ai.data_source.version")
POLICY_VERSION = ("watchkeeper.policy_version",)
SESSION = ("session.id", "gen_ai.conversation.id")
TOOL_NAME = ("gen_ai.tool.name", "tool.name", "watchkeeper.tool.name")

# every normalised field, with the attribute names it is read from (the first one holding a value wins)
FIELDS = {"model": MODEL, "provider": PROVIDER, "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
          "cost": COST, "prompt_template": PROMPT_TEMPLATE, "prompt_version": PROMPT_VERSION, "request_id": REQUEST_ID,
          "model_id": MODEL_ID, "index_version": INDEX_VERSION, "policy_version": POLICY_VERSION, "session_id": SESSION,
          "tool_name": TOOL_NAME, "operation": ("gen_ai.operation.name", "llm.request.type")}
# SpanBuilder keeps the fields of a span in a list, by slot: the text fields first (a string of at most
# 1,024 characters is stored as sent), then the prompt template and the numbers (always converted)
FIELD_ORDER = ("model", "provider", "operation", "session_id", "tool_name", "prompt_version", "request_id", "model_id",
               "index_version", "policy_version", "prompt_template", "input_tokens", "output_tokens", "cost")
SLOT = {field: slot for slot, field in enumerate(FIELD_ORDER)}
N_FIELDS = len(FIELD_ORDER)
TEXT_SLOTS = SLOT["prompt_template"]
# attribute name -> (slot, rank): lets SpanBuilder read every field in one pass over the attributes
_FIELD_OF = {name: (SLOT[field], rank) for field, names in FIELDS.items() for rank, name in enumerate(names)}
CONTEXT_FIELDS = ("prompt_version", "request_id", "model_id", "index_version", "policy_version")


_DOC = re.compile(r"^(retrieval\.documents|reranker\.input_documents|reranker\.output_documents)\.(\d+)\.document\.(\w+)$")
_MSG = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(role|content)$")
_TL_MSG = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(role|content|finish_reason)$")


_OUTPUT_META = "watchkeeper.output."
_ROLES: dict[str, tuple | None] = {}
_MAX_ROLES = 65_536  # distinct attribute names remembered; past that they are classified every time


def key_role(key: str) -> tuple | None:
    """What one attribute name means to ``SpanBuilder``, worked out once per distinct name.

    ``("f", slot, rank)``: a normalised field (``FIELDS``, by its ``SLOT``; lower rank wins);
    ``("d", list, i, part)``: part of a flattened document (``retrieval.documents.N.document.*``);
    ``("m", side, i, part)``: part of a flattened message (``llm.input_messages.N.message.*``,
    ``gen_ai.prompt.N.*``); ``("o", name)``: output metadata (``watchkeeper.output.<name>``); None:
    nothing but an attribute to keep.
    """
    role = _ROLES.get(key, False)
    if role is not False:
        return role
    role = _classify(key)
    if len(_ROLES) < _MAX_ROLES:
        _ROLES[key] = role
    return role


def _classify(key: str) -> tuple | None:
    hit = _FIELD_OF.get(key)
    if hit is not None:
        return ("f", hit[0], hit[1])
    if key.startswith(_OUTPUT_META):
        return ("o", key[len(_OUTPUT_META):])
    c = key[:4]
    if c == "retr" or c == "rera":
        m = _DOC.match(key)
        if m:
            return ("d", m.group(1), int(m.group(2)), m.group(3))
    elif c == "llm.":
        m = _MSG.match(key)
        if m:
            return ("m", m.group(1), int(m.group(2)), m.group(3))
    elif c == "gen_":
        m = _TL_MSG.match(key)
        if m:
            return ("m", "input" if m.group(1) == "prompt" else "output", int(m.group(2)), m.group(3))
    return None


def first(attrs: dict, names: tuple[str, ...]) -> Any:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return n if -2**31 <= n < 2**31 else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def as_json(value: Any) -> Any:
    """A value that may be a JSON string (most conventions) or already structured."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def kind_of(attrs: dict) -> str:
    explicit = attrs.get("watchkeeper.span.kind")
    if isinstance(explicit, str) and explicit.lower() in KINDS:
        return explicit.lower()
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str):
        return _OPENINFERENCE_KINDS.get(oi.upper(), "other")
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str) and op in _GENAI_OPERATIONS:
        return _GENAI_OPERATIONS[op]
    tl = attrs.get("traceloop.span.kind")
    if isinstance(tl, str) and tl in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[tl]
    if attrs.get("llm.request.type") in ("chat", "completion"):
        return "llm"
    if first(attrs, TOOL_NAME) is not None:
        return "tool"
    if "gen_ai.request.model" in attrs or "llm.model_name" in attrs:
        return "llm"
    return "other"


def _document(raw: dict) -> dict:
    meta = raw.get("metadata")
    if meta is not None:
        meta = as_json(meta)
    source = raw.get("source")
    if source is None and isinstance(meta, dict):
        source = meta.get("source") or meta.get("url") or meta.get("file_name") or meta.get("title")
    doc_id, score, content = raw.get("id"), raw.get("score"), raw.get("content")
    return {"id": None if doc_id is None else str(doc_id),
            "score": score if type(score) is float and score == score and score not in _INFINITE else as_float(score),
            "content": content if content is None or type(content) is str else text(content),
            "source": source if source is None or type(source) is str else text(source),
            "metadata": meta if isinstance(meta, dict) else None}


_INFINITE = (float("inf"), float("-inf"))


_DOC_LISTS = {"retrieval.documents": "retrieved", "reranker.input_documents": "reranker_input",
              "reranker.output_documents": "reranker_output"}


def documents(attrs: dict, flat_docs: dict) -> dict[str, list[dict]]:
    """Retrieved (and reranked) documents: {"retrieved": [...], "reranker_input": [...], "reranker_output": [...]}."""
    out: dict[str, list[dict]] = {}
    for prefix, items in flat_docs.items():
        out[_DOC_LISTS[prefix]] = [_document(items[i]) for i in sorted(items)]
    structured = as_json(attrs.get("gen_ai.retrieval.documents"))
    if isinstance(structured, list) and "retrieved" not in out:
        out["retrieved"] = [_document(d) for d in structured if isinstance(d, dict)]
    return out


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # GenAI parts
        parts = [p.get("content") for p in content if isinstance(p, dict) and isinstance(p.get("content"), str)]
        return "".join(parts) if parts else None
    return None


def messages_text(attrs: dict, flat_msgs: dict, side: str) -> str | None:
    """Concatenated message contents of one side ("input" / "output"), whichever convention carried them."""
    items = flat_msgs.get(side)
    if items:
        parts = [_content_text(items[i].get("content")) for i in sorted(items)]
        joined = "\n".join(p for p in parts if p)
        if joined:
            return joined
    structured = as_json(attrs.get(f"gen_ai.{side}.messages"))
    if isinstance(structured, list):
        parts = [_content_text(m.get("parts")) or _content_text(m.get("content"))
                 for m in structured if isinstance(m, dict)]
        joined = "\n".join(p for p in parts if p)
        if joined:
            return joined
    return None


def finish_reason(attrs: dict, flat_msgs: dict) -> str | None:
    value = attrs.get("gen_ai.response.finish_reasons")
    if value is not None:
        if isinstance(value, list):
            return ",".join(str(v) for v in value) or None
        if isinstance(value, str) and value:
            return value
    value = attrs.get("llm.finish_reason")
    if value:
        return str(value)
    out = flat_msgs.get("output")
    if not out:
        return None
    reasons = [str(out[i]["finish_reason"]) for i in sorted(out) if out[i].get("finish_reason")]
    return ",".join(reasons) or None
