"""Find encoded spans in a text and decode the ones that turn into readable text.

``find_encoded(text)`` returns :class:`Decoded` items (kind, span, decoded text). Decoded text is
re-scanned by the detectors, so an instruction hidden in base64, hex, morse or rot13 is judged on
what it says, not on the fact that it was encoded: a base64 image or a JWT decodes to binary or to
harmless JSON and is not flagged. ``opaque_share`` measures how much of a text is an encoded blob
we could not read (ecoji, base2048 and similar).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
import string
import unicodedata
from dataclasses import dataclass
from itertools import accumulate, compress, filterfalse, repeat
from operator import add as add_, or_
from urllib.parse import unquote

from .ciphers import englishness, letter_ciphers, letter_ciphers_ascii, letter_lines
from . import textfacts
from .textfacts import ClassMaps, class_maps

__all__ = ["Decoded", "find_encoded", "englishness", "opaque_share", "readable"]

_MAX_SPAN = 8192

_MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h",
    "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p",
    "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x",
    "-.--": "y", "--..": "z", "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4",
    ".....": "5", "-....": "6", "--...": "7", "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",",
    "..--..": "?", "-.-.--": "!", "-..-.": "/", ".--.-.": "@", "---...": ":",
}
_NATO = {w: w[0] for w in (
    "alfa alpha bravo charlie delta echo foxtrot golf hotel india juliett juliet kilo lima mike "
    "november oscar papa quebec romeo sierra tango uniform victor whiskey xray x-ray yankee zulu").split()}
# Grade-1 braille: dot patterns for a-z (bit i set = dot i+1).
_BRAILLE = {0x01: "a", 0x03: "b", 0x09: "c", 0x19: "d", 0x11: "e", 0x0B: "f", 0x1B: "g", 0x13: "h",
            0x0A: "i", 0x1A: "j", 0x05: "k", 0x07: "l", 0x0D: "m", 0x1D: "n", 0x15: "o", 0x0F: "p",
            0x1F: "q", 0x17: "r", 0x0E: "s", 0x1E: "t", 0x25: "u", 0x27: "v", 0x3A: "w", 0x2D: "x",
            0x3D: "y", 0x35: "z", 0x00: " ", 0x02: ",", 0x32: ".", 0x16: "!", 0x26: "?"}

_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}|[A-Za-z0-9+/_-]{4,}={1,2}")
_B32 = re.compile(r"[A-Z2-7]{8,}={0,6}")
_B85_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~")
_A85_ALPHABET = frozenset(chr(c) for c in range(33, 118))
_HEX = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}){3,}(?![0-9A-Za-z])|(?:[0-9A-Fa-f]{2}[ :]){3,}[0-9A-Fa-f]{2}\b"
                  r"|(?:\\x[0-9A-Fa-f]{2}){3,}")
_BIN = re.compile(r"(?<![01])(?:[01]{7,8}[ ]?){3,}")
_UESC = re.compile(r"(?:\\u[0-9A-Fa-f]{4}){3,}")
_PCT = re.compile(r"\S*(?:%[0-9A-Fa-f]{2}\S*?){3,}\S*")
# what every ``_PCT`` match holds (three escapes with no white space between them): a scan for "%",
# where ``_PCT`` itself tries ``\S*`` at every position
_PCT_GATE = re.compile(r"%[0-9A-Fa-f]{2}\S*?%[0-9A-Fa-f]{2}\S*?%[0-9A-Fa-f]{2}")
_ENT = re.compile(r"(?:&#x?[0-9A-Fa-f]{1,6};){3,}")
_MIME = re.compile(r"=\?[\w-]+\?([bBqQ])\?([^?\s]+)\?=")
_QP = re.compile(r"(?:[^\s=]*=(?:[0-9A-F]{2}|\r?\n)[^\s=]*){2,}")
_MORSE_RE = re.compile(r"(?<![\w.-])[.-]{1,7}(?:(?: {1,3}|\s/\s|/)[.-]{1,7}){3,}(?![\w.-])")
_BRAILLE_RE = re.compile("[\u2800-\u28ff][\u2800-\u28ff ]{2,}")
_NATO_RE = re.compile(r"\b(?:(?:" + "|".join(sorted(_NATO, key=len, reverse=True)) + r")\b[\s,]*){4,}", re.I)
_B85_TOKEN = re.compile(r"\S{16,}")
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Decoded:
    """One encoded span and the readable text it decodes to."""

    kind: str
    start: int
    end: int
    text: str


def readable(data: bytes | str) -> str | None:
    """Return ``data`` as text if it looks like human-readable text, else None."""
    if isinstance(data, bytes):
        if not data:
            return None
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        s = data
    if len(s) < 2:
        return None
    printable = sum(c.isprintable() or c in "\n\t\r" for c in s)
    letters = sum(c.isalpha() for c in s)
    if printable / len(s) < 0.95 or letters < 2 or letters / max(1, len(s.replace(" ", ""))) < 0.45:
        return None
    return s


def find_encoded(text: str, limit: int = 12, *, words: set[bytes] | None = None) -> list[Decoded]:
    """Decode every encoded span in ``text`` that yields readable text (at most ``limit``).

    ``words``: the set of lower-cased runs of ASCII letters of ``text`` (as bytes), when the caller has it.
    """
    out: list[Decoded] = []

    def add(kind: str, m_start: int, m_end: int, data: bytes | str | None) -> None:
        if data is None or len(out) >= limit:
            return
        s = readable(data)
        if s is not None:
            out.append(Decoded(kind, m_start, m_end, s))

    cm = class_maps(text)  # None: no gates, scan everything
    others = None  # gated text above ASCII: its characters above ASCII (and \x1c-\x1f), for single-character tests
    if cm is None and textfacts.ENABLED:
        others = _above_ascii(text)
        if _plain(others):  # the same answer as ``_plain(text)``: each of its patterns is one character class
            cm = ClassMaps(text.encode("ascii", "replace"))  # each character above ASCII is one "?" there
    stats = _Stats(text, cm, words)
    if (stats.long16 or "=" in text) and (cm is None or cm.has("b64", b"b" * 16, b"bbbb=")):
        for m in (_B64.finditer(text) if cm is None else _b64_matches(text, cm["b64"])):
            tok = m.group(0)[:_MAX_SPAN]
            if set(tok) <= _PLAIN_B64:  # no digit, capital, "+", "/" or "="
                continue
            if len(tok) < 8 or tok.isdigit() or tok.isalpha() and (tok.islower() or tok.isupper()) and "=" not in tok:
                continue
            add("base64", m.start(), m.end(), _b64(tok))
    for a, b in (((m.start(), m.end()) for m in _B32.finditer(text)) if cm is None else _b32_runs(cm["b32"])):
        if a and text[a - 1].isalnum() or b < len(text) and text[b].isalnum():
            continue
        add("base32", a, b, _b32(text[a:b][:_MAX_SPAN]))
    hex_lines = None if cm is None or not stats.digits or "\\" in text and "\\x" in text else _hex_runs(cm)
    if stats.digits and (hex_lines is None or hex_lines):
        for m in _scan(_HEX, text, hex_lines):
            tok = re.sub(r"\\x|[ :]", "", m.group(0))[:_MAX_SPAN]
            if not tok.isdigit() and not tok.isalpha():
                add("hex", m.start(), m.end(), binascii.unhexlify(tok[: len(tok) // 2 * 2]))
    if stats.digits and "0" in text and "1" in text and (cm is None or cm.has("bin", b"b" * 7)):
        for m in _scan(_BIN, text, cm and _lines_with(text, cm["bin"], b"b" * 7)):
            add("binary", m.start(), m.end(), _binary(m.group(0)))
    if "\\" in text and "\\u" in text:  # a rare character first: two-character needles scan slowly
        for m in _UESC.finditer(text):
            add("escape", m.start(), m.end(), "".join(chr(int(h, 16)) for h in re.findall(r"\\u([0-9A-Fa-f]{4})", m.group(0))))
    if "%" in text:
        for m in (_PCT.finditer(text) if not textfacts.ENABLED else _pct_matches(text)):
            if "://" not in m.group(0):
                add("percent", m.start(), m.end(), unquote(m.group(0)))
    if "&" in text and "&#" in text:
        for m in _ENT.finditer(text):
            add("entity", m.start(), m.end(), re.sub(r"&#(x?)([0-9A-Fa-f]+);",
                lambda e: chr(min(int(e.group(2), 16 if e.group(1) else 10), 0x10FFFF)), m.group(0)))
    if "=" in text and "=?" in text:
        for m in _MIME.finditer(text):
            raw = m.group(2).encode("ascii", "ignore")
            add("mime", m.start(), m.end(), _b64(m.group(2)) if m.group(1) in "bB" else quopri.decodestring(raw.replace(b"_", b" ")))
    if text.count("=") >= 2 and (cm is None or _two(_QP_GATE.finditer(text))):
        for m in _QP.finditer(text):
            add("qp", m.start(), m.end(), quopri.decodestring(m.group(0).encode("utf-8", "ignore")))
    if stats.morse and (cm is None or _morse_possible(cm["morse"]) and cm.search("morse", _MORSE_GATE)):
        for m in _MORSE_RE.finditer(text):
            add("morse", m.start(), m.end(), _morse(m.group(0)))
    if not text.isascii() and (others is None or _BRAILLE_CHAR.search(others) is not None):
        for m in _BRAILLE_RE.finditer(text):
            add("braille", m.start(), m.end(), _braille(m.group(0)))
    if stats.long16:
        _b85_candidates(text, add, stats.long if cm is not None else None, stats.starts)
    if stats.nato:
        for m in _NATO_RE.finditer(text):
            add("nato", m.start(), m.end(), "".join(_NATO.get(w.lower(), "") for w in re.findall(r"[\w-]+", m.group(0))))
    _uu(text, add)
    if cm is None and (others is None or _LOWER_TO_ASCII.search(others) is not None):
        letter_ciphers(text, add)
    else:  # also for other text: each non-ASCII character parts words there, as it does in ``letter_ciphers``
        letter_ciphers_ascii(text, add, stats.words)
    return out


_PLAIN_B64 = frozenset("abcdefghijklmnopqrstuvwxyz_-")
def _plain(text: str) -> bool:
    """Whether the ASCII class views of a text that is not ASCII (each character above ASCII one "?")
    give the same answers as for ASCII text: no white space above ASCII (``str.split`` and ``\\s`` part
    tokens there), no digit other than 0-9 (``\\d``), no letter that lower-cases or case-folds to an ASCII
    one, and no \\x1c-\\x1f (white space to ``\\s`` in ``_MORSE_RE``, not in the bytes gate). The decoders'
    other patterns read ASCII characters only."""
    return _SPACE_ABOVE_ASCII.search(text) is None and _OTHER_DIGIT.search(text) is None \
        and _NOT_PLAIN.search(text) is None


def _above_ascii(text: str) -> str:
    """The characters of ``text`` above ASCII and its \\x1c-\\x1f, in order, for tests of single characters.

    UTF-8 writes an ASCII character as one byte below 0x80 and any other as bytes all above it, so
    deleting the ASCII bytes leaves whole characters (lone surrogates travel by ``surrogatepass``).
    """
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BUT_1C_1F).decode("utf-8", "surrogatepass")


_ASCII_BUT_1C_1F = bytes(c for c in range(128) if not 0x1C <= c <= 0x1F)
_BRAILLE_CHAR = re.compile("[\u2800-\u28ff]")  # what every ``_BRAILLE_RE`` match begins with
_SPACE_ABOVE_ASCII = re.compile(r"[^\S\x00-\x7f]")
_OTHER_DIGIT = re.compile(r"[^\D0-9]")
_NOT_PLAIN = re.compile("[\x1c-\x1f\u0130\u0131\u017f\u212a]")
# the characters above ASCII whose ``lower()`` holds an ASCII letter (Kelvin sign, dotted capital I;
# all of them, checked over every code point): ``letter_ciphers`` would read letters there
_LOWER_TO_ASCII = re.compile("[\u0130\u212a]")


def _b64_matches(text: str, view: bytes):
    """``_B64.finditer(text)`` for ASCII text, tried only where a match can begin.

    In the "b64" class view the alphabet is "b": every match is a whole run of "b" (16 or more, or
    4 or more before "="), so the pattern is tried at the start of each such run only.
    """
    n = len(view)
    i = 0
    while i < n:
        p = view.find(b"b" * 16, i)
        q = view.find(b"bbbb=", i)
        if q >= 0 and (p < 0 or q < p):
            before = view[i:q]
            start = q - (len(before) - len(before.rstrip(b"b")))
        elif p >= 0:
            start = p
        else:
            return
        m = _B64.match(text, start)
        if m is None:  # pragma: no cover - such a run always matches
            i = start + 1
            continue
        yield m
        i = m.end()  # the whole run and its "=" padding: a new run may begin right here


def _pct_matches(text: str):
    """``_PCT.finditer(text)``, scanning only the runs of non-space characters that hold three escapes.

    A match holds no white space, so it lies inside one such run, and holds what ``_PCT_GATE`` finds;
    ``_PCT`` itself tries ``\\S*`` at every position of every run, which is slow on long ones (URLs).
    """
    pos = 0
    while True:
        g = _PCT_GATE.search(text, pos)
        if g is None:
            return
        a = g.start()
        while a > pos and not text[a - 1].isspace():  # ``isspace`` is what ``\\s`` matches
            a -= 1
        b = _NON_SPACE.match(text, g.start()).end()  # type: ignore[union-attr]
        yield from _PCT.finditer(text, a, b)
        pos = b


_NON_SPACE = re.compile(r"\S*")


def _two(it) -> bool:
    return next(it, None) is not None and next(it, None) is not None


def _scan(rx: re.Pattern[str], text: str, lines: list[tuple[int, int]] | None | bool):
    """``rx.finditer(text)``, or only over ``lines`` (whole lines, newline included) when given.

    Used for patterns that never match a newline and look at most one character past a match:
    then every match lies inside one line and is found by scanning that line alone.
    """
    if lines is None or lines is False:
        yield from rx.finditer(text)
        return
    for a, b in lines:
        yield from rx.finditer(text, a, b)


def _lines_with(text: str, view: bytes, *needles: bytes) -> list[tuple[int, int]]:
    """The lines of ``text`` in which ``view`` (a class view of it) holds one of ``needles``."""
    hits = []
    for needle in needles:
        i = view.find(needle)
        while i >= 0:
            hits.append(i)
            end = text.find("\n", i)
            if end < 0:
                break
            i = view.find(needle, end)
    return _line_spans(text, hits)


def _b32_runs(view: bytes):
    """The spans of ``_B32`` read off the "b32" class view, where its alphabet is "u".

    A match is a run of eight or more alphabet characters and up to six "=" after it (a shorter run
    cannot match at any of its positions), so it starts where the view first holds eight "u".
    """
    n = len(view)
    i = view.find(b"u" * 8)
    while i >= 0:
        end = n - len(view[i:].lstrip(b"u"))
        stop = min(n, end + 6)
        while end < stop and view[end] == 61:  # "="
            end += 1
        yield i, end
        i = view.find(b"u" * 8, end)


def _hex_runs(cm) -> list[tuple[int, int]]:
    """Where ``_HEX`` can find something, for ``_scan``: the runs of hex digits, spaces and ":" that hold
    six hex digits in a row (when digits and letters are mixed somewhere in the text: an all-digit or
    all-letter run is skipped after matching anyway) or four hex pairs with separators, as substrings
    of the "hexsep" class view.

    Without "\\x" in the text, every ``_HEX`` match is made of those characters alone, so the scan of the
    whole text tries a fresh match right after any other character: its matches are those of the scans
    of each run. A run's span takes the character after it in too, for the look-ahead of ``\\b`` and
    ``(?!...)``; a look-behind sees the text before the span anyway.
    """
    view = cm["hexsep"]
    # the mixing test after the six-digit one, which rules out most texts alone (a needle that is not
    # there finds nothing, so leaving it out changes nothing)
    six = b"hhhhhh" in view and cm.has("hex", b"nh", b"hn")
    return _runs_with(view, b"h ", (b"hhhhhh", b"hh hh hh hh") if six else (b"hh hh hh hh",))


def _runs_with(view: bytes, alphabet: bytes, needles: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """The maximal runs of ``alphabet`` in ``view`` that hold one of ``needles`` (made of ``alphabet``),
    in order, each as (start, end + 1) clipped to the view."""
    n = len(view)
    spans = set()
    for needle in needles:
        i = view.find(needle)
        while i >= 0:
            end = n - len(view[i:].lstrip(alphabet))
            spans.add((len(view[:i].rstrip(alphabet)), min(end + 1, n)))
            i = view.find(needle, end)
    return sorted(spans)


def _line_spans(text: str, hits: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for p in sorted(hits):
        if out and p < out[-1][1]:
            continue
        a = text.rfind("\n", 0, p) + 1
        b = text.find("\n", p)
        out.append((a, len(text) if b < 0 else b + 1))
    return out


# A necessary condition on the morse class view (see textfacts.py): four morse groups.
_MORSE_GATE = re.compile(rb"m{1,7}(?:(?: {1,3}|\s/\s|/)m{1,7}){3}")
_MORSE_SLASH = re.compile(rb"m\s/\sm")


def _morse_possible(view: bytes) -> bool:
    """Two morse groups and a separator between them: what ``_MORSE_GATE`` needs, found by substring tests."""
    return b"m m" in view or b"m  m" in view or b"m   m" in view or b"m/m" in view \
        or b"/" in view and _MORSE_SLASH.search(view) is not None


# Two quoted-printable escapes are a necessary condition for ``_QP`` (a literal-prefixed, fast scan).
_QP_GATE = re.compile(r"=(?:[0-9A-F]{2}|\r?\n)")


class _Stats:
    """Cheap character-class facts that decide which decoders can possibly find something."""

    __slots__ = ("long16", "long", "starts", "digits", "morse", "nato", "words")

    def __init__(self, text: str, cm=None, words: set[bytes] | None = None) -> None:
        if cm is not None:
            self._ascii(text, cm, words)
            return
        toks = text.split()
        self.long = list(compress(toks, map((16).__le__, map(len, toks))))  # exactly the matches of ``\S{16,}``
        self.starts = None
        self.long16 = bool(self.long)
        self.digits = _DIGIT.search(text) is not None
        self.morse = sum(text.count(p) for p in (" .", " -", "/.", "/-", "\n.", "\n-")) >= 4 or text[:1] in ".-"
        low = text.lower() if len(toks) >= 4 else ""
        self.nato = sum(low.count(w) for w in _NATO_COMMON) >= 3
        self.words = None

    def _ascii(self, text: str, cm, words: set[bytes] | None) -> None:
        """The same facts for ASCII text, read off class views at C speed."""
        # the tokens of 16 or more characters: runs of sixteen "x" in a view where white space is " "
        view = cm["spaces"]  # white space -> " ", the rest -> "x" (shared with the detectors' obfuscation facts)
        long, starts = [], []
        i = view.find(b"x" * 16)
        while i >= 0:
            end = view.find(b" ", i)
            if end < 0:
                end = len(view)
            long.append(text[i:end])
            starts.append(i)
            i = view.find(b"x" * 16, end)
        self.long, self.starts = long, starts
        self.long16 = bool(long)
        self.digits = b"d" in cm["digits"]
        # " .", " -", "/.", "/-", "\n." and "\n-" are all b"sm" in this view: one count, not six
        self.morse = cm["morse_sep"].count(b"sm") >= 4 or text[:1] in ".-"
        if words is None and letter_lines(text):  # the letter ciphers look at the words: made once, here
            words = set(cm.raw.translate(_LETTERS_LOWER).split())  # the lower-cased letter runs
        self.words = words
        self.nato = _nato_possible(cm, words) and len(view.split(None, 3)) >= 4 \
            and sum(text.lower().count(w) for w in _NATO_COMMON) >= 3


def _nato_possible(cm, words: set[bytes] | None) -> bool:
    """Whether ``_NATO_RE`` can match (False only when it cannot), from the lower-cased letter runs.

    A match is four spelling-alphabet words, each a whole letter run there ("x-ray": "x" and "ray"), and
    whole runs are apart, so together the words of ``_NATO_WORDS`` occur four times or more as substrings.
    A set test on the words rules most texts out first.
    """
    found = None if words is None else _NATO_WORDS.intersection(words)
    if found is not None and not found:
        return False
    low = cm.raw.translate(_LETTERS_LOWER)
    if found is None:  # no words made: look for them in the letter runs themselves
        found = _NATO_WORDS.intersection(low.split())
    return sum(map(low.count, found)) >= 4


_DIGIT = re.compile(r"\d")
# ASCII letters lower-cased, everything else a space ("X-ray" splits into "x" and "ray")
_LETTERS_LOWER = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))
_NATO_COMMON = ("alpha", "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform",
                "victor", "whiskey", "ray", "yankee", "zulu")
_NATO_WORDS = frozenset(w.encode() for w in _NATO if "-" not in w) | {b"ray"}


def _b64(tok: str) -> bytes | None:
    t = tok.rstrip("=")
    t += "=" * (-len(t) % 4)
    try:
        if "-" in t or "_" in t:
            return base64.urlsafe_b64decode(t)
        return base64.b64decode(t)
    except (binascii.Error, ValueError):
        return None


def _b32(tok: str) -> bytes | None:
    t = tok.rstrip("=")
    t += "=" * (-len(t) % 8)
    try:
        return base64.b32decode(t)
    except (binascii.Error, ValueError):
        return None


def _binary(tok: str) -> bytes | None:
    groups = tok.split()
    if len(groups) == 1:
        g = groups[0]
        groups = [g[i:i + 8] for i in range(0, len(g) - len(g) % 8, 8)]
    try:
        return bytes(int(g, 2) for g in groups if g and int(g, 2) < 256)
    except ValueError:
        return None


def _morse(tok: str) -> str:
    words = re.split(r"\s*/\s*|\s{3,}", tok.strip())
    return " ".join("".join(_MORSE.get(sym, "") for sym in w.split()) for w in words)


def _braille(tok: str) -> str:
    out, cap = [], False
    for ch in tok:
        bits = ord(ch) - 0x2800 if "\u2800" <= ch <= "\u28ff" else 0
        if bits == 0x20:  # capital sign
            cap = True
            continue
        c = _BRAILLE.get(bits, "")
        out.append(c.upper() if cap else c)
        cap = False
    return "".join(out)


def _b85_candidates(text: str, add, long: list[str] | None = None, starts: list[int] | None = None) -> None:
    """Base85 / Ascii85 tokens (``\\S{16,}``; ``long`` and their ``starts`` when the caller has them)."""
    ascii_text = long is not None  # the caller's ``long`` comes from the ASCII facts
    if long is None:
        found = [(m.start(), m.group(0)) for m in _B85_TOKEN.finditer(text)]
        starts, long = [a for a, _ in found], [t for _, t in found]
    elif starts is None:
        starts = [a for a, _ in _located(text, long)]
    tries = 0
    # which alphabet each token fits, tested at C speed for all of them before the loop
    in_b85s = list(map(_B85_ALPHABET.issuperset, long))
    in_a85s = list(map(_A85_ALPHABET.issuperset, long))
    if "~" not in text:  # no "<~...~>" token: only the tokens that fit an alphabet are looked at (dropped at C speed)
        fit = list(map(or_, in_b85s, in_a85s))
        starts, long = compress(starts, fit), compress(long, fit)
        in_b85s, in_a85s = compress(in_b85s, fit), compress(in_a85s, fit)
    for start, tok, in_b85, in_a85 in zip(starts, long, in_b85s, in_a85s):
        if not (in_b85 or in_a85 or tok.startswith("<~") and tok.endswith("~>")):
            continue  # neither alphabet fits: the loop below would skip both decoders
        if "://" in tok or tok.isalnum() or len(tok) > _MAX_SPAN or not tok.isascii():
            continue
        punct = len(tok.encode("ascii").translate(None, _ALNUM))  # the characters that are not letters or digits
        if punct < len(tok) * 0.08:
            continue
        for fn, fits in ((base64.b85decode, in_b85), (base64.a85decode, in_a85)):
            body = tok[2:-2] if fn is base64.a85decode and tok.startswith("<~") and tok.endswith("~>") else tok
            if not fits and body is tok:
                continue
            tries += 1
            if tries > 8:
                return
            plain = fn is base64.a85decode and body is tok and ascii_text
            if plain and _a85_unreadable(body):
                continue  # what it decodes to is not UTF-8: ``add`` would drop it
            try:
                data = _a85_plain(body) if plain else fn(body)
            except (ValueError, binascii.Error):
                continue
            add("base85", start, start + len(tok), data)


_ALNUM = (string.ascii_letters + string.digits).encode("ascii")
_MINUS33 = bytes((c - 33) % 256 for c in range(256))


def _a85_plain(tok: str) -> bytes:
    """``base64.a85decode(tok)`` for a token made only of the digits "!".."u" (no "z", no spaces), group by group."""
    data = tok.encode("ascii") + b"uuuu"
    v = data.translate(_MINUS33)
    out = bytearray()
    for i in range(0, len(data) - 4, 5):
        acc = (((v[i] * 85 + v[i + 1]) * 85 + v[i + 2]) * 85 + v[i + 3]) * 85 + v[i + 4]
        if acc > 0xFFFFFFFF:
            raise ValueError("Ascii85 overflow")
        out += acc.to_bytes(4, "big")
    padding = 4 - len(data) % 5
    return bytes(out[:-padding] if padding else out)


def _a85_unreadable(tok: str) -> bool:
    """True when the first four bytes ``_a85_plain(tok)`` gives (kept whole: ``tok`` spans two or more
    groups) are not valid UTF-8, or overflow: then the whole decoding is not readable text."""
    if len(tok) < 6:
        return False
    v = tok[:5].encode("ascii").translate(_MINUS33)
    acc = (((v[0] * 85 + v[1]) * 85 + v[2]) * 85 + v[3]) * 85 + v[4]
    if acc > 0xFFFFFFFF:
        return True  # _a85_plain raises: nothing is added
    try:
        codecs.utf_8_decode(acc.to_bytes(4, "big"), "strict", False)
    except UnicodeDecodeError:
        return True
    return False


def _located(text: str, toks: list[str]):
    """(start, token) for whitespace-free tokens of ``text`` listed in order, each 16 characters or longer.

    Between two such tokens lie only shorter ones, so the next occurrence of a token is the token itself.
    """
    pos = 0
    for tok in toks:
        pos = text.find(tok, pos)
        yield pos, tok
        pos += len(tok)


_UU_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`"


def _uu(text: str, add) -> None:
    lines = text.split("\n")
    # where each line starts, summed at C speed (a line and its newline)
    for start, line in zip(accumulate(map(add_, map(len, lines), repeat(1)), initial=0), lines):
        # a uu line begins with "!".."M" (after a "label: " on long lines) and has four characters or more;
        # most lines fail this first look, before any slicing or stripping
        if len(line) < 4 or not ("!" <= line[0] <= "M" or ": " in line[:40]):
            continue
        if len(line) > 63 and line[-1] != "\r" and ": " not in line[:40]:
            continue  # too long for a uu line (at most 63 characters: a length byte and 62 of data)
        s = line.rstrip("\r")
        if ": " in s[:40] and len(s) > 40:
            label, _, rest = s.partition(": ")
            start += len(label) + 2
            s = rest
        if len(s) < 4 or not ("!" <= s[0] <= "M"):
            continue
        # the length that the first character announces: the most telling test, so it comes first
        # (the tests are side-effect free, so their order does not change which lines are kept)
        if abs(len(s) - 1 - ((ord(s[0]) - 32 + 2) // 3) * 4) > 2:
            continue
        if s.isalnum() or " " in s.strip()[1:] and s.count(" ") > 2 or not any(c in s for c in _UU_PUNCT):
            continue
        try:
            add("uu", start, start + len(s), binascii.a2b_uu(s))
        except (binascii.Error, ValueError):
            continue


def opaque_share(text: str) -> float:
    """Share of non-space characters that sit in runs of emoji or mixed-script symbols (ecoji, base2048)."""
    if text.isascii() or textfacts.ENABLED and not _opaque_possible(_above_ascii(text)):
        return 0.0
    toks = text.split()
    total = sum(map(len, toks))
    opaque = 0
    for tok in filterfalse(str.isascii, toks):  # ASCII tokens only count towards the total (dropped at C speed)
        if len(tok) < 3:
            continue
        symbols = sum(unicodedata.category(c) == "So" for c in tok)
        scripts = {unicodedata.name(c, "X").split()[0] for c in tok if c.isalpha()}
        if symbols >= 3 and symbols >= len(tok) * 0.8 or len(scripts) >= 3:
            opaque += len(tok)
    return opaque / total if total else 0.0


def _opaque_possible(others: str) -> bool:
    """False when no token of the text can count as opaque, judged on its characters above ASCII alone.

    ASCII has no "So" character and its letters are all LATIN: a token with three symbols needs three
    of ``others``, and one with three scripts needs two scripts above ASCII other than LATIN.
    """
    symbols, scripts = 0, {"LATIN"}
    for c in others:  # stops as soon as it can tell (a long text above ASCII that is opaque)
        if unicodedata.category(c) == "So":
            symbols += 1
        elif c.isalpha():  # no "So" character is a letter
            scripts.add(unicodedata.name(c, "X").split()[0])
        if symbols >= 3 or len(scripts) >= 3:
            return True
    return False
