"""One cheap pass that says which phrase features can match a text, and where to look.

Running ~70 regular expressions over every prompt costs milliseconds; most of them cannot match
because the words they need are absent. ``TriggerIndex`` tokenises the (normalised, lower-cased)
text once, looks each distinct word up in a table keyed by its first three letters, and returns,
for every feature whose anchor words are present, the positions of those anchors. Features are
then matched only in windows around those positions (see ``Feature.search``).

Anchors are necessary conditions: a feature whose anchors are all absent cannot match, so this
pass never changes a verdict, it only skips work. Where the compiled literal scan ran on an ASCII view
(``literals.py``), the anchors that occur and their positions come from that scan instead, and the
word lookup above is one key test per anchor found.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from .prefilter import ascii_runs, literal_keys, register_start

__all__ = ["TriggerIndex"]

_WORDS = re.compile(r"[^\W\d_]+")
_ASCII_WORDS = re.compile(r"[A-Za-z]+")
_MAX_POSITIONS = 16  # past this many anchor hits a feature just scans the whole text
_MAX_CACHED_WORDS = 50_000  # words remembered with the anchors they start with
# ASCII letters stay, everything else becomes a space: ``split`` then yields the runs of ``[A-Za-z]+``
_LETTERS_ONLY = bytes(c if 65 <= c <= 90 or 97 <= c <= 122 else 32 for c in range(256))


class TriggerIndex:
    """Maps a text to ``{feature name: [anchor positions]}`` for the features that could match."""

    def __init__(self, features: Iterable) -> None:
        features = tuple(features)
        self.always: list[str] = []                       # features without anchors: always run
        self._by3: dict[str, list[tuple[str, str]]] = {}  # first 3 letters of the head word -> (head, anchor)
        self._short: dict[str, list[str]] = {}            # head words shorter than 3 letters
        self._symbols: list[str] = []                     # anchors that do not start with a letter
        self._features_of: dict[str, list[str]] = {}      # anchor -> features
        # features that scan the whole text (``window`` None): their anchors' positions go unused
        self._whole = frozenset(f.name for f in features if getattr(f, "window", ()) is None)
        # word -> the anchors it starts (a head that is the whole anchor: present, no scan needed) and the
        # longer anchors whose head it starts (confirmed with a substring test)
        self._heads: dict[str | bytes, tuple[frozenset[str], tuple[str, ...]]] = {}
        self._headless: set[str | bytes] = set()          # words known to start no head: skipped at C speed
        for f in features:
            if not f.anchors:
                self.always.append(f.name)
                continue
            for a in f.anchors:
                self._features_of.setdefault(a, []).append(f.name)
        # anchors in the order of their first feature: candidates come out in a fixed order (the order
        # of a set of strings changes with the hash seed), so equal-weight hits always give the same evidence
        self._rank = {a: i for i, a in enumerate(self._features_of)}
        # the keys (prefilter.literal_keys) a text holding the anchor offers: a set test before a scan
        self._needs = {a: literal_keys(a) if a.isascii() else frozenset() for a in self._features_of}
        for a in self._features_of:
            head_m = _WORDS.match(a.lstrip())
            if head_m is None or a.lstrip()[0].isdigit():
                self._symbols.append(a)
                continue
            head = head_m.group(0)
            if len(head) >= 3:
                self._by3.setdefault(head[:3], []).append((head, a))
                continue
            # A short head ("to you") is only a substring test. A longer word inside the anchor that
            # follows a non-letter there ("you") starts a word wherever the anchor occurs, so the
            # anchor is only looked for when some word of the text starts with it (same answer).
            inner = [m.group(0) for m in _ASCII_WORDS.finditer(a)
                     if m.start() > 0 and not a[m.start() - 1].isalpha() and len(m.group(0)) >= 3]
            if inner:
                gate = max(inner, key=len)
                self._by3.setdefault(gate[:3], []).append((gate, a))
            else:
                self._short.setdefault(head, []).append(a)
        # the ASCII characters the symbol anchors begin with (each looked for in an ASCII text first)
        self._firsts = sorted({a[0] for a in self._symbols if a[0].isascii()})
        # every head is ASCII: a word of other text matters only through its leading ASCII letters
        self._ascii_heads = all(h.isascii() for pairs in self._by3.values() for h, _ in pairs)
        # for ``present`` from a literal scan: the anchors, and per anchor looked up by a head word the key
        # (prefilter) a text offers when one of its words starts with that head
        self.anchors = frozenset(self._features_of)
        self._head_key = {a: register_start(head) for pairs in self._by3.values() for head, a in pairs}

    def present(self, low: str, words: set[bytes] | None = None, keys: set[bytes] | None = None,
                literals: object = None) -> set[str]:
        """The anchors that occur in ``low`` (verified as substrings).

        ``words``: the set of letter runs of an ASCII ``low`` as bytes, when the caller has it;
        ``keys``: ``prefilter.text_keys(low)`` made after this index was built (building registers the
        word starts and ends of the anchors), when the caller has it: anchors whose words the text lacks
        are then ruled out without a scan. ``literals``: answers ``anchor in literals`` for every anchor
        (``literals.Literals.scan``), when the caller has it: it stands in for the substring tests.

        An anchor looked up by a head word counts only when a word of the text starts with that head.
        With ``keys`` and a set of the anchors that occur, that is a key test per anchor found.
        """
        if type(literals) is set and keys is not None and low.isascii():  # other text: words are read differently below
            head_key = self._head_key
            return {a for a in self.anchors.intersection(literals) if (k := head_key.get(a)) is None or k in keys}
        if literals is None:
            literals = low
        found: set[str] = set()
        heads = self._heads
        needs = self._needs
        ascii_text = low.isascii()
        if words is not None:
            pass
        elif ascii_text:  # one C-speed pass splits out the letter runs (the words ``[A-Za-z]+`` finds)
            words = set(low.encode("ascii").translate(_LETTERS_ONLY).split())
        elif self._ascii_heads:
            words = self._word_starts(low)
        else:
            words = set(_WORDS.findall(low))
        # most words start no anchor's head: a set difference drops the ones already seen
        to_test: set[str] = set()  # anchors longer than their head, looked for once (words share heads: "you", "your")
        for w in words - self._headless:
            got = heads.get(w) or self._heads_of(w)
            if got:
                found |= got[0]
                to_test.update(got[1])
        for a in to_test:
            if (keys is None or needs[a] <= keys) and a in literals:
                found.add(a)
        # two-letter heads ("if ", "ai") are rare enough to test as substrings directly: each anchor holds
        # its head, so the anchor alone is looked for (a two-letter needle is the slowest kind of scan)
        for anchors in self._short.values():
            for a in anchors:
                if a not in found and (keys is None or needs[a] <= keys) and a in literals:
                    found.add(a)
        symbols = self._symbols
        if ascii_text:  # a one-character test per first character (memchr speed): most are absent from prose
            firsts = {c for c in self._firsts if c in low}
            symbols = [a for a in symbols if a[0] in firsts]
        for a in symbols:
            if (keys is None or needs[a] <= keys) and a in literals:
                found.add(a)
        return found

    def _word_starts(self, low: str) -> frozenset[bytes]:
        """For text that is not ASCII, when every head is ASCII: the leading ASCII letters of its words
        (``[^\\W\\d_]+``), which start the same heads as the whole words do (a head is ASCII, so a word
        starts with it only if its leading ASCII letters do).

        A word's leading ASCII letters are a run of ASCII letters in the bytes view (every other
        character is a space there); the only other runs follow a letter above ASCII ("caf\u00e9ignore" holds
        "ignore"), and such a run is dropped unless it also begins a word somewhere, when it starts a head.
        """
        words = ascii_runs(low)
        drop = set()
        for m in _AFTER_WIDE_LETTER.finditer(low):
            run = m.group(1).encode("ascii")
            if run in words and run not in self._headless and (self._heads.get(run) or self._heads_of(run)):
                if _word_start(low, m.group(1)) is None:
                    drop.add(run)
        return words - drop if drop else words

    def _heads_of(self, w: str | bytes) -> tuple[frozenset[str], tuple[str, ...]] | None:
        """The anchors whose head starts the word ``w`` (see ``_heads``), remembered per word; None: no anchor."""
        s = w.decode("ascii") if isinstance(w, bytes) else w
        pairs = [(head, a) for head, a in self._by3.get(s[:3], ()) if s.startswith(head)]
        if len(self._heads) + len(self._headless) >= _MAX_CACHED_WORDS:
            self._heads.clear()
            self._headless.clear()
        if not pairs:
            self._headless.add(w)
            return None
        got = self._heads[w] = (frozenset(a for head, a in pairs if a == head),
                                tuple(dict.fromkeys(a for head, a in pairs if a != head)))
        return got

    def candidates(self, low: str, words: set[bytes] | None = None, keep: Callable[[str], bool] | None = None,
                   keys: set[bytes] | None = None, literals: object = None,
                   where: dict[str, list[int] | None] | None = None) -> dict[str, list[int] | None]:
        """Feature name -> sorted anchor positions (None: scan the whole text).

        ``keep`` (optional) drops features before their anchors are located; ``words``, ``keys`` and
        ``literals`` as for ``present``; ``where``: the anchors' positions from the same scan, when it
        gave them (``_positions`` for each anchor found).
        """
        kept: dict[str, bool] = {}
        out: dict[str, list[int] | None] = {}
        for name in self.always:
            if keep is None or keep(name):
                out[name] = None
        for a in sorted(self.present(low, words, keys, literals), key=self._rank.__getitem__):
            names = self._features_of[a]
            if keep is not None:
                names = [n for n in names if (kept[n] if n in kept else kept.setdefault(n, keep(n)))]
                if not names:
                    continue
            pos = None if self._whole.issuperset(names) else where[a] if where is not None else _positions(low, a)
            for name in names:
                prev = out.get(name, [])
                if prev is None or pos is None:
                    out[name] = None
                else:
                    merged = prev + pos
                    out[name] = merged if len(merged) <= _MAX_POSITIONS else None
        for name, pos in out.items():
            if pos:
                pos.sort()
        return out


# a letter above ASCII (``[^\W\d_]`` there) followed by a run of ASCII letters
_AFTER_WIDE_LETTER = re.compile(r"[^\W\d_\x00-\x7f]([A-Za-z]+)")


def _word_start(low: str, run: str) -> re.Match[str] | None:
    """Where ``run`` (ASCII letters) occurs as the whole leading ASCII part of a word of ``low``."""
    return re.search(r"(?<![^\W\d_])" + run + "(?![A-Za-z])", low)


def _positions(low: str, a: str) -> list[int] | None:
    out = []
    i = low.find(a)
    while i >= 0:
        out.append(i)
        if len(out) == 4 and len(out) - 1 + low.count(a, i) > _MAX_POSITIONS:
            return None  # a frequent anchor: one count (a lower bound when occurrences overlap) settles it
        if len(out) > _MAX_POSITIONS:
            return None
        i = low.find(a, i + 1)
    return out

