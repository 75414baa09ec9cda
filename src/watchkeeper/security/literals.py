"""Which of the detectors' literal strings occur in a view of the text.

The gates (prefilter.compiled) and the trigger index ask, per view, whether each of a few hundred
literal pieces and anchors is a substring of the text. ``Literals(strings).scan(text)`` answers them
all at once where the compiled finder (_literals.c, an Aho-Corasick automaton over UTF-8 bytes) was
built: one pass over the text instead of a scan per piece, and for ASCII text the positions of the
wanted strings (the trigger anchors) too. Without it, or for text with no UTF-8 form (a lone
surrogate), ``scan`` gives a ``Lazy`` object that looks each string up on demand and remembers it,
which is what the detectors did before. Either way ``s in found`` is ``s in text`` for the strings
given, so results never depend on the path (tests/security/test_literals.py compares them).
"""

from __future__ import annotations

from typing import Iterable

from .prefilter import found_in

try:
    from ._literals import Finder
except ImportError:  # built without a C compiler
    Finder = None

__all__ = ["Literals", "Lazy", "COMPILED", "set_compiled"]

COMPILED = Finder is not None  # tests switch the finder off to compare both paths


def set_compiled(on: bool) -> bool:
    """Use the compiled finder (when built) or the plain lookups; returns the previous setting."""
    global COMPILED
    prev, COMPILED = COMPILED, bool(on) and Finder is not None
    return prev


class Lazy:
    """``s in lazy`` is ``s in text``, looked up on demand and remembered (see ``prefilter.found_in``)."""

    __slots__ = ("text", "seen")

    def __init__(self, text: str) -> None:
        self.text = text
        self.seen: dict[str, bool] = {}

    def __contains__(self, s: str) -> bool:
        return found_in(s, self.text, self.seen)


class Literals:
    """A fixed set of strings, found in texts by ``scan``; ``wanted``: those whose positions matter."""

    def __init__(self, strings: Iterable[str], wanted: Iterable[str] = ()) -> None:
        self.strings = tuple(dict.fromkeys(strings))
        index = {s: i for i, s in enumerate(self.strings)}
        self._finder = None
        if Finder is not None and "" not in index:
            try:
                self._finder = Finder(self.strings, [index[s] for s in dict.fromkeys(wanted) if s in index])
            except (ValueError, MemoryError):  # too many states: the plain path
                pass

    def scan(self, text: str) -> tuple[set[str] | Lazy, dict[str, list[int] | None] | None]:
        """``(found, positions)``: ``found`` answers ``s in found`` for the strings given (a set of
        those that occur, or a ``Lazy``); ``positions``, for ASCII text on the compiled path only (else
        None), maps each wanted string that occurs to where it begins, sorted, or None past 16 places."""
        if self._finder is not None and COMPILED:
            try:
                return self._finder.scan(text)
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form
                pass
        return Lazy(text), None
