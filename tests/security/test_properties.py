"""Property tests: detectors never raise, whatever the input."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.security import check_input, check_output, detect, find_pii, redact, redact_value, scan_context, scan_record

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=400)


@SETTINGS
@given(any_text)
def test_detectors_never_raise_on_any_unicode(text):
    """Every unicode category, surrogates included, is handled without an exception."""
    assert 0.0 <= detect(text).score <= 1.0
    scan_context(text, source="tool")
    check_input(text)
    check_output(text, prompt=text)
    redact(text)


@SETTINGS
@given(st.binary(max_size=600))
def test_binary_junk_decoded_as_latin1(data):
    """Arbitrary bytes read as latin-1 do not break detection or redaction."""
    text = data.decode("latin-1")
    detect(text)
    find_pii(text)
    redact(text, mode="hash", key=b"k")


@SETTINGS
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | any_text,
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20))
def test_redact_value_handles_any_json_like_value(obj):
    """redact_value walks arbitrary nested values without raising."""
    redact_value(obj)
    scan_record({"text": obj})


def test_huge_inputs_are_handled():
    """Megabyte-sized and pathological inputs return a verdict."""
    rng = random.Random(7)
    huge = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(300_000))
    for text in (huge, "a" * 1_000_000, "=" * 200_000, "(a)\n" * 50_000, "\U000E0041" * 50_000):
        assert check_input(text).score >= 0.0
