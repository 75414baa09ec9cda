"""A customer-support RAG agent in production, traced through the real SDK and OTLP exporter.

Each request retrieves from a small knowledge base (sometimes slowly), sometimes reranks, calls a
tool (which sometimes fails, times out or gets arguments that break its registered schema),
sometimes retrieves again mid-generation, and streams its answer token by token: usually fast,
sometimes with a slow first token (a prompt problem) or a decoder that slows down half-way (a
generation problem). One answer in six adds a claim no document supports. A canary prompt
version serves a fifth of the traffic, so "which versions served this?" has two answers.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.request
import uuid
from types import SimpleNamespace

from .. import llm
from ..sdk import tracing
from ..sdk.tracing import span, trace

MODEL = "support-llm-8b"
KB = [
    ("kb-refunds", "Refunds are issued within 30 days of purchase to the original payment method.", "help/refunds.md"),
    ("kb-shipping", "Standard shipping takes five business days; express shipping takes two.", "help/shipping.md"),
    ("kb-giftcards", "Gift cards never expire and cannot be exchanged for cash.", "help/giftcards.md"),
    ("kb-warranty", "Electronics carry a one-year warranty covering manufacturing defects.", "help/warranty.md"),
    ("kb-returns", "Items can be returned unused in their original packaging within 30 days.", "help/returns.md"),
]
QUESTIONS = ["How long do refunds take?", "When will my order arrive?", "Do gift cards expire?",
             "Is my laptop under warranty?", "Can I return opened headphones?"]
UNSUPPORTED = " As a thank-you, every customer also receives a free blender with their next order."
TOOL_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}


def _register_schema(endpoint: str) -> None:
    req = urllib.request.Request(endpoint.rstrip("/") + "/api/v1/tools/lookup_order/schema",
                                 data=json.dumps(TOOL_SCHEMA).encode(), method="PUT",
                                 headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except Exception:
        pass


def _tokens(text: str, rng: random.Random, ttft: float, gap: float, slow_after: int | None, agent_lookup):
    words = text.replace(" ", " \x00").split("\x00")
    time.sleep(ttft)
    for i, word in enumerate(words):
        if i:
            time.sleep(gap * (4.0 if slow_after is not None and i > slow_after else 1.0) * rng.uniform(0.7, 1.3))
        if agent_lookup is not None and i == 5:
            agent_lookup()
        yield word


def _request(rng: random.Random) -> None:
    q = rng.randrange(len(QUESTIONS))
    prompt_version = "v13-canary" if rng.random() < 0.2 else "v12"
    with trace("support answer", request_id=uuid.uuid4().hex[:16], model_id=f"{MODEL}@7", prompt_version=prompt_version,
               index_version="kb-2026-08", policy_version="p3", input=QUESTIONS[q]) as root:
        ranked = sorted(range(len(KB)), key=lambda i: (i != q, rng.random()))[:4]
        docs = [{"id": KB[i][0], "content": KB[i][1], "source": KB[i][2], "score": round(0.9 - 0.15 * r + rng.uniform(-0.05, 0.05), 3)}
                for r, i in enumerate(ranked)]
        with span("vector search", kind="retriever", query=QUESTIONS[q], top_k=4, filters={"lang": "en"},
                  index_version="kb-2026-08", documents=docs):
            time.sleep(rng.uniform(0.5, 1.2) if rng.random() < 0.1 else rng.uniform(0.01, 0.05))
        if rng.random() < 0.5:
            with span("rerank", kind="reranker", documents=docs[:2], **{"reranker.model_name": "ms-marco-mini", "reranker.top_k": 2}):
                time.sleep(rng.uniform(0.005, 0.02))
        roll = rng.random()
        args = {"order_id": "A-1007"} if roll < 0.07 else {"order_id": rng.randint(1000, 9999)}
        try:
            with span("lookup_order", kind="tool", tool="lookup_order", arguments=args, side_effect=False,
                      retries=1 if 0.07 <= roll < 0.15 else 0) as tool:
                time.sleep(rng.uniform(0.01, 0.06))
                if 0.15 <= roll < 0.22:
                    raise TimeoutError("order service did not answer within 2 s")
                if 0.22 <= roll < 0.3:
                    raise LookupError("order not found")
                tool.set(result={"status": "shipped", "eta_days": rng.randint(1, 5)})
        except (TimeoutError, LookupError):
            pass
        answer = KB[q][1] + (UNSUPPORTED if rng.random() < 1 / 6 else "")
        prompt = "Answer from the context.\n" + "\n".join(d["content"] for d in docs[:2]) + "\nQ: " + QUESTIONS[q]
        slow_prompt = rng.random() < 0.1
        ttft = rng.uniform(1.5, 3.0) if slow_prompt else rng.uniform(0.12, 0.35)
        slow_after = rng.randint(6, 10) if (not slow_prompt and rng.random() < 0.12) else None

        def mid_lookup():
            with span("policy lookup", kind="retriever", query="refund exceptions", documents=[
                    {"id": "kb-returns", "content": KB[4][1], "score": 0.71, "source": KB[4][2]}]):
                time.sleep(0.03)

        agent = mid_lookup if rng.random() < 0.15 else None
        stream = llm.stream(_tokens(answer, rng, ttft, rng.uniform(0.015, 0.04), slow_after, agent), model=MODEL,
                            prompt_tokens=len(prompt.split()) * 4 // 3, input=prompt, prompt_version=prompt_version,
                            provider="self-hosted")
        text = "".join(stream)
        root.set(output=text, output_meta={"answer_chars": len(text), "language": "en", "cited": [d["id"] for d in docs[:2]]})


def start(endpoint: str, stop: threading.Event) -> threading.Thread:
    os.environ.setdefault("OTEL_SERVICE_NAME", "support-bot")  # the resource's service.name (default: unknown_service)
    tracing.configure(SimpleNamespace(endpoint=endpoint, project="default", api_key=None, timeout=10.0, disabled=False))
    _register_schema(endpoint)

    def run(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            try:
                _request(rng)
            except Exception:  # a demo never dies on one bad request
                time.sleep(1.0)
            stop.wait(rng.uniform(0.2, 1.0))
        tracing.flush(5.0)

    threads = [threading.Thread(target=run, args=(seed,), name=f"demo-llm-agent-{seed}", daemon=True) for seed in (1, 2)]
    for t in threads:
        t.start()
    return threads[0]
