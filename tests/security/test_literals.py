"""The one-pass literal scan (``literals.py`` and the compiled finder) answers exactly like ``in`` and ``find``."""

from __future__ import annotations

import random
import shutil
import sysconfig

import pytest
from helpers import SECURITY_LABELS, on_and_off, security_texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.security import check_input, detect, literals, scan_context
from watchkeeper.security.detectors import _INDEXES, _LITERALS, _index
from watchkeeper.security.literals import Lazy, Literals
from watchkeeper.security.normalize import normalize
from watchkeeper.security.patterns import INPUT_FEATURES
from watchkeeper.security.prefilter import text_keys, text_words
from watchkeeper.security.trigger import _positions

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
compiled_only = pytest.mark.skipif(literals.Finder is None, reason="the compiled finder was not built (no C compiler)")


def test_the_finder_is_built_wherever_a_c_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the detectors look their pieces up one at a time")
    assert literals.Finder is not None, "a C compiler is present but watchkeeper.security._literals was not built"
    assert literals.COMPILED


def _plain(strings: list[str], wanted: list[str], text: str):
    found = {s for s in strings if s in text}
    if not text.isascii():
        return found, None
    where = {}
    for s in wanted:
        if s in found:
            pos = [i for i in range(len(text)) if text.startswith(s, i)]
            where[s] = pos if len(pos) <= 16 else None
    return found, where


@compiled_only
def test_finder_matches_plain_lookups_on_random_strings():
    """Random sets of overlapping strings (prefixes, suffixes, repeats, characters above ASCII) in random texts."""
    rng = random.Random(5)
    for alphabet in ("ab c.", "ab c.\u00e9\u4e00\U0001f600"):
        for _ in range(800):
            strings = list(dict.fromkeys("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
                                         for _ in range(rng.randint(1, 40))))
            wanted = [s for s in strings if rng.random() < 0.5]
            lit = Literals(strings, wanted)
            for _ in range(4):
                text = "".join(rng.choice(alphabet if rng.random() < 0.5 else "ab c.") for _ in range(rng.randint(0, 300)))
                assert lit.scan(text) == _plain(strings, wanted, text), (strings, wanted, text)


@compiled_only
def test_positions_stop_at_sixteen_places():
    lit = Literals(["aa", "a", "b"], ["aa", "b"])
    found, where = lit.scan("a" * 17 + " b " + "aa" * 2)
    assert found == {"a", "aa", "b"}
    assert where == {"aa": None, "b": [18]}  # "aa" overlaps itself: 16 places in the run, 3 after it
    assert lit.scan("aaa")[1] == {"aa": [0, 1]}
    assert lit.scan("")[0] == set()


def test_text_without_utf8_form_and_empty_strings_take_the_plain_path():
    lit = Literals(["ab", "\u00e9"], ["ab"])
    found, where = lit.scan("ab\ud800\u00e9")  # a lone surrogate: no UTF-8 form
    assert type(found) is Lazy and where is None
    assert "ab" in found and "\u00e9" in found and "zz" not in found
    empty = Literals(["", "x"])
    found, _ = empty.scan("y")
    assert type(found) is Lazy and "" in found and "x" not in found


@compiled_only
def test_finder_rejects_bad_arguments_with_clear_errors():
    with pytest.raises(TypeError, match="not a str"):
        literals.Finder(["a", 1])
    with pytest.raises(ValueError, match="empty"):
        literals.Finder(["a", ""])
    with pytest.raises(IndexError, match="wanted"):
        literals.Finder(["a"], [3])
    with pytest.raises(TypeError, match="str"):
        literals.Finder(["a"]).scan(b"a")
    finder = literals.Finder(["ab"])
    with pytest.raises(TypeError, match="already"):
        finder.__init__(["cd"])  # its strings are fixed: a scan in progress elsewhere relies on them
    assert finder.scan("xab") == ({"ab"}, {})
    with pytest.raises(RuntimeError, match="not initialised"):
        literals.Finder.__new__(literals.Finder).scan("ab")


def _views(raw: str) -> list[str]:
    n = normalize(raw)
    return [n.text] + ([n.leet] if n.leet and n.leet != n.text else [])


def _present_both_ways(view: str) -> tuple[set[str], set[str]]:
    index = _INDEXES[id(INPUT_FEATURES)][0]
    words = text_words(view)
    keys = text_keys(view, words)
    found, where = _LITERALS[id(INPUT_FEATURES)].scan(view)
    return index.present(view, words, keys, found), index.present(view, words, keys)


@compiled_only
def test_trigger_anchors_and_positions_from_the_scan_equal_the_word_lookup_on_the_corpus():
    """The anchors present (a head word must start a word of the text) and their positions, both ways."""
    _index(INPUT_FEATURES)
    index = _INDEXES[id(INPUT_FEATURES)][0]
    compared = 0
    for name in SECURITY_LABELS:
        rows = security_texts(name)
        prose = " ".join(rows)
        for raw in rows[::7] + [prose[i:i + 2048] for i in range(0, min(len(prose), 60_000), 2048)]:
            for view in _views(raw):
                fast, plain = _present_both_ways(view)
                assert fast == plain, view[:200]
                found, where = _LITERALS[id(INPUT_FEATURES)].scan(view)
                if where is not None:
                    for a in fast:
                        assert where[a] == _positions(view, a), (a, view[:200])
                compared += len(fast)
    assert compared > 2000
    # an anchor inside a longer word is a substring without its head starting a word: not present either way
    view = "the forecast was foretold by the oracle"
    assert "told" in index.anchors and "told" in _LITERALS[id(INPUT_FEATURES)].scan(view)[0]
    fast, plain = _present_both_ways(view)
    assert fast == plain and "told" not in fast
    assert "told" in _present_both_ways("what were you told")[0]


def _everything(text: str):
    v = check_input(text)
    d = detect(text)
    c = scan_context(text, source="tool")
    return (v.to_dict(), v.evidence, sorted((h.name, h.weight, h.view, h.excerpt) for h in d.hits), d.score, d.decoded,
            sorted((h.name, h.weight, h.view, h.excerpt) for h in c.hits), c.score)


def _compiled_and_plain(text: str):
    return on_and_off(literals.set_compiled, _everything, text)


@compiled_only
def test_detections_are_identical_with_and_without_the_compiled_scan_on_the_corpus():
    texts = []
    for name in SECURITY_LABELS:
        rows = security_texts(name)
        prose = " ".join(rows)
        texts += rows[::9] + [prose[i + 300:i + 300 + 2048] for i in range(0, min(len(prose), 40_000), 2048)]
    flagged = 0
    for text in texts:
        fast, plain = _compiled_and_plain(text)
        assert fast == plain, text[:200]
        flagged += fast[0]["flagged"]
    assert flagged > 100


_WORDS = ["ignore", "previous", "instructions", "you are", "now", "dan", "system prompt", "told", "foretold", "forever",
          "repeat", "print", "caf\u00e9ignore", "\u00e9told", "\uff29\uff47\uff4e\uff4f\uff52\uff45", "\u200b", "1gn0r3", "[mask]",
          "\n", ":", "assistant", "pretend", "no rules", "\ud800", "\u0301"]


@compiled_only
@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=6)), max_size=50).map(" ".join))
def test_detections_are_identical_with_and_without_the_compiled_scan_on_generated_text(text):
    fast, plain = _compiled_and_plain(text)
    assert fast == plain
