"""Necessary conditions for the PII patterns of ``pii.py``, checked once per text.

Each flag says whether a pattern *could* match somewhere in the text; False means the scan would
find nothing, so ``find_pii`` skips it. The conditions only look at characters a match consumes
(never at its look-arounds), so they also hold inside the digit windows ``find_pii`` scans. Only
ASCII text is gated (``textfacts.class_maps``); anything else runs every pattern.
"""

from __future__ import annotations

import re

from ._names import FIRST_NAMES, STREET_WORDS
from .textfacts import class_maps

__all__ = ["PiiGates", "pii_gates"]

_ASCII_WORDS = re.compile(r"[A-Za-z]+")
_CARD = re.compile(rb"d(?:[ -]?d){11}")
_PHONE = re.compile(rb"d(?:[ .()+-]*d){6}")
_NINO = re.compile(rb"UU ?dd ?dd ?dd ?U")
_SANDWICH = re.compile(rb"d[ \t]+[Ul]")
_STREET = frozenset(w.rstrip("?").rstrip("s") if w.endswith("s?") else w for w in STREET_WORDS.split("|")) \
    | frozenset(w[:-2] + "s" for w in STREET_WORDS.split("|") if w.endswith("s?"))
# a word of each strong name cue ("my name is", "dear", "mr."); the cue regex cannot match without one
_STRONG_CUE_WORDS = frozenset("name call called signed sincerely regards user patient customer contact attn "
                              "mr mrs ms miss mx dr prof sir madam dear".split())
_PHONE_WORDS = ("phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "sms", "text me")


_NUMBER_SHAPED = ("iban", "card", "ssn", "ipv4", "dl", "nino", "phone", "phone_ctx", "ipv6", "address", "military",
                  "unit", "sandwich")


class PiiGates:
    """Which PII scans can possibly find something in one text."""

    __slots__ = ("iban", "card", "ssn", "ipv4", "dl", "nino", "phone", "phone_ctx", "ipv6", "address", "military",
                 "unit", "sandwich", "strong_cue", "weak_cue", "_low", "_words")

    def __init__(self, text: str, low: str, windows: list[tuple[int, int]]) -> None:
        words = set(_ASCII_WORDS.findall(text))
        lwords = {w.lower() for w in words}
        self.strong_cue = not _STRONG_CUE_WORDS.isdisjoint(lwords)
        self.weak_cue = not FIRST_NAMES.isdisjoint(words)
        if not windows:  # no digits: find_pii runs none of the number-shaped scans
            for name in _NUMBER_SHAPED:
                setattr(self, name, False)
            return
        cm = class_maps(text)
        assert cm is not None
        d = cm["digits"]
        self.iban = b"aadd" in d
        self.card = _CARD.search(d) is not None
        self.ssn = b"ddd-dd-dddd" in d or b"ddd dd dddd" in d
        self.ipv4 = b"d.d" in d
        self.dl = "licen" in low or "dl" in low
        self.nino = _NINO.search(cm["upper"]) is not None
        self.phone = _PHONE.search(d) is not None
        self.phone_ctx = b"ddddddd" in d and any(w in low for w in _PHONE_WORDS)
        self.ipv6 = ":" in text and cm.has("hex", b"n:", b"h:") and cm.has("hex", b":n", b":h")
        self.address = not _STREET.isdisjoint(lwords) or _street_word_at_edge(low, windows)
        self.military = "apo" in low or "fpo" in low or "dpo" in low
        self.unit = "apt" in low or "apartment" in low or "suite" in low or "ste." in low
        self.sandwich = _SANDWICH.search(cm["upper"]) is not None


def _street_word_at_edge(low: str, windows: list[tuple[int, int]]) -> bool:
    """A window that ends inside a word sees only its head ("dr" of "drive"), which may be a street word."""
    n = len(low)
    for _, b in windows:
        if 0 < b < n and low[b - 1].isalpha() and low[b].isalpha():
            s = b - 1
            while s > 0 and low[s - 1].isalpha():
                s -= 1
            if low[s:b] in _STREET:
                return True
    return False


def pii_gates(text: str, low: str, windows: list[tuple[int, int]]) -> PiiGates | None:
    """Gates for ``text`` (ASCII only), or None: scan with every pattern."""
    if class_maps(text) is None:
        return None
    return PiiGates(text, low, windows)
