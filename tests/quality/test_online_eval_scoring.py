"""Online evaluation of one production trace: unsupported claims against retrieved context, refusals."""

from __future__ import annotations

import json

from watchkeeper.llm.evals_online import sampled, score_trace


def _spans(answer: str, docs: list[str] | None):
    rows = [{"span_id": "l1", "kind": "llm", "model": "gpt-x", "ts_us": 2_000, "end_us": 3_000,
             "input": "Context: " + " ".join(docs or []), "output": answer, "details": "{}"}]
    if docs is not None:
        rows.insert(0, {"span_id": "r1", "kind": "retriever", "ts_us": 1_000, "end_us": 1_500, "input": None,
                        "output": None, "details": json.dumps({"retrieved": [{"id": f"d{i}", "content": d}
                                                                             for i, d in enumerate(docs)]})})
    return rows


def test_unsupported_claims_are_counted_against_the_retrieved_documents():
    """A sentence the retrieved documents do not support counts as an unsupported claim."""
    docs = ["Returns are accepted within 30 days of delivery for a full refund."]
    scored = score_trace(_spans("Returns are accepted within 30 days of delivery. Shipping to Mars costs nothing "
                                "extra for premium members.", docs))
    assert scored["has_context"] == 1 and scored["claims"] == 2 and scored["unsupported"] == 1
    assert scored["unsupported_rate"] == 0.5 and scored["refused"] == 0 and scored["model"] == "gpt-x"


def test_refusals_and_traces_without_context():
    """A refusal is flagged; without retrieval no claim is judged; without an answer nothing is scored."""
    scored = score_trace(_spans("I'm sorry, but I can't help with that request.", None))
    assert scored["refused"] == 1 and scored["has_context"] == 0 and scored["unsupported"] is None
    assert score_trace(_spans("", ["a document"])) is None


def test_sampling_is_deterministic_and_near_the_rate():
    """The same trace id is always sampled or always not, and about the configured share is kept."""
    ids = [f"{i:032x}" for i in range(4000)]
    share = sum(sampled(t, 0.25) for t in ids) / len(ids)
    assert 0.22 < share < 0.28 and [sampled(t, 0.25) for t in ids[:50]] == [sampled(t, 0.25) for t in ids[:50]]
