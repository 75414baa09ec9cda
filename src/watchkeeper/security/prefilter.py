"""Literal pieces a regular expression cannot match without, read off its parse tree.

``requirement(pattern)`` walks the pattern (``re._parser``) and returns a condition: an AND of
clauses, each clause an OR of literal pieces, or an OR of nested conditions (one per branch of an
alternation). Every match of the pattern contains, for each clause, one of its pieces (or
satisfies one of its branches). ``holds(req, text)`` tests the condition; when it is False the
pattern cannot match anywhere in ``text`` (nor in any part of it), so the detectors skip the
regular expression. When it is True nothing is known and the pattern runs as before. The condition
is only ever weakened (short strings, big sets and anything the walk does not understand are
dropped), never guessed.

A piece is confirmed with ``in``, at C speed but still a scan of the text. Most pieces are ruled
out before that by a set operation: a piece holds words between word boundaries (``\\b``, spaces,
punctuation), and a piece whose key (its longest such word, or a word start or end) is not among
the text's keys (``text_keys``: its runs of ASCII letters, split at every other character) cannot
occur in the text. ``key_sets(req)`` gives those set tests alone, to try before ``holds``; a piece
already looked for in vain rules out the longer pieces that begin or end with it.

``starts(pattern)`` and ``anchored_starts(pattern)`` read the literals every match *begins* with
(after ``^`` and white space for the second): ``patterns.Feature`` tries its pattern only where one
of them occurs.
"""

from __future__ import annotations

import re
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Callable

__all__ = ["Requirement", "requirement", "holds", "compiled", "key_sets", "literal_keys", "text_keys", "text_words", "starts",
           "anchored_starts", "found_in"]

# A requirement is a tuple of clauses, all of which must hold: a _Pieces (one literal must occur)
# or an _Alt (a tuple of alternative requirements, one of which must hold).
Requirement = tuple

_MAX_SET = 64  # exact-string sets grow by cross product; past this size the run is cut
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT))
_ASSERTS = (_c.ASSERT, _c.ASSERT_NOT)
_EDGE = "\x00"  # marks a word boundary (``\\b``, ``^``, ``$``) inside a literal run
_EDGES = {_c.AT_BOUNDARY, _c.AT_BEGINNING, _c.AT_BEGINNING_STRING, _c.AT_END, _c.AT_END_STRING}
# ASCII letters stay, everything else becomes a space: ``split`` then yields the words of a text
_LETTERS_ONLY = bytes(c if 65 <= c <= 90 or 97 <= c <= 122 else 32 for c in range(256))
_MAX_MEMO = 50_000  # words remembered with the word starts and ends they carry


class _Alt(tuple):
    """A clause made of alternative requirements (one per branch of an alternation)."""


class _Pieces:
    """A clause: one of these literal strings must occur. Each ASCII string has a key when it can."""

    __slots__ = ("texts", "keyless", "by_key", "keys", "non_ascii", "also")

    def __init__(self, marked: list[str]) -> None:
        self.texts = tuple(sorted({m.replace(_EDGE, "") for m in marked}))
        _ALL_PIECES.update(self.texts)
        self.keyless: list[str] = []  # ASCII strings with no key: always confirmed with ``in``
        self.non_ascii: list[str] = []  # confirmed with ``in`` in non-ASCII text; cannot occur in ASCII text
        self.by_key: dict[bytes, list[str]] = {}
        # (key, piece) -> the piece's other whole words: a text that holds it has all of them
        self.also: dict[tuple[bytes, str], frozenset[bytes]] = {}
        for m in sorted(marked):
            text = m.replace(_EDGE, "")
            if not text.isascii():
                self.non_ascii.append(text)
                continue
            key = _key(m)
            if key is None:
                self.keyless.append(text)
                continue
            if text not in self.by_key.setdefault(key, []):
                self.by_key[key].append(text)
            # its other whole words (read off the piece itself, so the gate answers as ``holds`` does); word
            # starts and ends are left out: registering them all would make ``text_keys`` slower
            also = frozenset(run for run, left, right in _runs(text) if left and right) - {key}
            self.also[(key, text)] = also
        self.keys = frozenset(self.by_key)


def _key(marked: str) -> bytes | None:
    """The most telling word-level condition of a piece: a whole word, else a word start or end (3+ letters)."""
    best: tuple[int, bytes] | None = None
    for run, left, right in _runs(marked):
        if left and right:
            cand = (2, run)
        elif len(run) < 3:
            continue
        elif left:
            cand = (1, run + b"\x01")  # some word starts with ``run``
        elif right:
            cand = (1, b"\x01" + run)  # some word ends with ``run``
        else:
            continue
        if best is None or (cand[0], len(run)) > (best[0], len(best[1].strip(b"\x01"))):
            best = cand
    if best is not None and best[1].startswith(b"\x01") or best is not None and best[1].endswith(b"\x01"):
        _register(best[1])
    return None if best is None else best[1]


def _runs(marked: str):
    """(run of ASCII letters, bounded on the left, bounded on the right) for each run in a marked piece.

    A run is bounded on a side by a non-letter character or an edge mark next to it; a run at an end
    of the piece may continue into the text around it.
    """
    run = ""
    left = False
    for ch in marked:
        if "a" <= ch <= "z" or "A" <= ch <= "Z":
            run += ch
            continue
        if run:
            yield run.encode("ascii"), left, True
        run = ""
        left = True
    if run:
        yield run.encode("ascii"), left, False


# Word starts and ends that pieces use as keys, bucketed by their first / last three letters.
_STARTS: dict[bytes, list[bytes]] = {}
_ENDS: dict[bytes, list[bytes]] = {}
_MEMO: dict[bytes, tuple[bytes, ...]] = {}
_KEYLESS: set[bytes] = set()  # words known to carry no registered start or end (most of them)


def _register(key: bytes) -> None:
    if key.endswith(b"\x01"):
        run = key[:-1]
        bucket = _STARTS.setdefault(run[:3], [])
    else:
        run = key[1:]
        bucket = _ENDS.setdefault(run[-3:], [])
    if run not in bucket:
        bucket.append(run)
        _MEMO.clear()  # remembered words were checked against fewer keys
        _KEYLESS.clear()


def register_start(word: str) -> bytes:
    """The key an ASCII text offers when one of its words starts with ``word`` (three or more ASCII
    letters), registered so that ``text_keys`` reports it; for any other ``word`` a key no text offers."""
    key = word.encode("utf-8", "surrogatepass") + b"\x01"
    if len(word) >= 3 and word.isascii() and word.isalpha():
        _register(key)
    return key


def _word_keys(w: bytes) -> tuple[bytes, ...]:
    got = _MEMO.get(w)
    if got is None:
        got = tuple([r + b"\x01" for r in _STARTS.get(w[:3], ()) if w.startswith(r)]
                    + [b"\x01" + r for r in _ENDS.get(w[-3:], ()) if w.endswith(r)])
        if len(_MEMO) + len(_KEYLESS) >= _MAX_MEMO:
            _MEMO.clear()
            _KEYLESS.clear()
        if got:
            _MEMO[w] = got
        else:
            _KEYLESS.add(w)
    return got


def literal_keys(literal: str) -> frozenset[bytes]:
    """Keys (see ``text_keys``) that every text holding ``literal`` as a substring offers.

    A run of letters with a non-letter on both sides inside ``literal`` is a whole word of the text;
    one with a non-letter only after it ends a word, one with a non-letter only before it starts a
    word (kept from three letters up, and registered so that ``text_keys`` reports them). A set test
    on these rules most multi-word literals out before a substring scan of the whole text.
    """
    out = set()
    for run, left, right in _runs(literal):
        if left and right:
            out.add(run)
        elif len(run) >= 3 and (left or right):
            key = run + b"\x01" if left else b"\x01" + run
            _register(key)
            out.add(key)
    return frozenset(out)


def text_words(text: str) -> set[bytes] | None:
    """The words (runs of ASCII letters) of an ASCII ``text``; None for other text."""
    if not text.isascii():
        return None
    return set(text.encode("ascii").translate(_LETTERS_ONLY).split())


_NON_ASCII = b"\x00non-ascii"  # among a text's keys when the text is not ASCII
_LAST_RUNS: tuple[str, frozenset[bytes]] | None = None


def ascii_runs(text: str) -> frozenset[bytes]:
    """The runs of ASCII letters of any ``text`` (``text_words`` for ASCII text), as bytes: any other
    character ends a run. The last text's runs are remembered (the trigger index asks for them again)."""
    global _LAST_RUNS
    last = _LAST_RUNS
    if last is not None and last[0] is text:
        return last[1]
    runs = frozenset(text.encode("utf-8", "surrogatepass").translate(_LETTERS_ONLY).split())  # other characters: 2-4 bytes, none a letter
    _LAST_RUNS = (text, runs)
    return runs


def text_keys(text: str, words: set[bytes] | None = None) -> set[bytes]:
    """The keys ``text`` offers (its words, and the registered word starts and ends they carry).

    ``words`` is ``text_words(text)`` when the caller has it (for ASCII text).
    """
    non_ascii = False
    if words is None:
        non_ascii = not text.isascii()
        words = ascii_runs(text)
    keys = set(words)
    if non_ascii:
        keys.add(_NON_ASCII)
    for w in words - _KEYLESS:  # most words carry no key but themselves: dropped at C speed
        extra = _MEMO.get(w)
        if extra is None:
            extra = _word_keys(w)
        if extra:
            keys.update(extra)
    return keys


def requirement(pattern: re.Pattern[str]) -> Requirement:
    """The literal condition every match of ``pattern`` meets (empty: nothing is required)."""
    if pattern.flags & re.IGNORECASE or not isinstance(pattern.pattern, str):
        return ()
    try:
        exact, clauses = _seq(_p.parse(pattern.pattern, pattern.flags))
    except Exception:  # pragma: no cover - an unknown parse shape: require nothing
        return ()
    if exact is not None:
        clauses = [frozenset(exact)]
    return _clean(clauses)


def starts(pattern: re.Pattern[str], limit: int = 64) -> tuple[tuple[str, ...], bool] | None:
    """The literal strings one of which begins every match of ``pattern``, and whether a match may
    also begin with ``^`` (then only at the start of the text); None when the walk cannot tell.

    A regular expression that only looks for these strings finds every position where ``pattern``
    can match, several times faster than the pattern itself (see ``Feature._scan``).
    """
    if pattern.flags & (re.IGNORECASE | re.MULTILINE) or not isinstance(pattern.pattern, str):
        return None
    try:
        entries = _openings(list(_p.parse(pattern.pattern, pattern.flags)), limit)
    except Exception:  # pragma: no cover - an unknown parse shape
        return None
    if entries is None:
        return None
    texts = tuple(sorted({t for t, _, at_start in entries if not at_start}))
    if not texts or any(t == "" or len(t) == 1 and t.isalnum() for t in texts):
        return None  # a match may begin anywhere, or with a single common character
    return texts, any(at_start for _, _, at_start in entries)


def anchored_starts(pattern: re.Pattern[str], limit: int = 64) -> tuple[str, ...] | None:
    """For a pattern whose every match begins at the start of the text (``^``, then optional ``\\s*``):
    the literal strings one of which follows that white space; None for any other pattern.

    Such a pattern cannot match a text that does not begin (after white space) with one of them.
    """
    if pattern.flags & (re.IGNORECASE | re.MULTILINE) or not isinstance(pattern.pattern, str):
        return None
    try:
        top = list(_p.parse(pattern.pattern, pattern.flags))
    except Exception:  # pragma: no cover - an unknown parse shape
        return None
    branches = [list(b) for b in top[0][1][1]] if len(top) == 1 and top[0][0] is _c.BRANCH else [top]
    out: list[str] = []
    for seq in branches:
        if not seq or seq[0] not in ((_c.AT, _c.AT_BEGINNING), (_c.AT, _c.AT_BEGINNING_STRING)):
            return None
        got = _after_start(seq[1:], limit)
        if got is None:
            return None
        out.extend(got)
    entries = _shrink([(t, False, False) for t in dict.fromkeys(out)], limit)
    return None if entries is None else tuple(sorted(t for t, _, _ in entries))


def _after_start(rest: list, limit: int) -> list[str] | None:
    """The literal openings of ``rest`` (what follows ``^``) once a leading ``\\s*`` is skipped."""
    if rest and rest[0][0] is _c.BRANCH:  # ``^(?:\s*a|\s*b)...``: each way on its own
        out: list[str] = []
        for alt in rest[0][1][1]:
            got = _after_start(list(alt) + rest[1:], limit)
            if got is None:
                return None
            out.extend(got)
        return out
    if rest and rest[0][0] in _REPEATS and rest[0][1][0] == 0 \
            and list(rest[0][1][2]) == [(_c.IN, [(_c.CATEGORY, _c.CATEGORY_SPACE)])]:
        rest = rest[1:]  # ``\s*``: the literal follows the text's leading white space
    entries = _openings(rest, limit)
    if entries is None or any(t == "" or t[0].isspace() or s for t, _, s in entries):
        return None
    return [t for t, _, _ in entries]


def _openings(items: list, limit: int) -> list[tuple[str, bool, bool]] | None:
    """(literal prefix, still open, only at the text's start) for each way a sequence can begin.

    An open prefix is everything the sequence consumed so far (what follows extends it); a closed one
    stops at the first item that is not a literal.
    """
    cur: list[tuple[str, bool, bool]] = [("", True, False)]
    for op, av in items:
        if not any(o for _, o, _ in cur):
            break
        if op is _c.LITERAL:
            step = [(chr(av), True, False)]
        elif op is _c.AT:
            if av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
                # ``^`` before anything is consumed: this way can only match at the start of the text
                cur = [(t, False, s or t == "") if o else (t, o, s) for t, o, s in cur]
                continue
            if av in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY):
                continue  # consumes nothing
            step = None
        elif op in _ASSERTS:
            continue  # consumes nothing
        elif op is _c.SUBPATTERN:
            if av[1] & re.IGNORECASE:
                return None
            step = _openings(list(av[3]), limit)
            if step is None:
                return None
        elif op is _c.BRANCH:
            step = []
            for alt in av[1]:
                sub = _openings(list(alt), limit)
                if sub is None:
                    return None
                step.extend(sub)
            step = _shrink(list(dict.fromkeys(step)), limit)
        elif op is _c.IN and len(av) <= 8 and all(o is _c.LITERAL for o, _ in av):
            step = [(chr(ch), True, False) for _, ch in av]
        elif op in _REPEATS and av[0] >= 1:
            sub = _openings(list(av[2]), limit)
            if sub is None:
                return None
            step = [(t, False, s) for t, _, s in sub]  # what the repeats consume next is not known
        else:
            step = None
        if step is None:  # not a literal: every open prefix ends here
            cur = [(t, False, s) for t, _, s in cur]
            break
        nxt = []
        for t, o, s in cur:
            if not o:
                nxt.append((t, o, s))
                continue
            for u, uo, us in step:
                nxt.append((t + u, uo and not us, s or us))
        cur = _shrink(list(dict.fromkeys(nxt)), limit)
        if cur is None:
            return None
    return cur


def _shrink(entries: list[tuple[str, bool, bool]] | None, limit: int) -> list[tuple[str, bool, bool]] | None:
    """At most ``limit`` entries: past it, every prefix is cut to the longest length that fits (and closed)."""
    if entries is None or len(entries) <= limit:
        return entries
    for n in range(max(len(t) for t, _, _ in entries) - 1, 0, -1):
        cut = list(dict.fromkeys((t[:n], False, s) for t, _, s in entries))
        if len(cut) <= limit:
            return cut
    return None


def key_sets(req: Requirement) -> tuple[frozenset[bytes], ...]:
    """Sets of keys that ``text_keys`` must meet for ``holds(req)`` to be True (a quick first look).

    A clause whose pieces all have keys needs one of its keys; an alternation needs, for one of its
    branches, a key of that branch's own such clause (so the union of those).
    A clause with non-ASCII pieces needs one of its keys or ``_NON_ASCII`` (in the keys of non-ASCII text).
    """
    out = []
    for c in req:
        if type(c) is _Alt:
            gate = _alt_keys(c)
            if gate is not None:
                out.append(gate)
        elif not c.keyless and (c.keys or c.non_ascii):
            # a non-ASCII piece can only occur in non-ASCII text, whose keys hold ``_NON_ASCII``
            out.append(c.keys | {_NON_ASCII} if c.non_ascii else c.keys)
    return tuple(out)


def _alt_keys(alt: _Alt) -> frozenset[bytes] | None:
    union: set[bytes] = set()
    for branch in alt:
        sets = key_sets(branch)
        if not sets:
            return None  # a branch with no key test: the alternation cannot be ruled out this way
        union |= min(sets, key=len)
    return frozenset(union)


def holds(req: Requirement, text: str, seen: dict[str, bool] | None = None, keys: set[bytes] | None = None) -> bool:
    """False only if ``text`` lacks a piece that every match needs.

    ``seen`` caches the substring tests made on one text; ``keys`` is ``text_keys(text)``.
    """
    for clause in req:
        if type(clause) is _Alt:
            if not any(holds(alt, text, seen, keys) for alt in clause):
                return False
        elif not _some(clause, text, seen, keys):
            return False
    return True


def compiled(req: Requirement, key_gates: tuple[frozenset[bytes], ...] = (), opens: Callable[[str], bool] | None = None,
             pieces_too: bool = True) -> Callable[[str, object, set[bytes]], bool]:
    """``holds(req, text, seen, keys)`` for given ``keys``, as one generated function ``(text, found, keys)``.

    ``found`` answers ``piece in found`` for every piece the function tests (listed in its ``pieces``
    attribute): a set of the pieces that occur in ``text`` (``literals.Literals.scan``) or a
    ``literals.Lazy`` that looks them up. The same answer as ``holds`` without walking the clauses at
    run time: each keyed piece becomes ``key in keys and piece in found`` (the key alone when the piece
    is just the key's letters, which the key proves), each alternation an ``or`` of its branches.
    Tried first, when given: every set of ``key_gates`` meets ``keys``, then ``opens(text)``;
    ``pieces_too=False`` leaves ``req`` out.
    """
    consts: list[object] = []
    tested: set[str] = set()

    def piece(s: str) -> str:
        tested.add(s)
        return f"{const(s)} in found"

    def const(v: object) -> str:
        consts.append(v)
        return f"_c{len(consts) - 1}"

    def pieces(c: _Pieces) -> str:
        found = [piece(s) for s in c.keyless]
        if c.non_ascii:
            found.append(f"({const(_NON_ASCII)} in keys and ("
                         + " or ".join(piece(s) for s in c.non_ascii) + "))")
        for k in sorted(c.by_key):
            if k.strip(b"\x01").decode("ascii") in c.by_key[k]:
                found.append(f"{const(k)} in keys")  # the piece is the key's letters alone: the key proves it
                continue
            found.append(f"({const(k)} in keys and ("
                         + " or ".join(confirm(c, k, s) for s in c.by_key[k]) + "))")
        return "(" + (" or ".join(found) or "False") + ")"

    def confirm(c: _Pieces, k: bytes, s: str) -> str:
        # the piece's other whole words first: a set test rules most multi-word pieces out before a scan
        also = c.also.get((k, s))
        found = piece(s)
        return f"({const(also)} <= keys and {found})" if also else f"({found})"

    def expr(r: Requirement) -> str:
        parts = ["(" + " or ".join(expr(alt) for alt in c) + ")" if type(c) is _Alt else pieces(c) for c in r]
        return "(" + (" and ".join(parts) or "True") + ")"

    first = [f"not {const(g)}.isdisjoint(keys)" for g in key_gates]
    if opens is not None:
        first.append(f"{const(opens)}(text)")
    body = " and ".join(first + ([expr(req)] if pieces_too else [])) or "True"
    env: dict[str, object] = {}
    env.update((f"_c{i}", v) for i, v in enumerate(consts))
    exec(f"def _holds(text, found, keys):\n    return {body}\n", env)  # noqa: S102 - source made above from literals
    fn = env["_holds"]
    fn.pieces = frozenset(tested)  # type: ignore[attr-defined]
    return fn  # type: ignore[return-value]


def _some(clause: _Pieces, text: str, seen: dict[str, bool] | None, keys: set[bytes] | None) -> bool:
    if keys is None:
        return any(found_in(s, text, seen) for s in clause.texts)
    for s in clause.keyless:
        if found_in(s, text, seen):
            return True
    if clause.non_ascii and _NON_ASCII in keys:
        for s in clause.non_ascii:
            if found_in(s, text, seen):
                return True
    if clause.keys.isdisjoint(keys):
        return False
    by_key = clause.by_key
    for k in clause.keys.intersection(keys):
        for s in by_key[k]:
            if found_in(s, text, seen):
                return True
    return False


def found_in(s: str, text: str, seen: dict[str, bool] | None) -> bool:
    """``s in text``; with ``seen`` (the tests made on ``text`` so far) each string is looked for once,
    and not at all when a shorter piece it begins or ends with was looked for in vain."""
    if seen is None:
        return s in text
    got = seen.get(s)
    if got is None:
        # a shorter piece that begins or ends this one and was already looked for in vain rules it out
        for part in _parts_of(s):
            if seen.get(part) is False:
                got = seen[s] = False
                return got
        got = seen[s] = s in text
    return got


_ALL_PIECES: set[str] = set()   # every piece of every requirement made so far
_PARTS: dict[str, tuple[str, ...]] = {}


def _parts_of(s: str) -> tuple[str, ...]:
    """The other pieces that ``s`` begins or ends with (remembered per piece)."""
    got = _PARTS.get(s)
    if got is None:
        got = _PARTS[s] = tuple(p for p in {s[:i] for i in range(1, len(s))} | {s[i:] for i in range(1, len(s))}
                                if p in _ALL_PIECES)
    return got


def _seq(items, lead: str = "", trail: str = "") -> tuple[set[str] | None, list]:
    """(the exact strings the sequence matches, or None) and the clauses it requires.

    ``lead`` / ``trail`` is ``_EDGE`` when the sequence is known to follow / precede a non-letter.
    """
    items = list(items)
    clauses: list = []
    cur: set[str] = {lead}
    exact = True

    def cut(after: str = "") -> None:
        nonlocal cur
        if any(s.replace(_EDGE, "") for s in cur):
            clauses.append(frozenset(s + after for s in cur))
        cur = {""}

    for i, (op, av) in enumerate(items):
        after = _edge_after(items, i + 1, trail)
        if op is _c.LITERAL:
            cur = {s + chr(av) for s in cur}
        elif op is _c.AT:
            if av in _EDGES:  # no word character on the far side of a letter next to it
                cur = {s + _EDGE for s in cur}
        elif op in _ASSERTS:
            continue  # consumes nothing: the characters around it stay adjacent
        elif op is _c.SUBPATTERN or op is _c.BRANCH:
            if op is _c.SUBPATTERN and av[1] & re.IGNORECASE:
                exact = False
                cut()
                continue
            before = _lead(cur)
            alts = [_seq(av[3], before, after)] if op is _c.SUBPATTERN else [_seq(a, before, after) for a in av[1]]
            if all(e is not None for e, _ in alts) and sum(len(e) for e, _ in alts) * len(cur) <= _MAX_SET:
                cur = {a + b for a in cur for e, _ in alts for b in e}
                continue
            exact = False
            cut()
            if len(alts) == 1:
                e, sub = alts[0]
                clauses.extend([frozenset(x + after for x in e)] if e is not None else sub)
            else:
                clauses.append(tuple(tuple([frozenset(x + after for x in e)] if e is not None else sub) for e, sub in alts))
        elif op is _c.IN and len(av) <= 4 and all(o is _c.LITERAL for o, _ in av) and len(cur) * len(av) <= _MAX_SET:
            cur = {s + chr(ch) for s in cur for _, ch in av}
        elif op in _REPEATS:
            lo, hi, item = av
            before = _lead(cur)
            if hi <= 1:
                e, _ = _seq(item, before, after)
                if e is not None and len(cur) * (len(e) + 1) <= _MAX_SET:
                    cur = {a + b for a in cur for b in (e | {""} if lo == 0 else e)}
                    continue
            exact = False
            cut()
            if lo >= 1:
                e, sub = _seq(item, before, after if hi == 1 else "")
                clauses.extend([frozenset(e)] if e is not None else sub)
            if _non_letters(item) and (lo >= 1 or before == _EDGE):
                cur = {_EDGE}  # what follows comes right after a non-letter
        else:  # any character, classes, back-references...: the run of literals ends here
            exact = False
            cut()
            if op is _c.IN and _non_letters([(op, av)]):
                cur = {_EDGE}
    if exact:
        return cur, []
    cut(trail)
    return None, clauses


def _is_letter(ch: str) -> bool:
    return "a" <= ch <= "z" or "A" <= ch <= "Z"


def _lead(cur: set[str]) -> str:
    """``_EDGE`` when every string of the run so far ends in a non-letter (so what follows starts a word)."""
    return _EDGE if all(s and not _is_letter(s[-1]) for s in cur) else ""


def _edge_after(items: list, j: int, trail: str) -> str:
    """``_EDGE`` when the next thing the sequence consumes after item ``j - 1`` is a non-letter (or a boundary)."""
    for op, av in items[j:]:
        if op is _c.AT:
            return _EDGE if av in _EDGES else ""
        if op in _ASSERTS:
            continue
        return _EDGE if _non_letters([(op, av)]) else ""
    return trail


_NON_LETTER_CATEGORIES = {_c.CATEGORY_SPACE, _c.CATEGORY_DIGIT}


def _non_letters(items) -> bool:
    """True when each of ``items`` (one step of a pattern) can only consume non-letter characters."""
    items = list(items)
    if len(items) != 1:
        return False
    op, av = items[0]
    if op is _c.LITERAL:
        return not _is_letter(chr(av))
    if op is _c.IN:
        for o, a in av:
            if o is _c.LITERAL and not _is_letter(chr(a)):
                continue
            if o is _c.CATEGORY and a in _NON_LETTER_CATEGORIES:
                continue
            if o is _c.RANGE and not any(_is_letter(chr(c)) for c in range(a[0], a[1] + 1)):
                continue
            return False
        return True
    return False


def _useful(s: str) -> bool:
    """Strings worth a test: three characters of substance, or punctuation (rare in prose)."""
    core = s.replace(_EDGE, "").strip()
    return len(core) >= 3 or bool(core) and not any(ch.isalnum() for ch in core)


def _clean(clauses) -> Requirement:
    out: list = []
    for clause in clauses:
        if isinstance(clause, frozenset):
            if clause and all(map(_useful, clause)):
                out.append(_Pieces(list(clause)))
        else:
            alts = _Alt(_clean(list(alt)) for alt in clause)
            if alts and all(alts):  # a branch that requires nothing makes the whole clause true
                out.append(alts)
    # cheapest to refute first: clauses that need no substring test, then long strings
    out.sort(key=lambda c: (2, 0, 0) if type(c) is _Alt else (len(c.keyless) > 0, -min(map(len, c.texts)), len(c.texts)))
    return tuple(out)

