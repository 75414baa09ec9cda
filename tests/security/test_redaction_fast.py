"""Server-side redaction's fast path finds what the full scan finds, and only skips what it can prove clean."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.ingest.records import Batch
from watchkeeper.security import find_pii
from watchkeeper.security.pipeline import FastRedactor, Privacy, redact_batch
from watchkeeper.security.piigates import may_hold_structured

CORPUS = Path(os.environ.get("WATCHKEEPER_SECURITY_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpora" / "security"))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULT = Privacy("mask").types

# Shapes right at the prefilter's edges: every structured type and secret, with and without the
# pieces its condition looks for, plus near misses (3 digits, one ':', lower-case prefixes...).
_PIECES = ["a@b.io", "planted.person@example.com", "@", "4111 1111 1111 1111", "4111111111111111", "123-45-6789",
           "10.0.0.1", "fe80::1", "abcd::ef", "2001:db8:0:0:0:0:2:1", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32",
           "AB 12 34 56 C", "licence no ", "DL ", "A12345", "12", "123", "7", "+44 20 7946 0958", "(555) 123-4567",
           "phone 5551234567", "AKIAIOSFODNN7EXAMPLE", "akiaiosfodnn7example", "ghp_" + "a" * 36, "github_pat_" + "b" * 30,
           "sk-proj-Zq8XwV3nT5rL9pK2mJ7hG4fD1sA6bC0e", "sk_live_" + "c" * 24, "xoxb-1234-abcdefghij",
           "AIza" + "d" * 35, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
           "Bearer abcdefghijklmnop1234", "password: hunter2hunter2", "api_key=ZZZZZZZZZZZZ", "token: abcdefghij",
           "aws_secret_access_key = " + "e" * 40, "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
           "https://hooks.slack.com/services/T000/B000/XXXX", " ", "\n", ":", "=", "-", "_", ".", "é", "١٢٣٤", "Refunds"]
texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(alphabet="abcAKIXYZ019 .-:=@/+_\n", max_size=12)),
                 max_size=12).map("".join)


def _corpus() -> list[str]:
    if not CORPUS.is_dir():
        pytest.skip(f"security corpus not found at {CORPUS}")
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            out += [t for t in (json.loads(line).get("text") for line in fh) if isinstance(t, str)]
    return out


@given(texts)
@SETTINGS
def test_the_prefilter_never_rules_out_a_text_with_structured_pii(text):
    """Whenever find_pii reports an identifier or secret of the default types, the prefilter let the text through."""
    if find_pii(text, DEFAULT):
        assert may_hold_structured(text), text


def test_the_prefilter_holds_on_the_corpus_and_skips_plain_text():
    """The whole security corpus (PII records included): no text with a finding is ruled out; clean prose is."""
    corpus = _corpus()
    found = [t for t in corpus if find_pii(t, DEFAULT)]
    assert len(found) > 50
    assert all(may_hold_structured(t) for t in found)
    assert not may_hold_structured("How long do refunds take?")
    assert not may_hold_structured("Refunds are issued within 30 days of purchase.")


@pytest.mark.parametrize("mode", ["mask", "hash", "drop"])
def test_fast_redaction_gives_the_full_scans_answers(mode):
    """Every corpus text and a set of JSON documents: same result as Privacy.redact_text without any shortcut."""
    privacy = Privacy(mode, b"k" * 32 if mode == "hash" else None)
    fast = FastRedactor(privacy)
    secret = "mail planted.person@example.com, card 4111 1111 1111 1111, key sk-proj-Zq8XwV3nT5rL9pK2mJ7hG4fD1sA6bC0e"
    docs = [json.dumps({"note": secret, "api_key": "abc", "nested": [{"password": "x1"}, 5, None, {"t": [secret]}]}),
            json.dumps([secret, {"token": ""}, 1.5]), '{"a": 123456789012345678901234567890, "b": "x@y.io"}',
            "[1, 2, NaN]", "{not json but starts like it a@b.io"]
    for text in _corpus()[::3] + docs:
        if len(text) < 5:
            continue
        want, got = privacy.redact_text(text), fast.text(text)
        if want != got:  # JSON: the same value (unchanged JSON is kept as sent, not re-serialised)
            assert json.loads(want) == json.loads(got), text[:200]
        assert fast.text(text) == got  # the remembered answer is the same answer


def test_json_kept_as_sent_unless_something_is_redacted():
    fast = FastRedactor(Privacy("mask"))
    clean = '{"plan": "pro",  "amount": 42.5, "tags": ["a", "b"]}'
    assert fast.text(clean) is clean
    assert json.loads(fast.text('{"api_key": "abc", "n": 1}')) == {"api_key": "[SECRET]", "n": 1}
    assert fast.text('{"who": "a@b.io"}') == '{"who":"[EMAIL]"}'


def test_memory_of_values_is_bounded(monkeypatch):
    fast = FastRedactor(Privacy("mask"))
    monkeypatch.setattr(FastRedactor, "MAX_CACHED", 100)
    for i in range(1_000):
        assert fast.text(f"value number {i} with mail u{i}@example.com") == f"value number {i} with mail [EMAIL]"
    assert len(fast._texts) <= 100 and len(fast._strings) <= 100
    long = "x" * (FastRedactor.MAX_CACHED_LEN + 1)
    fast.text(long)
    assert long not in fast._texts


def test_redact_batch_rewrites_only_free_text_columns():
    """A spans batch: PII in attributes JSON, input and events is redacted; ids and names are not touched."""
    email = "planted.person@example.com"
    columns = {"project": ["p"], "trace_id": ["ab" * 16], "name": [f"send to {email}"], "input": [f"hi {email}"],
               "attributes": [json.dumps({"app.note": f"card 4111 1111 1111 1111 from {email}", "n": 3})],
               "events": [None], "resource": ['{"service.name":"svc"}']}
    batch = Batch("spans", columns, rows=1)
    assert redact_batch(batch, Privacy("mask")) == 2
    assert batch.columns["input"] == ["hi [EMAIL]"] and batch.columns["name"] == [f"send to {email}"]
    assert json.loads(batch.columns["attributes"][0]) == {"app.note": "card [CREDIT_CARD] from [EMAIL]", "n": 3}
    assert batch.columns["resource"] == ['{"service.name":"svc"}']
