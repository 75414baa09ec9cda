"""Unusual token patterns, judged against an app's own normal traffic.

``AnomalyBaseline.fit(texts)`` learns running mean and variance of a few cheap text statistics
(length, character entropy, shares of letters/digits/punctuation/non-ASCII/uppercase, word
repetition, longest repeated-character run). ``score(text)`` turns the largest z-score into 0..1,
so a customer-support bot and a code assistant each get their own idea of "normal".
``update(text)`` keeps adapting; ``to_dict``/``from_dict`` serialise it as plain JSON.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["AnomalyBaseline", "text_features", "FEATURES"]

FEATURES = (
    "log_length", "entropy", "letter_share", "digit_share", "space_share", "punct_share",
    "non_ascii_share", "upper_share", "repetition", "max_char_run", "mean_word_len",
)
_MIN_STD = {  # floors so that a very uniform baseline does not make every small change "anomalous"
    "log_length": 0.35, "entropy": 0.15, "letter_share": 0.03, "digit_share": 0.02, "space_share": 0.02,
    "punct_share": 0.02, "non_ascii_share": 0.02, "upper_share": 0.03, "repetition": 0.05,
    "max_char_run": 0.3, "mean_word_len": 0.4,
}


def text_features(text: str) -> dict[str, float]:
    """The statistics the baseline tracks, for one text."""
    if not isinstance(text, str):
        text = str(text)
    text = text[:50_000]
    n = len(text)
    if n == 0:
        return {f: 0.0 for f in FEATURES}
    counts = Counter(text)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    letters = digits = spaces = upper = non_ascii = 0
    for ch, c in counts.items():
        if ch.isalpha():
            letters += c
            if ch.isupper():
                upper += c
        elif ch.isdigit():
            digits += c
        elif ch.isspace():
            spaces += c
        if ord(ch) > 127:
            non_ascii += c
    punct = n - letters - digits - spaces
    words = text.split()
    repetition = 1.0 - len(set(words)) / len(words) if words else 0.0
    run = best = 1
    for a, b in zip(text, text[1:]):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return {
        "log_length": math.log1p(n), "entropy": entropy, "letter_share": letters / n,
        "digit_share": digits / n, "space_share": spaces / n, "punct_share": punct / n,
        "non_ascii_share": non_ascii / n, "upper_share": upper / letters if letters else 0.0,
        "repetition": repetition, "max_char_run": math.log1p(best),
        "mean_word_len": (sum(map(len, words)) / len(words)) if words else 0.0,
    }


@dataclass
class AnomalyBaseline:
    """Running per-feature mean/variance over an app's normal texts (Welford's algorithm)."""

    count: int = 0
    mean: dict[str, float] = field(default_factory=lambda: {f: 0.0 for f in FEATURES})
    m2: dict[str, float] = field(default_factory=lambda: {f: 0.0 for f in FEATURES})
    z_threshold: float = 4.0
    min_count: int = 20

    @classmethod
    def fit(cls, texts: Iterable[str], **kwargs: Any) -> "AnomalyBaseline":
        """Build a baseline from normal texts."""
        b = cls(**kwargs)
        for t in texts:
            b.update(t)
        return b

    def update(self, text: str) -> None:
        """Fold one more normal text into the baseline."""
        feats = text_features(text)
        self.count += 1
        for f in FEATURES:
            x = feats[f]
            delta = x - self.mean[f]
            self.mean[f] += delta / self.count
            self.m2[f] += delta * (x - self.mean[f])

    def std(self, f: str) -> float:
        var = self.m2[f] / (self.count - 1) if self.count > 1 else 0.0
        return max(math.sqrt(max(var, 0.0)), _MIN_STD[f])

    def zscores(self, text: str) -> dict[str, float]:
        """Absolute z-score of each feature of ``text`` against the baseline."""
        feats = text_features(text)
        return {f: abs(feats[f] - self.mean[f]) / self.std(f) for f in FEATURES}

    def score(self, text: str) -> float:
        """0 for typical texts, rising towards 1 as the most unusual feature passes ``z_threshold``."""
        if self.count < self.min_count:
            return 0.0  # not enough traffic yet to know what is normal
        try:
            z = max(self.zscores(text).values())
        except Exception:
            return 0.0
        if z <= self.z_threshold / 2:
            return 0.0
        return round(1.0 - math.exp(-(z - self.z_threshold / 2) / (self.z_threshold / 2) * 0.7), 4)

    def explain(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` features that make ``text`` unusual, with their z-scores."""
        z = self.zscores(text)
        return sorted(z.items(), key=lambda kv: kv[1], reverse=True)[:top]

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "count": self.count, "mean": dict(self.mean), "m2": dict(self.m2),
                "z_threshold": self.z_threshold, "min_count": self.min_count}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AnomalyBaseline":
        if data.get("version") != 1:
            raise ValueError(f"AnomalyBaseline data has version {data.get('version')!r}. Expected 1.")
        b = cls(count=int(data["count"]), z_threshold=float(data.get("z_threshold", 4.0)),
                min_count=int(data.get("min_count", 20)))
        for f in FEATURES:
            b.mean[f] = float(data["mean"].get(f, 0.0))
            b.m2[f] = float(data["m2"].get(f, 0.0))
        return b
