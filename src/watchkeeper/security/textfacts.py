"""Cheap facts about a text that let the detectors skip regular expressions which cannot match.

A regular expression over 2 KB of text costs tens of microseconds in CPython even when it finds
nothing, and the detector stack has about a hundred of them. Most are guarded here by *necessary
conditions* that cost a microsecond or two: ``bytes.translate`` maps an ASCII text onto a few
character classes (every digit becomes ``d``, every hex digit ``h``...), after which "six hex
digits in a row" or "ddd-dd-dddd" is a plain substring test that runs at C speed.

A gate only ever says "this pattern cannot match here"; when it cannot tell (non-ASCII text), it
says "maybe" and the pattern runs as before. So gates change the cost of a scan, never its result
(tests/security/test_fast_paths.py compares both ways on the corpus and on generated text).
"""

from __future__ import annotations

import re
import string

__all__ = ["ClassMaps", "class_maps", "ENABLED", "set_enabled"]

ENABLED = True  # tests switch the gates off to compare against the ungated scans


def set_enabled(on: bool) -> bool:
    """Turn every gate on or off (for equivalence tests); returns the previous setting."""
    global ENABLED
    prev, ENABLED = ENABLED, bool(on)
    return prev


def _table(groups: dict[str, str]) -> bytes:
    src = dst = ""
    for chars, to in groups.items():
        src += chars
        dst += to * len(chars)
    return bytes.maketrans(src.encode(), dst.encode())


_LOWER_NON_HEX = "ghijklmnopqrstuvwxyz"
_UPPER_NON_HEX = _LOWER_NON_HEX.upper()
# digits -> d, letters -> a (other characters stay themselves)
_DIGITS = _table({string.digits: "d", string.ascii_letters: "a"})
# digits -> n, hex letters -> h, other letters -> z
_HEX = _table({string.digits: "n", "abcdefABCDEF": "h", _LOWER_NON_HEX + _UPPER_NON_HEX: "z"})
# the characters of morse code (. and -) -> m, letters and digits -> x
_MORSE = _table({".-": "m", string.ascii_letters + string.digits: "x"})
# a morse character (. or -) -> m, what may come before a morse group (space, "/", newline) -> s, the rest -> x
_MORSE_SEP = bytes(109 if c in b".-" else 115 if c in b" /\n" else 120 for c in range(256))
# what ``str.split`` splits ASCII text at -> " ", everything else -> "x"
_SPACES = bytes(32 if c in b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f" else 120 for c in range(256))
# 0/1 -> b, other digits -> d, letters -> a
_BIN = _table({"01": "b", "23456789": "d", string.ascii_letters: "a"})
# the base32 alphabet -> u, everything else alphanumeric -> a
_B32 = _table({string.ascii_uppercase + "234567": "u", string.ascii_lowercase + "0189": "a"})
# the base64 alphabet (both flavours) -> b
_B64 = _table({string.ascii_letters + string.digits + "+/_-": "b"})
# upper-case letters -> U, lower-case -> l, digits -> d
_UPPER = _table({string.ascii_uppercase: "U", string.ascii_lowercase: "l", string.digits: "d"})
# hex digits -> h, other letters -> z, ":" -> space: "six hex digits" and "hex pairs with separators" are substrings
_HEXSEP = _table({string.hexdigits: "h", _LOWER_NON_HEX + _UPPER_NON_HEX: "z", ":": " "})
_TABLES = {"digits": _DIGITS, "hex": _HEX, "hexsep": _HEXSEP, "bin": _BIN, "b32": _B32, "b64": _B64, "upper": _UPPER,
           "morse": _MORSE, "morse_sep": _MORSE_SEP, "spaces": _SPACES}


class ClassMaps:
    """Character-class views of one ASCII text, made on first use (each ~2 µs for 2 KB)."""

    __slots__ = ("raw", "_views")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._views: dict[str, bytes] = {}

    def __getitem__(self, name: str) -> bytes:
        v = self._views.get(name)
        if v is None:
            v = self._views[name] = self.raw.translate(_TABLES[name])
        return v

    def has(self, name: str, *needles: bytes) -> bool:
        """True if any needle occurs in the ``name`` view."""
        view = self[name]
        return any(n in view for n in needles)

    def search(self, name: str, rx: re.Pattern[bytes]) -> bool:
        return rx.search(self[name]) is not None


_LAST: tuple[str, ClassMaps] | None = None  # the last text asked for: the decoders and the PII scan share its views


def class_maps(text: str) -> ClassMaps | None:
    """Class views of ``text``, or None when gates are off or the text is not ASCII (then: run everything)."""
    global _LAST
    if not ENABLED or not text.isascii():
        return None
    last = _LAST
    if last is not None and last[0] is text:
        return last[1]
    cm = ClassMaps(text.encode("ascii"))
    _LAST = (text, cm)
    return cm
