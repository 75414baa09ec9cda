"""Text drift for LLM prompts, through descriptors a person can read.

Raw text has no histogram, so each prompt is reduced to descriptors and those are compared:

- **length**: characters per text, compared like any numerical column (``drift.compare``);
- **language**: a guess per text from its script (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari,
  CJK, Hangul, Thai) and, for Latin script, from stopword hits (en, es, fr, de, pt, it, nl); compared
  as categories (Jensen-Shannon or chi-square);
- **out-of-vocabulary rate**: share of a text's word tokens not in the reference vocabulary (the
  ``VOCAB_SIZE`` most frequent reference tokens). The reference's own rate is measured on a held-out
  half against the other half's vocabulary, so both sides are judged the same way; drift when the
  current mean exceeds it by ``OOV_THRESHOLD`` (0.1 absolute);
- **topic**: distribution of the top terms (stopwords removed); Jensen-Shannon distance between the
  reference and current term shares over the union of both top lists, drift at ``TOPIC_THRESHOLD``
  (0.2), with the new top terms listed so a person sees *what* people now ask about.

Everything is a pure function of lists of strings; the server feeds it a sample (``MAX_SAMPLE``) per
window and tenant (segment key).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .drift.compare import compare
from .drift.js import js_distance
from .profile import ColumnProfile, profile_current, profile_reference

MAX_SAMPLE = 2000
VOCAB_SIZE = 20000
TOP_TERMS = 50
OOV_THRESHOLD = 0.1
TOPIC_THRESHOLD = 0.2

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_SCRIPTS = [
    ("cyrillic", 0x0400, 0x04FF), ("greek", 0x0370, 0x03FF), ("arabic", 0x0600, 0x06FF), ("hebrew", 0x0590, 0x05FF),
    ("devanagari", 0x0900, 0x097F), ("thai", 0x0E00, 0x0E7F), ("hangul", 0xAC00, 0xD7AF), ("kana", 0x3040, 0x30FF),
    ("cjk", 0x4E00, 0x9FFF),
]
_SCRIPT_LANG = {"cyrillic": "ru", "greek": "el", "arabic": "ar", "hebrew": "he", "devanagari": "hi", "thai": "th",
                "hangul": "ko", "kana": "ja", "cjk": "zh"}
STOPWORDS = {
    "en": "the and is are to of in that it for you with on this what how can do my i be was have not your".split(),
    "es": "el la los las de que y en un una es por para con no se lo como mi pero más".split(),
    "fr": "le la les de des et est un une que qui pour pas dans en je vous il ce sur avec".split(),
    "de": "der die das und ist nicht ein eine zu den mit ich sie es auf für von wie dem".split(),
    "pt": "o a os as de que e do da em um uma para com não é por mais se".split(),
    "it": "il lo la gli le di che e è un una per non con sono mi come più".split(),
    "nl": "de het een en is van dat niet in op te voor met zijn je ik".split(),
}
_STOP_SETS = {lang: set(words) for lang, words in STOPWORDS.items()}
_ALL_STOP = set().union(*_STOP_SETS.values())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def language(text: str) -> str:
    """A coarse language guess: script first, then stopwords for Latin script; ``unknown`` if unsure."""
    counts = Counter()
    latin = 0
    for ch in text[:2000]:
        o = ord(ch)
        if ch.isascii():
            latin += ch.isalpha()
            continue
        for name, lo, hi in _SCRIPTS:
            if lo <= o <= hi:
                counts[name] += 1
                break
        else:
            latin += ch.isalpha()
    if counts and counts.most_common(1)[0][1] > latin:
        return _SCRIPT_LANG[counts.most_common(1)[0][0]]
    words = tokens(text)
    if not words:
        return "unknown"
    hits = {lang: sum(w in s for w in words) for lang, s in _STOP_SETS.items()}
    best = max(hits, key=hits.get)
    return best if hits[best] > 0 else "unknown"


def _texts(values) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def text_profile(values, bins: int = 50) -> dict:
    """Reference descriptors of a text column (JSON-able)."""
    texts = _texts(values)
    if not texts:
        raise ValueError("a text profile needs at least one text")
    toks = [tokens(t) for t in texts]
    half = len(toks) // 2
    vocab_a = Counter(w for ts in toks[:half] for w in ts)
    held_out = [_oov(ts, set(w for w, _ in vocab_a.most_common(VOCAB_SIZE))) for ts in toks[half:]] if half else []
    vocab = Counter(w for ts in toks for w in ts)
    terms = Counter(w for ts in toks for w in ts if w not in _ALL_STOP and len(w) > 2)
    length = profile_reference(np.array([len(t) for t in texts], dtype=float), "length", "numerical", bins=bins,
                               sketches=False)
    langs = Counter(language(t) for t in texts)
    return {"kind": "text", "rows": len(texts), "length": length.to_dict(), "languages": dict(langs),
            "vocab": [w for w, _ in vocab.most_common(VOCAB_SIZE)],
            "oov_rate": float(np.mean([v for v in held_out if v is not None])) if any(v is not None for v in held_out) else 0.0,
            "top_terms": dict(terms.most_common(TOP_TERMS))}


def _oov(words: list[str], vocab: set) -> float | None:
    return (sum(w not in vocab for w in words) / len(words)) if words else None


def text_drift(profile: dict, values) -> dict:
    """Compare current texts with a reference ``text_profile``: one result per descriptor."""
    texts = _texts(values)
    if not texts:
        return {"type": "text", "drifted": False, "rows": 0, "descriptors": {}, "reason": "no texts in the window"}
    length_ref = ColumnProfile.from_dict(profile["length"])
    length = compare(length_ref, profile_current(length_ref, np.array([len(t) for t in texts], dtype=float)))
    lang_ref = ColumnProfile("language", "categorical", rows=profile["rows"], categories=dict(profile["languages"]))
    lang_cur = Counter(language(t) for t in texts)
    lang = compare(lang_ref, dict(lang_cur))
    vocab = set(profile["vocab"])
    rates = [r for r in (_oov(tokens(t), vocab) for t in texts) if r is not None]
    oov_cur = float(np.mean(rates)) if rates else 0.0
    oov_delta = oov_cur - float(profile.get("oov_rate", 0.0))
    terms = Counter(w for t in texts for w in tokens(t) if w not in _ALL_STOP and len(w) > 2)
    cur_top = dict(terms.most_common(TOP_TERMS))
    ref_top = profile["top_terms"]
    union = list(dict.fromkeys(list(ref_top) + list(cur_top)))
    r = np.array([ref_top.get(w, 0) for w in union], float)
    c = np.array([terms.get(w, 0) for w in union], float)
    topic = float(js_distance(r, c)) if r.sum() and c.sum() else 0.0
    descriptors = {
        "length": {"method": length.method, "statistic": _r(length.statistic), "p_value": _r(length.p_value),
                   "threshold": length.threshold, "drifted": length.distribution_drifted,
                   "reference_mean": _r(length_ref.mean), "current_mean": _r(float(np.mean([len(t) for t in texts])))},
        "language": {"method": lang.method, "statistic": _r(lang.statistic), "p_value": _r(lang.p_value),
                     "threshold": lang.threshold, "drifted": lang.distribution_drifted,
                     "reference": dict(profile["languages"]), "current": dict(lang_cur),
                     "new": lang.details.get("new_categories", [])},
        "oov_rate": {"method": "oov_delta", "statistic": _r(oov_delta), "threshold": OOV_THRESHOLD,
                     "drifted": oov_delta >= OOV_THRESHOLD, "reference": _r(profile.get("oov_rate", 0.0)),
                     "current": _r(oov_cur)},
        "topic": {"method": "js_top_terms", "statistic": _r(topic), "threshold": TOPIC_THRESHOLD,
                  "drifted": topic >= TOPIC_THRESHOLD,
                  "new_terms": [w for w in list(cur_top)[:20] if w not in ref_top][:10],
                  "current_top": list(cur_top)[:10], "reference_top": list(ref_top)[:10]},
    }
    drifted = [k for k, v in descriptors.items() if v["drifted"]]
    return {"type": "text", "drifted": bool(drifted), "drifted_descriptors": drifted, "rows": len(texts),
            "descriptors": descriptors}


def _r(x):
    if x is None or not np.isfinite(x):
        return None
    return float(f"{float(x):.6g}")


def looks_like_text(values) -> bool:
    """A string column of prose rather than categories: long on average, mostly distinct, several words."""
    texts = _texts(values)[:500]
    if len(texts) < 5:
        return False
    mean_len = sum(len(t) for t in texts) / len(texts)
    distinct = len(set(texts)) / len(texts)
    words = sum(len(t.split()) for t in texts) / len(texts)
    return mean_len >= 30 and distinct >= 0.5 and words >= 4
