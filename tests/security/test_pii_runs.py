"""The run-restricted scans of pii.py (``_in_runs``, ``_phone_ctx``) find what the plain ``finditer`` finds."""

from __future__ import annotations

import re
from types import SimpleNamespace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watchkeeper.security import find_pii, pii, textfacts
from watchkeeper.security.guard import STRUCTURED_PII
from watchkeeper.security.textfacts import ClassMaps

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Digits with the separators phone numbers and addresses use, look-ahead suffixes, hex and keywords.
_PIECES = ["0", "1", "7", "42", "555", "2021", "1234567", "12345678901", "+1", "+44 ", "(0)", "(555)", "10.0.0.1",
           "255.255.255.255", "1.2.3", "fe80::1", "::", "a:b:c", "fax", "-fax", "-mobile", "-office", "-work", "-mob",
           "call ", "Phone: ", "tel ", "telephone", "text me ", "TEXT ME", "sms", "x", "ab", "Call", " ", "  ", "\n",
           ".", "-", "(", ")", "+", ":", "_", "é", "555-1234", "12 34 567", "(555) 123-4567", "+1 555 123 4567",
           "Text me: 5551234", "tel.5551234", "fax 0123456789", "1:2::", "ab:cd::", "1:2:3", "12:30:45", "g",
           "12345678901-mobile", "0123456789-fax", "0123456789-mob", "5551234567-",
           "driver's license ", "Driving Licence: ", "licence no. ", "DL ", "dl", "handle", "A1234567", "12-3456-78"]
digit_text = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(alphabet="0123456789 .-()+:abcfx\n", max_size=10)),
                      max_size=30).map("".join)


@st.composite
def text_and_window(draw):
    text = draw(digit_text)
    a = draw(st.integers(0, len(text)))  # small draws (hypothesis's favourites) give windows near the whole text
    b = len(text) - draw(st.integers(0, len(text) - a))
    return text, a, b


def _view(text: str, shape) -> bytes:
    return text.encode("ascii", "replace").translate(shape.table)


def _spans(matches) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


def _digits(m: re.Match[str]) -> int:
    return sum(c.isdigit() for c in m.group(0))


# edges: a run of exactly 7 digits, IPv6 ending in "::", a word character right after a run, "text me"
_EDGES = ("call 555-1234 now", "at 1:2:: or ab:cd:ef:0g", "10.0.0.1a 1.2.3.4.5", "Text me: 5551234.", "+12345678901x",
          "tel 12345678901-mobile", "0123456789-office", "Driver's licence: A1234567", "x DL 12-3456-78")


def _edges(test):
    for text in _EDGES:
        test = example((text, 0, len(text)))(test)
    return test


@SETTINGS
@_edges
@given(text_and_window())
def test_ip_runs_are_the_plain_scan(case):
    text, a, b = case
    for rx, shape in ((pii._IPV4, pii._IPV4_RUNS), (pii._IPV6, pii._IPV6_RUNS)):
        assert _spans(pii._in_runs(rx, text, _view(text, shape), shape, a, b)) == _spans(rx.finditer(text, a, b))


@SETTINGS
@_edges
@given(text_and_window())
def test_phone_runs_are_the_plain_scan(case):
    """The runs left out hold no phone number with the 7 digits that ``_structured`` asks for."""
    text, a, b = case
    plain = list(pii._PHONE.finditer(text, a, b))
    runs = _spans(pii._in_runs(pii._PHONE, text, _view(text, pii._PHONE_RUNS), pii._PHONE_RUNS, a, b))
    assert set(runs) <= set(_spans(plain))
    assert [s for s in runs] == [m.span() for m in plain if m.span() in set(runs)]
    assert {m.span() for m in plain if _digits(m) >= 7} <= set(runs)


@SETTINGS
@_edges
@given(text_and_window())
def test_keyword_scans_are_the_plain_scan(case):
    text, a, b = case
    gates = SimpleNamespace(low=text.lower())  # what ``_at_keywords`` reads of the gates (``None``: the plain scan)
    for rx, heads in ((pii._PHONE_CTX, pii._PHONE_CTX_HEADS), (pii._DL, pii._DL_HEADS)):
        assert _spans(pii._at_keywords(rx, heads, text, a, b, gates)) == _spans(rx.finditer(text, a, b))


@SETTINGS
@given(digit_text)
def test_find_pii_gated_is_ungated(text):
    fast = find_pii(text, STRUCTURED_PII)
    prev = textfacts.set_enabled(False)
    try:
        assert fast == find_pii(text, STRUCTURED_PII)
    finally:
        textfacts.set_enabled(prev)


def test_look_ahead_past_the_run():
    """"-mobile" is read 6 characters past the end of the run "12345678901-": the scan must reach there."""
    text = "call 12345678901-mobile now"
    shape = pii._PHONE_RUNS
    got = _spans(pii._in_runs(pii._PHONE, text, _view(text, shape), shape, 0, len(text)))
    assert got == _spans(pii._PHONE.finditer(text)) == [(5, 16)]
    assert find_pii(text, STRUCTURED_PII) == [{"type": "phone", "start": 5, "end": 16}]


def test_gates_views_are_made_once():
    cm = ClassMaps(b"10.0.0.1 and 555-123-4567")
    g = pii.PiiGates("10.0.0.1 and 555-123-4567", "10.0.0.1 and 555-123-4567", [(0, 25)], cm, False, False)
    assert g.view(pii._IPV4_RUNS.table) is g.view(pii._IPV4_RUNS.table)
    assert g.view(pii._IPV4_RUNS.table) == b"dd.d.d.dxxxxxdddxdddxdddd"


# digits apart by gaps around the longest one a digit cluster steps over (180 non-digits)
_GAPS = st.lists(st.one_of(st.sampled_from(["1", "42", "2021", "é", ".", " "]), st.integers(170, 190).map("x".__mul__),
                           st.integers(0, 12).map("ab ".__mul__)), max_size=20).map("".join)


@SETTINGS
@example("1" + "x" * 180 + "2" + "x" * 181 + "3")
@given(_GAPS)
def test_digit_clusters_are_the_regex_matches(text):
    view = ClassMaps(text.encode("ascii", "replace"))["digits"]
    assert pii._digit_clusters(view) == [m.span() for m in pii._DIGIT_CLUSTER.finditer(text)]
