"""One cheap pass that says which phrase features can match a text, and where to look.

Running ~70 regular expressions over every prompt costs milliseconds; most of them cannot match
because the words they need are absent. ``TriggerIndex`` tokenises the (normalised, lower-cased)
text once, looks each distinct word up in a table keyed by its first three letters, and returns,
for every feature whose anchor words are present, the positions of those anchors. Features are
then matched only in windows around those positions (see ``Feature.search``).

Anchors are necessary conditions: a feature whose anchors are all absent cannot match, so this
pass never changes a verdict, it only skips work.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

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
        self.always: list[str] = []                       # features without anchors: always run
        self._by3: dict[str, list[tuple[str, str]]] = {}  # first 3 letters of the head word -> (head, anchor)
        self._short: dict[str, list[str]] = {}            # head words shorter than 3 letters
        self._symbols: list[str] = []                     # anchors that do not start with a letter
        self._features_of: dict[str, list[str]] = {}      # anchor -> features
        self._heads: dict[str | bytes, tuple[tuple[str, str], ...]] = {}  # word -> (head, anchor) it starts with
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
        # every byte but the first characters of the symbol anchors (deleted from an ASCII text to see
        # which of those characters it holds)
        firsts = {ord(a[0]) for a in self._symbols}
        self._not_first = bytes(c for c in range(256) if c not in firsts)

    def present(self, low: str, words: set[bytes] | None = None) -> set[str]:
        """The anchors that occur in ``low`` (verified as substrings).

        ``words``: the set of letter runs of an ASCII ``low`` as bytes, when the caller has it.
        """
        found: set[str] = set()
        heads = self._heads
        ascii_text = low.isascii()
        if words is not None:
            pass
        elif ascii_text:  # one C-speed pass splits out the letter runs (the words ``[A-Za-z]+`` finds)
            words = set(low.encode("ascii").translate(_LETTERS_ONLY).split())
        else:
            words = set(_WORDS.findall(low))
        # most words start no anchor's head: a set difference drops the ones already seen
        tested: set[str] = set()  # anchors already looked for (words share heads: "you", "your")
        for w in words - self._headless:
            got = heads.get(w)
            if got is None:
                got = self._heads_of(w)
            for head, a in got:
                if a not in tested:
                    tested.add(a)
                    if a == head or a in low:
                        found.add(a)
        # two-letter heads ("if ", "ai") are rare enough to test as substrings directly
        for head, anchors in self._short.items():
            if head in low:
                for a in anchors:
                    if a not in found and a in low:
                        found.add(a)
        symbols = self._symbols
        if ascii_text:  # one C-speed pass keeps the characters symbols begin with: most are absent from prose
            firsts = low.encode("ascii").translate(None, self._not_first)
            symbols = [a for a in symbols if ord(a[0]) < 128 and ord(a[0]) in firsts]
        for a in symbols:
            if a in low:
                found.add(a)
        return found

    def _heads_of(self, w: str | bytes) -> tuple[tuple[str, str], ...]:
        """(head, anchor) pairs whose head starts the word ``w``, remembered per word."""
        s = w.decode("ascii") if isinstance(w, bytes) else w
        got = tuple((head, a) for head, a in self._by3.get(s[:3], ()) if s.startswith(head))
        if len(self._heads) + len(self._headless) >= _MAX_CACHED_WORDS:
            self._heads.clear()
            self._headless.clear()
        if got:
            self._heads[w] = got
        else:
            self._headless.add(w)
        return got

    def candidates(self, low: str, words: set[bytes] | None = None,
                   keep: Callable[[str], bool] | None = None) -> dict[str, list[int] | None]:
        """Feature name -> sorted anchor positions (None: scan the whole text).

        ``keep`` (optional) drops features before their anchors are located.
        """
        kept: dict[str, bool] = {}
        out: dict[str, list[int] | None] = {}
        for name in self.always:
            if keep is None or keep(name):
                out[name] = None
        for a in sorted(self.present(low, words), key=self._rank.__getitem__):
            names = self._features_of[a]
            if keep is not None:
                names = [n for n in names if (kept[n] if n in kept else kept.setdefault(n, keep(n)))]
                if not names:
                    continue
            pos = _positions(low, a)
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

