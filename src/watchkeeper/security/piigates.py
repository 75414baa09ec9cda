"""Necessary conditions for the PII patterns of ``pii.py``, checked once per text.

Each flag says whether a pattern *could* match somewhere in the text; False means the scan would
find nothing, so ``find_pii`` skips it. The conditions only look at characters a match consumes
(never at its look-arounds), so they also hold inside the digit windows ``find_pii`` scans. Only
ASCII text is gated (``textfacts.class_maps``); anything else runs every pattern.
"""

from __future__ import annotations

import re

from ._names import FIRST_NAMES, STREET_WORDS
from .textfacts import ClassMaps, class_maps

__all__ = ["PiiGates", "pii_gates", "FIRST_NAMES_B", "STRONG_CUE_WORDS"]

_CARD = re.compile(rb"d(?:[ -]?d){11}")
_PHONE = re.compile(rb"d(?:[ .()+-]*d){6}")
_NINO = re.compile(rb"UU ?dd ?dd ?dd ?U")
_SANDWICH = re.compile(rb"d[ \t]+[Ul]")
_STREET = frozenset(w.rstrip("?").rstrip("s") if w.endswith("s?") else w for w in STREET_WORDS.split("|")) \
    | frozenset(w[:-2] + "s" for w in STREET_WORDS.split("|") if w.endswith("s?"))
_STREET_B = frozenset(w.encode() for w in _STREET)
FIRST_NAMES_B = frozenset(w.encode() for w in FIRST_NAMES)
# a word of each strong name cue ("my name is", "dear", "mr."); the cue regex cannot match without one
STRONG_CUE_WORDS = frozenset(w.encode() for w in "name call called signed sincerely regards user patient customer "
                              "contact attn mr mrs ms miss mx dr prof sir madam dear".split())
_LETTERS = bytes(c if 65 <= c <= 90 or 97 <= c <= 122 else 32 for c in range(256))
_LETTERS_LOWER = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))
_PHONE_WORDS = ("phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "sms", "text me")


_NUMBER_SHAPED = ("iban", "card", "ssn", "ipv4", "dl", "nino", "phone", "phone_ctx", "ipv6", "address", "military",
                  "unit", "sandwich")


class PiiGates:
    """Which PII scans can possibly find something in one text."""

    __slots__ = ("iban", "card", "ssn", "ipv4", "dl", "nino", "phone", "phone_ctx", "ipv6", "address", "military",
                 "unit", "sandwich", "strong_cue", "weak_cue", "words", "lwords", "digits", "cm", "low", "_runs")

    def __init__(self, text: str, low: str, windows: list[tuple[int, int]], cm: ClassMaps | None = None,
                 names: bool = True, places: bool = True) -> None:
        cm = class_maps(text) if cm is None else cm
        assert cm is not None
        self.digits = cm["digits"]  # the "digits" class view (see textfacts.py)
        self.cm = cm
        self.low = low  # ``text.lower()``
        self._runs: dict[bytes, bytes] = {}
        if not windows:  # no digits: find_pii runs none of the number-shaped scans
            for name in _NUMBER_SHAPED:
                setattr(self, name, False)
        # the runs of ASCII letters (the words ``[A-Za-z]+`` finds), as bytes, as written and lower-cased;
        # only the name scans and the street-word gate need them
        self.words = words = set(cm.raw.translate(_LETTERS).split()) if names else set()
        self.lwords = set(cm.raw.translate(_LETTERS_LOWER).split()) if names or places and windows else set()
        self.strong_cue = names and not STRONG_CUE_WORDS.isdisjoint(self.lwords)
        self.weak_cue = names and not FIRST_NAMES_B.isdisjoint(words)
        if not windows:
            return
        d = self.digits
        self.iban = b"aadd" in d
        self.card = _CARD.search(d) is not None
        self.ssn = b"ddd-dd-dddd" in d or b"ddd dd dddd" in d
        self.ipv4 = b"d.d" in d
        self.dl = "licen" in low or "dl" in low
        self.nino = _NINO.search(cm["upper"]) is not None
        self.phone = _PHONE.search(d) is not None
        self.phone_ctx = b"ddddddd" in d and any(w in low for w in _PHONE_WORDS)
        self.ipv6 = ":" in text and _hex_colon(text, cm)
        if places:
            self.add_places(low, windows, cm)

    def view(self, table: bytes) -> bytes:
        """The text's bytes translated by ``table`` (the run views of ``pii.py``), made once per text."""
        v = self._runs.get(table)
        if v is None:
            v = self._runs[table] = self.cm.raw.translate(table)
        return v

    def add_places(self, low: str, windows: list[tuple[int, int]], cm: ClassMaps) -> None:
        """The gates of the street-address scans (made only when addresses are looked for)."""
        if not self.lwords:
            self.lwords = set(cm.raw.translate(_LETTERS_LOWER).split())
        self.address = not _STREET_B.isdisjoint(self.lwords) or _street_word_at_edge(low, windows)
        self.military = "apo" in low or "fpo" in low or "dpo" in low
        self.unit = "apt" in low or "apartment" in low or "suite" in low or "ste." in low
        self.sandwich = _SANDWICH.search(cm["upper"]) is not None


_HEX_CHARS = frozenset("0123456789abcdefABCDEF")


def _hex_colon(text: str, cm: ClassMaps) -> bool:
    """A hex digit, ":" and a hex digit or ":" in a row: what every IPv6 match holds (its first two groups)."""
    if text.count(":") > 32:  # many colons (JSON, logs): one pass over the hex class view instead
        return cm.has("hex", b"n:", b"h:") and cm.has("hex", b":n", b":h")
    n = len(text)
    i = text.find(":", 1)
    while 0 < i < n - 1:
        if text[i - 1] in _HEX_CHARS and (text[i + 1] in _HEX_CHARS or text[i + 1] == ":"):
            return True
        i = text.find(":", i + 1)
    return False


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


def pii_gates(text: str, low: str, windows: list[tuple[int, int]], names: bool = True,
              places: bool = True) -> PiiGates | None:
    """Gates for ``text`` (ASCII only), or None: scan with every pattern. ``names=False``: the name
    scans will not run (their gates say so); ``places=False``: the address gates are left for
    ``add_places`` (call it before scanning for addresses)."""
    cm = class_maps(text)
    if cm is None:
        return None
    return PiiGates(text, low, windows, cm, names, places)


# -- one text, every structured type -------------------------------------------------------------
# ``may_hold_structured`` is the prefilter of server-side redaction with the default types (structured
# PII and secrets, no names or addresses): False proves ``find_pii(text, types)`` finds nothing of
# those types, so the full scan runs only on candidates. Each condition is a literal piece or shape
# that a pattern of pii.py cannot match without; a new pattern there needs its condition here
# (tests/security/test_redaction_fast.py checks the two against each other).
_CASED_CUES = ("-----BEGIN", "sk-", "xox", "AIza", "eyJ", "hooks.slack.com")   # private key, OpenAI, Slack, Google, JWT
_UNDERSCORE_CUES = re.compile(r"gh[pousr]_|github_pat_|_live_|_test_")       # GitHub, Stripe
_AWS_CUES = re.compile(r"A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)")
_SECRET_WORDS = ("key", "token", "pass", "pwd")   # generic secrets: a word, then ':' or '='
_DIGIT_CHARS = b"0123456789"
_DIGIT = re.compile(r"\d")
_IBAN_HEAD = re.compile(r"[A-Za-z]{2}\d{2}")
_HEX_COLONS = re.compile(r"[0-9a-f]{0,4}:[0-9a-f]{0,4}:")  # IPv6 shape (pii.py scans it only near digits today)


def may_hold_structured(text: str) -> bool:
    """False only when ``text`` holds no e-mail, number-shaped identifier (card, phone, IBAN, SSN, IP,
    licence, national id) and no secret that ``find_pii`` would report."""
    if "@" in text:
        return True
    for cue in _CASED_CUES:
        if cue in text:
            return True
    if "_" in text and _UNDERSCORE_CUES.search(text) is not None:
        return True
    if "A" in text and _AWS_CUES.search(text) is not None:
        return True
    low = text.lower()
    if "secret" in low or "bearer" in low:   # AWS secret keys, generic secrets, bearer tokens
        return True
    if ("=" in text or ":" in text) and any(w in low for w in _SECRET_WORDS):
        return True
    if text.count(":") >= 2 and _HEX_COLONS.search(low) is not None:
        return True
    if text.isascii():
        digits = len(text) - len(text.encode("ascii").translate(None, _DIGIT_CHARS))
    else:
        digits = len(_DIGIT.findall(text))
    if digits >= 4 or (digits and ":" in text):   # every number shape but IBANs and licences needs 4+; IPv6 a ':'
        return True
    return digits >= 2 and (_IBAN_HEAD.search(text) is not None or "licen" in low or "dl" in low)
