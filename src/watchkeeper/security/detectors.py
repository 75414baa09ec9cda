"""Input detectors: prompt injection, jailbreak and extraction, on plain and obfuscated text.

``detect(text)`` normalises the text (see ``normalize.py``), decodes encoded spans (see
``decoders.py``), matches the phrase features of ``patterns.py`` against every view of the text
(plain, leetspeak-mapped, hidden unicode messages, decoded spans) and combines the weights of the
features that fired by noisy-OR, per category and overall. ``scan_context`` does the same for
retrieved documents and tool outputs with extra features for instructions addressed to the AI.

A user-supplied classifier can be added with ``register_classifier``; its score joins the others.
Nothing here raises on odd input: the public functions catch, count and carry on.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from itertools import filterfalse
from operator import eq as _eq
from typing import Callable

from .decoders import Decoded, englishness, find_encoded, opaque_share
from .literals import Literals
from .normalize import Normalized, normalize
from .patterns import CONTEXT_FEATURES, INPUT_FEATURES, Feature, harm_scanner, harm_search
from .prefilter import compiled, key_sets, text_keys, text_words
from .textfacts import class_maps
from . import textfacts
from .trigger import TriggerIndex

__all__ = [
    "Hit", "Detection", "detect", "scan_context", "register_classifier", "unregister_classifier",
    "THRESHOLD", "MAX_SCAN_CHARS",
]

log = logging.getLogger("watchkeeper.security")

THRESHOLD = 0.45  # the lowest cut that keeps the dev-half benign FPR at its floor (bench --split dev)
MAX_SCAN_CHARS = 100_000  # longer inputs are scanned head and tail
_EXCERPT = 60
_STRONG_WRAPPERS = {"tense_shift", "tense_q", "fiction_wrapper", "grandma", "hypothetical_char"}
_WRAPPERS = {"tense_shift", "tense_q", "fiction_wrapper", "persona", "grandma", "hypothetical_char", "ai_persona_named"}


@dataclass(frozen=True)
class Hit:
    """One feature that fired, where it fired (``view``), and a short excerpt of the match."""

    name: str
    category: str
    weight: float
    view: str = "text"
    excerpt: str = ""


@dataclass
class Detection:
    """Scores per category and overall, plus the hits that produced them."""

    score: float = 0.0
    categories: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    decoded: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def flagged(self) -> bool:
        return self.score >= THRESHOLD

    def evidence(self) -> str:
        """Excerpt of the strongest hit, or an empty string."""
        if not self.hits:
            return ""
        return max(self.hits, key=lambda h: h.weight).excerpt


@dataclass(frozen=True)
class _Classifier:
    name: str
    fn: Callable[[str], float]
    category: str
    weight: float


_classifiers: dict[str, _Classifier] = {}
_lock = threading.Lock()


def register_classifier(fn: Callable[[str], float], *, name: str = "custom", category: str = "injection",
                        weight: float = 1.0) -> None:
    """Add a callable ``text -> score in 0..1`` whose score (times ``weight``) joins the detectors'."""
    if not callable(fn):
        raise TypeError(f"register_classifier() needs a callable text -> float, got {fn!r}")
    if category not in {"injection", "jailbreak", "extraction", "anomaly"}:
        raise ValueError(f"category {category!r} is not one of: anomaly, extraction, injection, jailbreak")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight has value {weight!r}. Expected a float between 0 and 1.")
    with _lock:
        _classifiers[name] = _Classifier(name, fn, category, weight)


def unregister_classifier(name: str) -> None:
    """Remove a classifier added with ``register_classifier`` (no error if absent)."""
    with _lock:
        _classifiers.pop(name, None)


def detect(text: str) -> Detection:
    """Score ``text`` (a user prompt) for injection, jailbreak and extraction. Never raises."""
    return _safe(text, INPUT_FEATURES, context=False)


def scan_context(text: str, source: str = "retrieval") -> Detection:
    """Score a retrieved document (``source="retrieval"``) or tool output (``"tool"``) for indirect injection."""
    det = _safe(text, _CONTEXT_ALL, context=True)
    if source == "tool" and det.hits and not det.flagged:
        # Tool results reach an agent that can act: one notch more sensitive.
        det.score = _combine([min(1.0, h.weight * 1.15) for h in det.hits])
    return det


_CONTEXT_ALL = INPUT_FEATURES + CONTEXT_FEATURES


def _safe(text: object, features: tuple[Feature, ...], context: bool) -> Detection:
    try:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if len(text) > MAX_SCAN_CHARS:
            half = MAX_SCAN_CHARS // 2
            text = text[:half] + "\n" + text[-half:]
        return _detect(text, features, context)
    except Exception as exc:  # a detector bug must not break the caller's request
        log.debug("security detector failed", exc_info=True)
        return Detection(error=f"{type(exc).__name__}: {exc}")


def _detect(text: str, features: tuple[Feature, ...], context: bool) -> Detection:
    det = Detection()
    if not text.strip():
        return det
    n = normalize(text)
    hits: dict[str, Hit] = {}
    words = text_words(n.text) if textfacts.ENABLED else None
    # shared by the text view's gates and _wrappers; made after the indexes, whose word starts and ends they report
    _index(features)
    keys = text_keys(n.text, words) if textfacts.ENABLED else None
    found = _match(features, n.text, "text", hits, words, keys)
    if n.leet is not None and n.leet != n.text:
        _match(features, n.leet, "leet", hits)
    for msg in n.hidden:
        det.decoded.append(msg)
        _match(features, normalize(msg).text, "hidden_unicode", hits)
    # ASCII text whose letters normalisation left alone (no joined "s p a c e d" runs, no control
    # characters removed) has the same lower-cased letter runs as ``n.text``: the decoders reuse them
    same = words is not None and text.isascii() and not n.spaced_runs and not n.invisible
    decoded = find_encoded(text, words=words if same else None)
    for d in decoded:
        det.decoded.append(d.text)
        _match(features, normalize(d.text).text, f"decoded:{d.kind}", hits)
    _obfuscation(text, n, decoded, hits)
    _wrappers(n, hits, keys, found)
    for c in list(_classifiers.values()):
        _run_classifier(c, text, hits)
    det.hits = list(hits.values())
    det.categories = {}
    for h in det.hits:
        det.categories.setdefault(h.category, 0.0)
    for cat in det.categories:
        det.categories[cat] = _combine([h.weight for h in det.hits if h.category == cat])
    det.score = _combine([h.weight for h in det.hits])
    return det


_INDEXES: dict[int, tuple[TriggerIndex, dict[str, Feature], dict[str, tuple[frozenset[bytes], ...]]]] = {}
_GATES: dict[int, dict[str, Callable[[str, object, set[bytes]], bool]]] = {}
_LITERALS: dict[int, Literals] = {}  # the pieces every gate tests and the index's anchors, found in one scan


def _index(features: tuple[Feature, ...]) -> tuple[TriggerIndex, dict[str, Feature], dict[str, tuple[frozenset[bytes], ...]]]:
    got = _INDEXES.get(id(features))
    if got is None:
        harm_scanner()  # registers the word starts and ends its gate needs (see harm_search), as the index does
        key_gates = {f.name: key_sets(f.needs) for f in features}
        _GATES[id(features)] = {f.name: _gate(f, key_gates[f.name]) for f in features}
        index = TriggerIndex(features)
        pieces = set(index.anchors).union(harm_scanner()[1].pieces, *(g.pieces for g in _GATES[id(features)].values()))
        _LITERALS[id(features)] = Literals(sorted(pieces), sorted(index.anchors))
        got = _INDEXES[id(features)] = (index, {f.name: f for f in features}, key_gates)
    return got


def _gate(f: Feature, key_gates: tuple[frozenset[bytes], ...]) -> Callable[[str, object, set[bytes]], bool]:
    """Whether ``f`` is worth a search on a view, as one generated function ``(text, found, keys) -> bool``
    (``found``: see ``Literals.scan``).

    In order: a word every match needs is missing (a set test per key set); the pattern is anchored at
    the start, which holds none of its first words (or at the end, which holds none of its last words:
    ``Feature.closes``); a literal piece every match needs is missing
    (``holds``, see prefilter.py), not tested for patterns without pieces or whose search only looks
    for rare literals in windows (``quick``).
    """
    opens = f.opens if f.start_words is not None else f.closes if f.end_words is not None else None
    return compiled(f.needs, key_gates, opens, bool(f.needs) and not f.quick)


def _match(features: tuple[Feature, ...], view_text: str, view: str, hits: dict[str, Hit],
           words: set[bytes] | None = None, keys: set[bytes] | None = None) -> object:
    """Add the hits of ``features`` on one view of the text; ``words``: ``text_words(view_text)`` and
    ``keys``: ``text_keys(view_text, words)``, when known. Returns what ``Literals.scan`` found in the
    view (None with the gates off)."""
    boost = 0.1 if view != "text" and view != "leet" else 0.0
    index, by_name, _ = _index(features)
    gates = _GATES[id(features)]
    found = where = None
    if textfacts.ENABLED:
        if words is None:
            words = text_words(view_text)
        if keys is None:
            keys = text_keys(view_text, words)
        found, where = _LITERALS[id(features)].scan(view_text)  # the substring tests of gates and anchors

        def worth_a_search(name: str) -> bool:
            if view == "leet" and name in hits:
                return False  # an unboosted view cannot outweigh the hit the plain text already gave
            return gates[name](view_text, found, keys)  # see _gate

    keep = worth_a_search if textfacts.ENABLED else None
    for name, positions in index.candidates(view_text, words, keep, keys, found, where).items():
        f = by_name[name]
        m = f.search(view_text, positions)
        if m is None:
            continue
        w = min(1.0, f.weight + boost) if f.weight >= 0.45 else f.weight
        prev = hits.get(f.name)
        if prev is None or prev.weight < w:
            hits[f.name] = Hit(f.name, f.category, w, view, _excerpt(view_text, m.start(), m.end()))
    return found


def _excerpt(s: str, start: int, end: int) -> str:
    a = max(0, start - 20)
    b = min(len(s), max(end, start + _EXCERPT) + 10)
    return s[a:b].replace("\n", " ")[:160]


def _obfuscation(raw: str, n: Normalized, decoded: list[Decoded], hits: dict[str, Hit]) -> None:
    def add(name: str, category: str, weight: float, excerpt: str = "") -> None:
        hits[name] = Hit(name, category, weight, "text", excerpt[:160])

    if n.hidden or n.invisible_run >= 8:
        add("hidden_unicode", "injection", 0.7, n.hidden[0][:120] if n.hidden else "")
    if n.zalgo_marks >= 3:
        add("zalgo", "injection", 0.55)
    if n.homoglyph_words:
        add("homoglyph", "jailbreak", 0.65 if n.homoglyph_words >= 2 else 0.5)
    if n.in_word_invisible or n.bidi or n.controls:
        add("invisible_chars", "jailbreak", 0.55)
    # characters that are not white space, as split and join count them (ASCII: counted at C speed in the
    # "spaces" class view, which the decoders made already)
    cm = class_maps(raw)
    stripped = (len(raw) - cm["spaces"].count(b" ") if cm is not None
                else len(raw.encode("ascii").translate(None, _ASCII_SPACE)) if raw.isascii()
                else _non_space(raw)) or 1
    covered = sum(len("".join(raw[d.start:d.end].split())) for d in decoded if d.kind not in _LINE_CIPHERS)
    opaque = opaque_share(raw)
    words = _tokens(n.text, as_str=n.leet is not None)
    # only words with a digit can be leet tokens: the others are dropped at C speed before the regex;
    # the share only matters from 0.3 up, and it cannot reach that with fewer digits than 0.3 per word
    leet_share = sum(map(bool, map(_LEET_TOKEN.fullmatch, filterfalse(str.isalpha, words)))) / len(words) \
        if words and n.leet is not None and _digit_count(n.text) >= 0.3 * len(words) else 0.0
    request = "decode_request" in hits or "decode_secure_msg" in hits
    tail = _ASK_MEANING.split(n.text, maxsplit=1)[-1].strip() if "mean" in n.text else ""
    payload = 0 < len(tail) <= 80 and englishness(tail) < 0.34 or bool(decoded) or opaque >= 0.3 or n.zalgo_marks >= 3 or leet_share >= 0.3 or n.invisible_run >= 8
    if payload and request:
        add("encoded_payload", "injection", 0.6, decoded[0].text if decoded else "")
    elif covered / stripped >= 0.9 or opaque >= 0.7 or leet_share >= 0.5 and len(words) >= 2:
        add("encoded_payload", "injection", 0.55, decoded[0].text if decoded else "")
    # equal neighbours, counted at C speed (``operator.eq`` is a direct call, ``str.__eq__`` a slot wrapper)
    run = _longest_run(n.text.split()) if len(words) >= 15 and sum(map(_eq, words, words[1:])) >= 10 else 0
    if run >= 15:
        add("repetition", "extraction", 0.6 if run < 40 else 0.75, f"a word repeated {run} times")
    if raw.count("(") >= 6 and _REBUILD.search(raw):
        rebuilt = _rebuild_hidden(raw)
        if rebuilt:
            add("letter_puzzle", "jailbreak", 0.6, rebuilt)


_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what ``str.split`` splits ASCII text at


def _tokens(text: str, as_str: bool) -> list[str] | list[bytes]:
    """``text.split()``; as bytes for ASCII text (same number of tokens, same equal neighbours, split
    about twice as fast) unless ``as_str``, or unless it holds \\x1c-\\x1f (``str.split`` splits there,
    ``bytes.split`` does not)."""
    if as_str or not text.isascii() or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text:
        return text.split()
    return text.encode("ascii").split()


def _non_space(text: str) -> int:
    """``len("".join(text.split()))`` without building the pieces: ASCII white space counted in the UTF-8
    bytes (other characters take 2-4 bytes, all above ASCII), white space above ASCII by a scan for it."""
    raw = text.encode("utf-8", "surrogatepass")
    ascii_spaces = len(raw) - len(raw.translate(None, _ASCII_SPACE))
    return len(text) - ascii_spaces - len(_WIDE_SPACE.findall(text))


_WIDE_SPACE = re.compile(r"[^\S\x00-\x7f]")  # ``\s`` is what ``str.split`` splits at


def _digit_count(text: str) -> int:
    """How many characters of ``text`` are digits (``\\d``); ASCII text is counted at C speed."""
    raw = text.encode("utf-8", "surrogatepass")  # other characters take 2-4 bytes, none of them an ASCII digit
    ascii_digits = len(raw) - len(raw.translate(None, b"0123456789"))
    if text.isascii():
        return ascii_digits
    return ascii_digits + sum(map(str.isdecimal, _ABOVE_ASCII.findall(text)))


_ABOVE_ASCII = re.compile(r"[^\x00-\x7f]")


_ASK_MEANING = re.compile(r"\bwhat does (?:this|that|it) mean\?")
_LINE_CIPHERS = {"rot13", "atbash", "reversed"}
_LEET_TOKEN = re.compile(r"(?=\w*[a-z])(?=\w*\d)[a-z0-9]{3,}[.,!?]?")


def _longest_run(words: list[str]) -> int:
    best = cur = 1 if words else 0
    for a, b in zip(words, words[1:]):
        if a.strip(".,!?\"'") == b.strip(".,!?\"'"):
            cur += 1
            if cur > best:
                best = cur
        else:
            cur = 1
    return best


_REBUILD = re.compile(r"(?m)^[^\n(]{0,20}\((?:\w| )\)[^\n]{0,40}$(?:\n^[^\n(]{0,20}\((?:\w| )\)[^\n]{0,40}$){5,}")


def _rebuild_hidden(raw: str) -> str:
    letters = re.findall(r"(?m)^[^\n(]{0,20}\((\w| )\)", raw)
    return "".join(letters) if len(letters) >= 6 else ""


def _wrappers(n: Normalized, hits: dict[str, Hit], keys: set[bytes] | None = None, found: object = None) -> None:
    """Fictional, persona or tense wrappers become a jailbreak only around a harmful request.

    ``keys``: ``text_keys(n.text)``, when known (a text without any harmful term's word is then ruled out at
    once); ``found``: what ``Literals.scan`` found in ``n.text``, when known.
    """
    if "tense_shift" in hits:
        hits.pop("tense_q", None)
    if "cue_placeholder" in hits and {"persona", "cue_from_now_on", "ai_persona_named", "cue_respond_as"}.intersection(hits):
        # a persona plus a slot for "[YOUR PROMPT HERE]": the shape of a reusable jailbreak template
        hits["template"] = Hit("template", "jailbreak", 0.2, "text", hits["cue_placeholder"].excerpt)
    if _WRAPPERS.intersection(hits):
        m = harm_search(n.text, keys, found)
        if m:
            strong = bool(_STRONG_WRAPPERS.intersection(hits))
            hits["harmful_topic"] = Hit("harmful_topic", "jailbreak", 0.35 if strong else 0.2, "text",
                                        _excerpt(n.text, m.start(), m.end()))


def _run_classifier(c: _Classifier, text: str, hits: dict[str, Hit]) -> None:
    try:
        s = float(c.fn(text))
    except Exception:
        log.warning("security classifier %r raised; ignoring its score", c.name, exc_info=True)
        return
    if s != s:  # NaN
        return
    w = max(0.0, min(1.0, s)) * c.weight
    if w > 0:
        hits[f"classifier:{c.name}"] = Hit(f"classifier:{c.name}", c.category, w, "text", "")


def _combine(weights: list[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - p, 4)
