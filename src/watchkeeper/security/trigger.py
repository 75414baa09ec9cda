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
from typing import Iterable

__all__ = ["TriggerIndex"]

_WORDS = re.compile(r"[^\W\d_]+")
_ASCII_WORDS = re.compile(r"[A-Za-z]+")  # the same words in ASCII text, found faster
_MAX_POSITIONS = 16  # past this many anchor hits a feature just scans the whole text


class TriggerIndex:
    """Maps a text to ``{feature name: [anchor positions]}`` for the features that could match."""

    def __init__(self, features: Iterable) -> None:
        self.always: list[str] = []                       # features without anchors: always run
        self._by3: dict[str, list[tuple[str, str]]] = {}  # first 3 letters of the head word -> (head, anchor)
        self._short: dict[str, list[str]] = {}            # head words shorter than 3 letters
        self._symbols: list[str] = []                     # anchors that do not start with a letter
        self._features_of: dict[str, list[str]] = {}      # anchor -> features
        for f in features:
            if not f.anchors:
                self.always.append(f.name)
                continue
            for a in f.anchors:
                self._features_of.setdefault(a, []).append(f.name)
        for a in self._features_of:
            head_m = _WORDS.match(a.lstrip())
            if head_m is None or a.lstrip()[0].isdigit():
                self._symbols.append(a)
                continue
            head = head_m.group(0)
            if len(head) < 3:
                self._short.setdefault(head, []).append(a)
            else:
                self._by3.setdefault(head[:3], []).append((head, a))

    def present(self, low: str) -> set[str]:
        """The anchors that occur in ``low`` (verified as substrings)."""
        found: set[str] = set()
        by3, short = self._by3, self._short
        for w in set((_ASCII_WORDS if low.isascii() else _WORDS).findall(low)):
            for head, a in by3.get(w[:3], ()):
                if w.startswith(head) and a not in found and (a == head or a in low):
                    found.add(a)
        # two-letter heads ("if ", "ai") are rare enough to test as substrings directly
        for anchors in short.values():
            for a in anchors:
                if a not in found and a in low:
                    found.add(a)
        for a in self._symbols:
            if a in low:
                found.add(a)
        return found

    def candidates(self, low: str) -> dict[str, list[int] | None]:
        """Feature name -> sorted anchor positions (None: scan the whole text)."""
        out: dict[str, list[int] | None] = {name: None for name in self.always}
        for a in self.present(low):
            pos = _positions(low, a)
            for name in self._features_of[a]:
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
        if len(out) > _MAX_POSITIONS:
            return None
        i = low.find(a, i + 1)
    return out
