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
import quopri
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from .ciphers import bigram_score, englishness, letter_ciphers, letter_ciphers_ascii
from .textfacts import class_maps

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


def find_encoded(text: str, limit: int = 12) -> list[Decoded]:
    """Decode every encoded span in ``text`` that yields readable text (at most ``limit``)."""
    out: list[Decoded] = []

    def add(kind: str, m_start: int, m_end: int, data: bytes | str | None) -> None:
        if data is None or len(out) >= limit:
            return
        s = readable(data)
        if s is not None:
            out.append(Decoded(kind, m_start, m_end, s))

    stats = _Stats(text)
    cm = class_maps(text)  # None: no gates, scan everything
    if (stats.long16 or "=" in text) and (cm is None or cm.has("b64", b"b" * 16, b"bbbb=")):
        for m in _B64.finditer(text):
            tok = m.group(0)[:_MAX_SPAN]
            if not any(c.isdigit() or c.isupper() or c in "+/=" for c in tok):
                continue
            if len(tok) < 8 or tok.isdigit() or tok.isalpha() and (tok.islower() or tok.isupper()) and "=" not in tok:
                continue
            add("base64", m.start(), m.end(), _b64(tok))
    for m in (_B32.finditer(text) if cm is None or cm.has("b32", b"u" * 8) else ()):
        if m.start() and text[m.start() - 1].isalnum() or m.end() < len(text) and text[m.end()].isalnum():
            continue
        add("base32", m.start(), m.end(), _b32(m.group(0)[:_MAX_SPAN]))
    if stats.digits and (cm is None or "\\x" in text or cm.has("hex", b"nh", b"hn") and cm.search("hex", _HEX_RUN)
                         or cm.search("hex", _HEX_SEP)):
        for m in _HEX.finditer(text):
            tok = re.sub(r"\\x|[ :]", "", m.group(0))[:_MAX_SPAN]
            if not tok.isdigit() and not tok.isalpha():
                add("hex", m.start(), m.end(), binascii.unhexlify(tok[: len(tok) // 2 * 2]))
    if stats.digits and "0" in text and "1" in text and (cm is None or cm.has("bin", b"b" * 7)):
        for m in _BIN.finditer(text):
            add("binary", m.start(), m.end(), _binary(m.group(0)))
    if "\\u" in text:
        for m in _UESC.finditer(text):
            add("escape", m.start(), m.end(), "".join(chr(int(h, 16)) for h in re.findall(r"\\u([0-9A-Fa-f]{4})", m.group(0))))
    if "%" in text:
        for m in _PCT.finditer(text):
            if "://" not in m.group(0):
                add("percent", m.start(), m.end(), unquote(m.group(0)))
    if "&#" in text:
        for m in _ENT.finditer(text):
            add("entity", m.start(), m.end(), re.sub(r"&#(x?)([0-9A-Fa-f]+);",
                lambda e: chr(min(int(e.group(2), 16 if e.group(1) else 10), 0x10FFFF)), m.group(0)))
    if "=?" in text:
        for m in _MIME.finditer(text):
            raw = m.group(2).encode("ascii", "ignore")
            add("mime", m.start(), m.end(), _b64(m.group(2)) if m.group(1) in "bB" else quopri.decodestring(raw.replace(b"_", b" ")))
    if text.count("=") >= 2 and (cm is None or _two(_QP_GATE.finditer(text))):
        for m in _QP.finditer(text):
            add("qp", m.start(), m.end(), quopri.decodestring(m.group(0).encode("utf-8", "ignore")))
    if stats.morse and (cm is None or cm.search("morse", _MORSE_GATE)):
        for m in _MORSE_RE.finditer(text):
            add("morse", m.start(), m.end(), _morse(m.group(0)))
    if not text.isascii():
        for m in _BRAILLE_RE.finditer(text):
            add("braille", m.start(), m.end(), _braille(m.group(0)))
    if stats.long16 and (cm is None or any(_b85_possible(t) and "://" not in t and not t.isalnum() for t in stats.long)):
        _b85_candidates(text, add)
    if stats.nato:
        for m in _NATO_RE.finditer(text):
            add("nato", m.start(), m.end(), "".join(_NATO.get(w.lower(), "") for w in re.findall(r"[\w-]+", m.group(0))))
    _uu(text, add)
    if cm is None:
        letter_ciphers(text, add)
    else:
        letter_ciphers_ascii(text, add)
    return out


def _two(it) -> bool:
    return next(it, None) is not None and next(it, None) is not None


# Necessary conditions on the class views (see textfacts.py): a hex run mixing digits and letters (an
# all-digit or all-letter run is skipped anyway), hex pairs with separators, four morse groups.
_HEX_RUN = re.compile(rb"[nh]{6}")
_HEX_SEP = re.compile(rb"[nh]{2}[ :][nh]{2}[ :][nh]{2}[ :][nh]{2}")
_MORSE_GATE = re.compile(rb"m{1,7}(?:(?: {1,3}|\s/\s|/)m{1,7}){3}")
# Two quoted-printable escapes are a necessary condition for ``_QP`` (a literal-prefixed, fast scan).
_QP_GATE = re.compile(r"=(?:[0-9A-F]{2}|\r?\n)")


class _Stats:
    """Cheap character-class facts that decide which decoders can possibly find something."""

    __slots__ = ("long16", "long", "digits", "morse", "nato")

    def __init__(self, text: str) -> None:
        toks = text.split()
        self.long = [t for t in toks if len(t) >= 16]  # exactly the matches of ``\S{16,}``
        self.long16 = bool(self.long)
        self.digits = _DIGIT.search(text) is not None
        self.morse = sum(text.count(p) for p in (" .", " -", "/.", "/-", "\n.", "\n-")) >= 4 or text[:1] in ".-"
        low = text.lower() if len(toks) >= 4 else ""
        self.nato = sum(low.count(w) for w in _NATO_COMMON) >= 3


_DIGIT = re.compile(r"\d")
_NATO_COMMON = ("alpha", "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform",
                "victor", "whiskey", "ray", "yankee", "zulu")


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


def _b85_candidates(text: str, add) -> None:
    tries = 0
    for m in _B85_TOKEN.finditer(text):
        tok = m.group(0)
        if "://" in tok or tok.isalnum() or len(tok) > _MAX_SPAN or not tok.isascii():
            continue
        chars = set(tok)
        if not _b85_possible(tok, chars):
            continue  # neither alphabet fits: the loop below would skip both decoders
        punct = sum(not c.isalnum() for c in tok)
        if punct < len(tok) * 0.08:
            continue
        for fn, alphabet in ((base64.b85decode, _B85_ALPHABET), (base64.a85decode, _A85_ALPHABET)):
            body = tok[2:-2] if fn is base64.a85decode and tok.startswith("<~") and tok.endswith("~>") else tok
            if not chars <= alphabet and body is tok:
                continue
            tries += 1
            if tries > 8:
                return
            try:
                data = fn(body)
            except (ValueError, binascii.Error):
                continue
            add("base85", m.start(), m.end(), data)


def _b85_possible(tok: str, chars: set[str] | None = None) -> bool:
    chars = set(tok) if chars is None else chars
    return chars <= _B85_ALPHABET or chars <= _A85_ALPHABET or tok.startswith("<~") and tok.endswith("~>")


def _uu(text: str, add) -> None:
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        s = line.rstrip("\r")
        if ": " in s[:40] and len(s) > 40:
            label, _, rest = s.partition(": ")
            start += len(label) + 2
            s = rest
        if len(s) < 4 or not ("!" <= s[0] <= "M") or s.isalnum() or " " in s.strip()[1:] and s.count(" ") > 2:
            continue
        n = ord(s[0]) - 32
        body = len(s) - 1
        if abs(body - ((n + 2) // 3) * 4) > 2 or not any(c in s for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`"):
            continue
        try:
            add("uu", start, start + len(s), binascii.a2b_uu(s))
        except (binascii.Error, ValueError):
            continue


def opaque_share(text: str) -> float:
    """Share of non-space characters that sit in runs of emoji or mixed-script symbols (ecoji, base2048)."""
    if text.isascii():
        return 0.0
    total = opaque = 0
    for tok in text.split():
        total += len(tok)
        if len(tok) < 3 or tok.isascii():
            continue
        symbols = sum(unicodedata.category(c) == "So" for c in tok)
        scripts = {unicodedata.name(c, "X").split()[0] for c in tok if c.isalpha()}
        if symbols >= 3 and symbols >= len(tok) * 0.8 or len(scripts) >= 3:
            opaque += len(tok)
    return opaque / total if total else 0.0
