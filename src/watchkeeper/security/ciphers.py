"""Letter ciphers (rot13, atbash, reversal) and the English-likeness scores that spot them.

``letter_ciphers`` tries each cipher on every line that does not read as English and keeps the
first one that does. ``letter_ciphers_ascii`` gives the same answers for ASCII text without
building the three candidate lines: a cipher maps words and letter pairs one to one, so "is the
rot13 of this word a common word" is "is this word in the rot13 of the common-word list", a set
made once at import; letter pairs are counted at C speed with ``map``.
"""

from __future__ import annotations

import codecs
import re
from operator import add as _concat

__all__ = ["englishness", "bigram_score", "letter_ciphers", "letter_ciphers_ascii", "letter_lines"]

_LETTERS = re.compile(r"[A-Za-z]+")

_COMMON = frozenset("""
a about above after again all also am an and any are as ask at be been before being but by can
could data did do does down each email every file first for from get give go had has have he her
here him his how i if in into is it its just know like list make me message more most my new no
not now of on one only or other our out over please print previous prompt rules said say secret
see send she should show so some system tell than that the their them then there these they this
those to up us use was we well were what when where which who will with word would write you your
instructions ignore password user all admin reveal now follow task text above below following
""".split())
# The most frequent letter pairs of English prose (a generic list, not fitted to any corpus).
_BIGRAMS = frozenset("""th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve
co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo ho pe ec pr no ct us ac ot il tr ly nc
et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci
vi pl ig tu ev ld ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov by rm ep tt
oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va um pp ua up lu go ht ru ug ds lt pi rc rr eg au ck ew mu
br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud mb ip ub oi rl gu dr hr cc tw ft wn nu af hu nn eo vo
rv nf xp gn sm fl iz ok nl my gl aw ju oa eq sy sl ps jo fs na ea""".split())

def englishness(text: str) -> float:
    """Share of words (letters only) that are common English words; 0 when there are none."""
    words = _LETTERS.findall(text.lower())
    if not words:
        return 0.0
    return sum(w in _COMMON for w in words) / len(words)


def bigram_score(text: str) -> float:
    """Share of adjacent letter pairs inside words that are frequent in English."""
    pairs = hits = 0
    for w in _LETTERS.findall(text.lower()):
        for i in range(len(w) - 1):
            pairs += 1
            hits += w[i:i + 2] in _BIGRAMS
    return hits / pairs if pairs else 0.0


def _rot13(s: str) -> str:
    return codecs.encode(s, "rot13")


_ATBASH = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                        "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA")


def letter_ciphers(text: str, add) -> None:
    """Try rot13, atbash and reversal on lines that read as non-English."""
    lines = text.split("\n")
    if len(lines) > 40 or len(text) > 6000:
        return
    pos = 0
    for line in lines:
        start = pos
        pos += len(line) + 1
        if len(line) > 400 or len(line) < 4:
            continue
        words = _LETTERS.findall(line)
        letters = sum(map(len, words))
        if letters < 4:
            continue
        base = englishness(line)
        if base >= 0.34:
            continue
        base_bi = bigram_score(line) if letters >= 8 or len(words) == 1 else 1.0
        for kind, cand in (("rot13", _rot13(line)), ("atbash", line.translate(_ATBASH)), ("reversed", line[::-1])):
            if len(words) >= 2 and letters >= 8 and englishness(cand) >= max(0.4, base + 0.3) \
                    or base_bi < 0.6 and bigram_score(cand) >= max(0.8, base_bi + 0.35):
                add(kind, start, start + len(line), cand)
                break


def _mapped(words: frozenset[str], fn) -> frozenset[str]:
    return frozenset(fn(w) for w in words)


_KINDS = ("rot13", "atbash", "reversed")
_MAKE = (lambda s: _rot13(s), lambda s: s.translate(_ATBASH), lambda s: s[::-1])
# word w of a line is common once ciphered  <=>  w is in the cipher of the common words (each map is its own inverse)
_COMMON_BY = (_mapped(_COMMON, _rot13), _mapped(_COMMON, lambda w: w.translate(_ATBASH)), _mapped(_COMMON, lambda w: w[::-1]))
_BIGRAMS_BY = (_mapped(_BIGRAMS, _rot13), _mapped(_BIGRAMS, lambda w: w.translate(_ATBASH)), _mapped(_BIGRAMS, lambda w: w[::-1]))


def letter_ciphers_ascii(text: str, add, words: set[bytes] | None = None) -> None:
    """``letter_ciphers`` for an ASCII ``text``: same spans, same order, without trial decoding.

    Also for other text with no character whose ``lower()`` holds an ASCII letter: a character
    above ASCII ("?" in the bytes view, one byte each) parts letter runs in both.
    ``words``: the set of lower-cased letter runs of ``text`` (as bytes), when the caller has it.
    """
    if not letter_lines(text):
        return
    # one bytes pass lower-cases the text and blanks everything but letters: each line's words
    # are then a C-speed ``split`` instead of a regular expression per line
    raw = text.encode("ascii", "replace").translate(_WORDS_ONLY)
    hot = _hot_words(set(raw.split()) if words is None else words)
    if not hot:
        return
    # only the lines that hold a hot word can read as English once ciphered: look at those, in order
    for start in _hot_lines(raw, hot):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if len(line) > 400 or len(line) < 4:
            continue
        words = raw[start:end].split()
        n = len(words)
        letters = sum(map(len, words))
        if letters < 4:
            continue
        base = sum(map(_COMMON_B.__contains__, words)) / n
        if base >= 0.34:
            continue
        pairs = letters - n
        # a ciphered line reads as English by its words (some word is a ciphered common word) or
        # by its letter pairs (then the line's own pairs are not English-like)
        wide = n >= 2 and letters >= 8 and not _COMMON_BY_ANY.isdisjoint(words)
        base_bi = (_word_pairs(words, 0) / pairs if pairs else 0.0) if letters >= 8 or n == 1 else 1.0
        if not wide and base_bi >= 0.6:
            continue
        for k in range(3):
            if wide and sum(map(_COMMON_BY_B[k].__contains__, words)) / n >= max(0.4, base + 0.3):
                add(_KINDS[k], start, start + len(line), _MAKE[k](line))
                break
            if base_bi < 0.6 and (_word_pairs(words, k + 1) / pairs if pairs else 0.0) >= max(0.8, base_bi + 0.35):
                add(_KINDS[k], start, start + len(line), _MAKE[k](line))
                break


def _hot_lines(raw: bytes, hot: set[bytes]) -> list[int]:
    """Where the lines of ``raw`` (words, spaces and newlines) that hold a word of ``hot`` start, in order."""
    return _lines_by_search(raw, hot) if len(hot) <= 8 else _lines_by_rows(raw, hot)


def _lines_by_rows(raw: bytes, hot: set[bytes]) -> list[int]:
    """``_hot_lines``, line by line: a line's whole words are its ``split``."""
    starts = []
    pos = 0
    for row in raw.split(b"\n"):
        if not hot.isdisjoint(row.split()):
            starts.append(pos)
        pos += len(row) + 1
    return starts


def _lines_by_search(raw: bytes, hot: set[bytes]) -> list[int]:
    """``_hot_lines`` by one substring search per hot word (a few hot words is the common case).

    A word of a line is a whole run of letters: where " word " occurs once newlines are spaces too and
    one space pads each end (the same offsets, shifted by one).
    """
    flat = b" " + raw.replace(b"\n", b" ") + b" "
    starts = set()
    for word in hot:
        needle = b" " + word + b" "
        i = flat.find(needle)  # the word starts at ``raw[i]``
        while i >= 0:
            starts.add(raw.rfind(b"\n", 0, i) + 1)
            end = raw.find(b"\n", i)  # the rest of this line is done: on from the next one
            i = flat.find(needle, end + 1) if end >= 0 else -1
    return sorted(starts)


def letter_lines(text: str) -> bool:
    """Whether ``letter_ciphers`` looks at the lines of ``text`` at all (40 lines and 6,000 characters at most)."""
    return text.count("\n") < 40 and len(text) <= 6000


def _hot_words(words: set[bytes]) -> set[bytes]:
    """The words that can make a line read as English once ciphered (a line without one never does).

    By its words, a ciphered line must gain common words: it holds a ciphered common word that is not
    common itself. By its letter pairs, the share of English pairs must grow by 0.35 once ciphered,
    so some word's ciphered pairs beat its plain ones by 0.35 per pair (20 * gain >= 7 * pairs).
    """
    hot = words & _COMMON_GAINED
    for w in words - _COOL:
        if w not in _HOT:
            plain = _word_pairs([w], 0)
            if len(w) < 2 or not any(20 * (_word_pairs([w], k) - plain) >= 7 * (len(w) - 1) for k in (1, 2, 3)):
                if len(_COOL) > _PAIR_CACHE_MAX:
                    _COOL.clear()
                _COOL.add(w)
                continue
            if len(_HOT) > _PAIR_CACHE_MAX:
                _HOT.clear()
            _HOT.add(w)
        hot.add(w)
    return hot


_WORDS_ONLY = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or c == 10 else 32 for c in range(256))
_COMMON_B = frozenset(w.encode() for w in _COMMON)
_COMMON_BY_B = tuple(frozenset(w.encode() for w in ws) for ws in _COMMON_BY)
_COMMON_BY_ANY = frozenset().union(*_COMMON_BY_B)
_COMMON_GAINED = _COMMON_BY_ANY - _COMMON_B  # ciphered common words that are not common words themselves
_HOT: set[bytes] = set()   # words whose letter pairs some cipher makes more English (see _hot_words)
_COOL: set[bytes] = set()  # words it does not
_PAIR_SETS_B = tuple(frozenset(p.encode() for p in ps) for ps in (_BIGRAMS,) + _BIGRAMS_BY)
# word -> frequent-pair counts (plain, then each cipher); words recur, so they are counted once
_PAIR_COUNTS: tuple[dict[bytes, int], ...] = ({}, {}, {}, {})
_PAIR_CACHE_MAX = 50_000


def _word_pairs(words: list[bytes], k: int) -> int:
    """Letter pairs inside ``words`` that are frequent in English (k=0) or in cipher k-1 of English."""
    counts = _PAIR_COUNTS[k]
    try:
        return sum(map(counts.__getitem__, words))
    except KeyError:
        if len(counts) > _PAIR_CACHE_MAX:
            counts.clear()
        pairs = _PAIR_SETS_B[k]
        for w in words:
            if w not in counts:
                counts[w] = sum(w[i:i + 2] in pairs for i in range(len(w) - 1))
        return sum(map(counts.__getitem__, words))


def _pair_hits(joined: str, pairs: frozenset[str]) -> int:
    """Adjacent letter pairs of ``joined`` (words separated by one space) that are in ``pairs``."""
    return sum(map(pairs.__contains__, map(_concat, joined, joined[1:])))
