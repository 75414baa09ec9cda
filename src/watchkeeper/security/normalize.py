"""Text normalisation that undoes cheap obfuscation before the phrase detectors run.

``normalize(text)`` returns a :class:`Normalized` holding the cleaned, lower-cased text plus
counts of every trick it undid (invisible characters, unicode tag characters, variation-selector
bytes, zalgo marks, homoglyphs, leetspeak, spaced-out letters). The counts are themselves
features: legitimate prompts almost never hide ASCII in tag characters or mix Cyrillic letters
into Latin words.

Pure ASCII input takes a fast path; everything here is stdlib only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from . import textfacts

__all__ = ["Normalized", "normalize", "hidden_messages", "leet_to_ascii"]

# Characters with no visible glyph that attackers insert between letters or use as a covert channel.
_INVISIBLE = {
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E,
    0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
    0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0x206A,
    0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0x3164, 0xFEFF, 0xFFA0,
}
_BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}

# Cyrillic and Greek letters that render like Latin ones (a small, hand-written confusables table).
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y",
    "х": "x", "ԝ": "w", "ɡ": "g", "ı": "i", "ɑ": "a", "ո": "n", "ս": "u",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_HOMOGLYPH_KEYS = frozenset(chr(k) for k in _HOMOGLYPHS)
_HOMOGLYPH_ANY = re.compile("[" + "".join(sorted(_HOMOGLYPH_KEYS)) + "]")

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"})
_LEET_WORD = re.compile(r"\b(?=[a-z0-9@$!|]*[a-z])(?=[a-z0-9@$!|]*[0-9@$|])[a-z0-9@$!|]{3,}\b")
_SPACED = re.compile(r"\b(?:[A-Za-z] ){3,}[A-Za-z]\b")
_WORD = re.compile(r"\w+")
_WS = re.compile(r"[ \t\f\v]{2,}|[\t\f\v]")
_LEET_GATE = re.compile(r"[a-z][0-9@$|]|[0-9@$|][a-z]")
_ASCII_BYTES = bytes(range(128))
# the ASCII characters ``_NEEDS_STRIP`` holds (all controls but tab, line feed and carriage return)
_KEEP_CONTROLS = bytes(c for c in range(128) if c in (9, 10, 13) or 32 <= c < 127)


def _above_ascii(text: str) -> str:
    """The characters of ``text`` above ASCII, in order: its UTF-8 bytes less the ASCII ones, decoded
    (two C passes; a character class search over them is then one over a few characters)."""
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")


def _has_ascii_control(text: str) -> bool:
    """Whether ``text`` holds an ASCII control character other than tab, line feed and carriage return."""
    return bool(text.encode("utf-8", "surrogatepass").translate(None, _KEEP_CONTROLS + bytes(range(128, 256))))


_NEEDS_STRIP = re.compile("[" + "".join(chr(c) for c in sorted(_INVISIBLE)) + "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                          "\ufe00-\ufe0f\U000e0000-\U000e007f\U000e0100-\U000e01ef]")


@dataclass
class Normalized:
    """The cleaned text and what was undone to get it."""

    text: str                       # NFKC, invisibles stripped, homoglyphs mapped, lower-cased
    leet: str | None = None         # ``text`` with leetspeak mapped, only when leet words exist
    invisible: int = 0              # invisible/bidi/control characters removed
    in_word_invisible: int = 0      # of those, how many sat between two letters
    bidi: int = 0
    controls: int = 0               # C0/C1 control characters (backspace, escape...)
    invisible_run: int = 0          # longest run of invisible characters (a covert bit channel)
    zalgo_marks: int = 0            # Latin letters carrying three or more stacked combining marks
    homoglyph_words: int = 0        # words mixing Latin with Cyrillic/Greek look-alikes
    spaced_runs: int = 0            # "i g n o r e" style runs that were joined
    hidden: list[str] = field(default_factory=list)  # messages decoded from tag chars / variation selectors / invisible bits


def leet_to_ascii(text: str) -> str:
    """Map leetspeak inside words that mix letters and digits ("1gn0r3" -> "ignore")."""
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), text)


def hidden_messages(text: str) -> list[str]:
    """Decode ASCII smuggled in unicode tag characters, variation selectors or invisible-operator bits."""
    out: list[str] = []
    # each character loop below runs only when a character it keeps occurs (a C-speed search first)
    gated = textfacts.ENABLED
    tags = [ord(c) - 0xE0000 for c in text if 0xE0000 <= ord(c) <= 0xE007F] \
        if not gated or _TAG_CHAR.search(text) is not None else []
    if len(tags) >= 3 and not _is_flag_sequence(text):
        out.append("".join(chr(c) for c in tags if 0x20 <= c < 0x7F or c in (9, 10)))
    vs = []
    if not gated or _SUPPLEMENT_SELECTOR.search(text) is not None:  # ``vs`` starts with one of these
        for c in text:
            o = ord(c)
            if 0xE0100 <= o <= 0xE01EF:
                vs.append(o - 0xE0100 + 16)
            elif 0xFE00 <= o <= 0xFE0F and vs:
                vs.append(o - 0xFE00)
    if len(vs) >= 3:
        out.append(bytes(vs).decode("utf-8", "replace"))
    if text.count("\u2062") + text.count("\u2064") >= 16:
        out.extend(_decode_invisible_bits(text))
    return [m for m in out if m.strip()]


def _is_flag_sequence(text: str) -> bool:
    # Subdivision flags (England, Scotland, Wales) are U+1F3F4 + tag letters + U+E007F.
    stripped = re.sub("\U0001F3F4[\U000E0020-\U000E007E]{2,8}\U000E007F", "", text)
    return not any(0xE0000 <= ord(c) <= 0xE007F for c in stripped)


def _decode_invisible_bits(text: str) -> list[str]:
    runs = re.findall("[\u2062\u2064\u200b]{8,}", text)
    msgs = []
    for zero, one in (("\u2062", "\u2064"), ("\u2064", "\u2062")):
        chunks = []
        for run in runs:
            for word in run.split("\u200b"):
                bits = word.replace(zero, "0").replace(one, "1")
                usable = len(bits) - len(bits) % 8
                if len(bits) % 8 == 0 and usable >= 8:
                    chunks.append(bytes(int(bits[i:i + 8], 2) for i in range(0, usable, 8)))
                elif len(bits) % 7 == 0:  # 7-bit ASCII per character
                    chunks.append(bytes(int(bits[i:i + 7], 2) for i in range(0, len(bits), 7)))
                chunks.append(b" ")
        raw = b"".join(chunks)
        if raw and sum(32 <= b < 127 for b in raw) / len(raw) > 0.9:
            msgs.append(raw.decode("ascii", "replace"))
    return msgs[:1]


def normalize(text: str) -> Normalized:
    """Undo invisible characters, tag smuggling, zalgo, homoglyphs, spacing and leetspeak."""
    n = Normalized(text="")
    if not text.isascii():
        # the character classes below are above ASCII but for a few controls: with gates, each is looked
        # for in the text's characters above ASCII only (most of a text is ASCII)
        wide = _above_ascii(text) if textfacts.ENABLED else text
        if _NEEDS_STRIP.search(wide) or wide is not text and _has_ascii_control(text):
            n.hidden = hidden_messages(text)
            text = _strip_invisible(text, n)
            wide = _above_ascii(text) if textfacts.ENABLED else text
        if _COMBINING.search(wide):
            text = _strip_zalgo(text, n)
        text = unicodedata.normalize("NFKC", text)
        if not text.isascii():
            text = _map_homoglyphs(text, n)
    elif "\x08" in text or "\x1b" in text:
        text = _strip_invisible(text, n)
    gated = textfacts.ENABLED  # C-speed tests on class views rule most scans out
    # a match of ``_SPACED`` is ASCII letters and spaces: "a a a a" in the letters view, where any
    # other character (non-ASCII ones are "?" there, one byte each) is not "a" nor " "
    if " " in text and (not gated or b"a a a a" in text.encode("ascii", "replace").translate(_LETTERS_A)):
        spaced = _SPACED.findall(text)
        if spaced:
            n.spaced_runs = len(spaced)
            text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    low = text.lower()
    if not gated:
        low = _WS.sub(" ", low)
    else:  # the same as ``_WS.sub`` (ASCII characters only, on any text): tabs, form and line feeds to spaces, runs of spaces to one
        for ch in "\t\f\v":
            if ch in low:
                low = low.replace(ch, " ")
        while "  " in low:
            low = low.replace("  ", " ")
    n.text = low
    if gated:
        # a character above ASCII is one "?" in the bytes, then " " in the view: none that ``_LEET_WORD`` consumes
        classes = low.encode("ascii", "replace").translate(_LEET_CLASSES)
        # a one-byte test first: most prose has no digit or @ $ | at all (two-byte needles scan slowly)
        spans = _leet_spans(low, classes) if b"d" in classes and (b"ad" in classes or b"da" in classes) else []
    else:
        classes = b""
        spans = [m.span() for m in _LEET_WORD.finditer(low)] if _LEET_GATE.search(low) else []
    if spans:
        # Only the neighbourhood of leet words can read differently once mapped.
        parts, last = [], -1
        for a, b in spans:
            a, b = max(0, a - 80), min(len(low), b + 80)
            if parts and a <= last:
                parts[-1] = (parts[-1][0], b)
            else:
                parts.append((a, b))
            last = b
        if gated:
            n.leet = "\n".join(_leet_part(low, classes, a, b, spans) for a, b in parts)
        else:
            n.leet = "\n".join(leet_to_ascii(low[a:b]) for a, b in parts)
    return n


# ASCII letters -> "a" (what ``_SPACED`` needs: four single letters separated by spaces)
_LETTERS_A = bytes(97 if 65 <= c <= 90 or 97 <= c <= 122 else c for c in range(256))
# the characters ``_LEET_WORD`` consumes, by class: a-z -> "a", 0-9 @ $ | -> "d", "!" stays; the rest -> " "
_LEET_CLASSES = bytes(97 if 97 <= c <= 122 else 100 if 48 <= c <= 57 or chr(c) in "@$|" else 33 if c == 33 else 32
                      for c in range(256))


def _leet_spans(low: str, classes: bytes) -> list[tuple[int, int]]:
    """The spans of ``_LEET_WORD`` in a lower-case ``low`` (``classes`` is its ``_LEET_CLASSES`` view).

    A match lies inside one run of the characters the pattern consumes, and needs a letter and one
    of 0-9 @ $ | in that run, so the run holds "ad", "da", "a!...d" or "d!...a" in the class view.
    Only such runs are scanned (with the character after each, for ``\\b``).
    """
    n = len(classes)
    runs: set[tuple[int, int]] = set()
    for pair in (b"ad", b"da", b"a!", b"d!") if b"!" in classes else (b"ad", b"da"):
        i = classes.find(pair)
        while i >= 0:
            start = classes.rfind(b" ", 0, i) + 1
            end = classes.find(b" ", i)
            if end < 0:
                end = n
            runs.add((start, end))
            i = classes.find(pair, end)
    spans: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if classes.find(b"a", start, end) >= 0 and classes.find(b"d", start, end) >= 0:
            spans.extend(_run_matches(low, start, end))
    return spans


def _run_matches(low: str, start: int, end: int) -> list[tuple[int, int]]:
    """``_LEET_WORD`` spans in the run ``start:end`` of ``low`` (a run of the characters it consumes,
    holding a letter and one of 0-9 @ $ |), reading the character after the run for ``\\b``."""
    before, after = low[start - 1:start] if start else "", low[end:end + 1]
    if end - start >= 3 and low[start] in _ALNUM_LOW and low[end - 1] in _ALNUM_LOW \
            and before != "_" and after != "_" and before.isascii() and after.isascii():
        # word characters at both ends and none just outside (the only ASCII one a run's neighbour can
        # be is "_"; one above ASCII may be a word character: the pattern decides), so ``\b`` holds at
        # both ends and the pattern takes the whole run
        return [(start, end)]
    return [m.span() for m in _LEET_WORD.finditer(low, start, end + 1)]


_ALNUM_LOW = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _leet_part(low: str, classes: bytes, a: int, b: int, spans: list[tuple[int, int]]) -> str:
    """``_leet_mapped(low[a:b], classes[a:b])``, reusing ``spans`` (those of the whole text) inside the part.

    A leet word depends only on the run of leet characters around it and the characters on either
    side, so a run with its neighbours inside the part reads the same there; only the part's first
    and last runs (which the cut may shorten) are looked at again.
    """
    part, pc = low[a:b], classes[a:b]
    head = pc.find(b" ")  # the first run ends here
    if head < 0:
        return _leet_mapped(part, pc)
    tail = pc.rfind(b" ") + 1  # the last run starts here
    own = _run_spans(part, pc, 0, head) + [(s - a, e - a) for s, e in spans if a + head < s and e < a + tail]
    own += _run_spans(part, pc, tail, len(pc))
    return _mapped(part, own)


def _run_spans(part: str, classes: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """The ``_LEET_WORD`` spans in the run ``start:end`` (as ``_leet_spans`` finds them)."""
    if start < end and classes.find(b"a", start, end) >= 0 and classes.find(b"d", start, end) >= 0:
        return _run_matches(part, start, end)
    return []


def _mapped(part: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for a, b in spans:
        out.append(part[pos:a])
        out.append(part[a:b].translate(_LEET))
        pos = b
    out.append(part[pos:])
    return "".join(out)


def _leet_mapped(part: str, classes: bytes) -> str:
    """``leet_to_ascii(part)`` for an ASCII lower-case ``part`` with its ``_LEET_CLASSES`` view."""
    out: list[str] = []
    pos = 0
    for a, b in _leet_spans(part, classes):
        out.append(part[pos:a])
        out.append(part[a:b].translate(_LEET))
        pos = b
    out.append(part[pos:])
    return "".join(out)


_TAG_CHAR = re.compile("[\U000e0000-\U000e007f]")
_SUPPLEMENT_SELECTOR = re.compile("[\U000e0100-\U000e01ef]")


def _strip_invisible(text: str, n: Normalized) -> str:
    if not textfacts.ENABLED:
        return _strip_invisible_chars(text, n)
    # ``_strip_invisible_chars`` with the kept characters between two stripped ones taken as one piece
    # (``_NEEDS_STRIP`` matches exactly the characters it strips)
    out: list[str] = []
    prev_alpha = False
    pending = 0
    run = 0
    pos = 0
    for m in _NEEDS_STRIP.finditer(text):
        i = m.start()
        if i > pos:
            kept = text[pos:i]
            if pending and (prev_alpha or kept[0].isascii() and kept[0].isalpha()):
                n.in_word_invisible += pending
            pending = 0
            prev_alpha = kept[-1].isalpha()
            out.append(kept)
            run = 0
        pos = i + 1
        o = ord(text[i])
        run = _run_after(o, run, n)
        if o == 8 and out:  # a backspace erases the character before it
            if len(out[-1]) == 1:
                out.pop()
            else:
                out[-1] = out[-1][:-1]
        pending += _count_stripped(o, n)
    if pos < len(text):
        kept = text[pos:]
        if pending and (prev_alpha or kept[0].isascii() and kept[0].isalpha()):
            n.in_word_invisible += pending
        out.append(kept)
    return "".join(out)


def _run_after(o: int, run: int, n: Normalized) -> int:
    """The run of invisible characters after the character ``o`` (``run`` before it), kept longest in ``n``."""
    if o in _INVISIBLE or 0xE0000 <= o <= 0xE007F:
        run += 1
        if run > n.invisible_run:
            n.invisible_run = run
        return run
    return 0


def _count_stripped(o: int, n: Normalized) -> int:
    """Count the stripped character ``o`` in ``n``; 1 if it may hide something inside a word, else 0."""
    n.invisible += 1
    if o in _BIDI:
        n.bidi += 1
    if 0xFE00 <= o <= 0xFE0F or o in (0x200C, 0x200D, 0x00AD):
        return 0  # emoji selectors, joiners and soft hyphens are ordinary in real text
    if o < 32 or 0x7F <= o < 0xA0:
        n.controls += 1
    return 1


def _strip_invisible_chars(text: str, n: Normalized) -> str:
    out: list[str] = []
    prev_alpha = False
    pending = 0
    run = 0
    for ch in text:
        o = ord(ch)
        run = _run_after(o, run, n)
        if o in _INVISIBLE or 0xE0000 <= o <= 0xE007F or 0xE0100 <= o <= 0xE01EF or 0xFE00 <= o <= 0xFE0F \
                or (o < 32 and ch not in "\t\n\r") or 0x7F <= o < 0xA0:
            if o == 8 and out:  # a backspace erases the character before it
                out.pop()
            pending += _count_stripped(o, n)
            continue
        if pending and (prev_alpha or ch.isascii() and ch.isalpha()):
            n.in_word_invisible += pending
        pending = 0
        prev_alpha = ch.isalpha()
        out.append(ch)
    return "".join(out)


_COMBINING = re.compile("[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0e31-\u0e3a"
                        "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _strip_zalgo(text: str, n: Normalized) -> str:
    """(the caller has found a combining mark in ``text``)"""
    out: list[str] = []
    base_ascii = False
    marks = heavy = 0
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if base_ascii:
                marks += 1
                continue
        else:
            heavy += marks >= 3
            marks = 0
            base_ascii = ch.isascii()
        out.append(ch)
    n.zalgo_marks = heavy + (marks >= 3)
    return unicodedata.normalize("NFC", "".join(out))


def _map_homoglyphs(text: str, n: Normalized) -> str:
    if textfacts.ENABLED and _HOMOGLYPH_ANY.search(_above_ascii(text)) is None:
        return text  # no look-alike letter: ``fix`` would return every word as it is

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.isascii() or not any(c in _HOMOGLYPH_KEYS for c in w):
            return w
        mapped = w.translate(_HOMOGLYPHS)
        if mapped.isascii() and any(c.isascii() and c.isalpha() for c in w):
            n.homoglyph_words += 1
            return mapped
        if mapped.isascii() and n.homoglyph_words:
            return mapped
        return w
    return _WORD.sub(fix, text)
