"""Find personal data and secrets in text, and redact them.

``find_pii(text)`` returns spans ``{"type", "start", "end"}``: structured identifiers checked by
their own rules (Luhn for cards, mod-97 for IBANs, octet ranges for IPs), credentials by their
well-known shapes (AWS, GitHub, OpenAI, Slack, Stripe, JWT, bearer tokens, private keys), and
names and street addresses by heuristics (context cues, a small given-name list, number + street
type). ``redact`` masks, drops or keyed-hashes the spans; ``redact_value`` walks dicts and lists.

Only the stdlib is used, every pattern is compiled at import, and a 2 KB text takes well under a
millisecond when it holds no candidates.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from bisect import bisect_left
from typing import Any, NamedTuple

from ._names import FIRST_NAMES, LABEL_WORDS, NOT_NAMES, STREET_PREFIXES, STREET_SUFFIXES, STREET_WORDS
from . import textfacts
from .piigates import FIRST_NAMES_B, STRONG_CUE_WORDS, PiiGates, pii_gates
from .textfacts import ClassMaps, class_maps

__all__ = [
    "find_pii", "redact", "redact_value", "luhn_valid", "iban_valid",
    "PII_TYPES", "SECRET_TYPES",
]

SECRET_TYPES = frozenset({
    "aws_access_key", "aws_secret_key", "github_token", "openai_key", "slack_token", "stripe_key",
    "google_api_key", "jwt", "bearer_token", "private_key", "generic_secret",
})
PII_TYPES = frozenset({
    "email", "phone", "credit_card", "iban", "ssn", "ip", "driver_license", "national_id", "person", "address",
})

# Lower number wins when two spans overlap.
_PRIORITY = {t: i for i, t in enumerate((
    "private_key", "aws_access_key", "aws_secret_key", "github_token", "openai_key", "slack_token", "stripe_key",
    "google_api_key", "jwt", "bearer_token", "generic_secret", "email", "iban", "driver_license", "credit_card", "ssn",
    "ip", "national_id", "address", "phone", "person",
))}

_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((t, re.compile(p)) for t, p in (
    ("private_key", r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]{0,8000}?(?:-----END (?:[A-Z]+ )?PRIVATE KEY-----|$)"),
    ("aws_access_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    ("aws_secret_key", r"(?i)\baws_?secret(?:_?access)?_?key\b\W{0,5}[A-Za-z0-9/+=]{40}\b"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b"),
    ("slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b|https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("bearer_token", r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*"),
    ("generic_secret", r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|password|passwd|pwd)\b[\"']?\s*[:=]\s*[\"']?[^\s\"',;]{8,}"),
))

# Literal pieces each secret pattern needs: the (slow) regex only runs when one is present.
_SECRET_GATES: dict[str, tuple[tuple[str, ...], bool]] = {  # kind -> (needles, search the lower-cased text)
    "private_key": (("-----BEGIN",), False),
    "aws_access_key": (("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"), False),
    "aws_secret_key": (("aws",), True),
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False),
    "openai_key": (("sk-",), False),
    "slack_token": (("xox", "hooks.slack.com"), False),
    "stripe_key": (("_live_", "_test_"), False),
    "google_api_key": (("AIza",), False),
    "jwt": (("eyJ",), False),
    "bearer_token": (("bearer",), True),
    "generic_secret": (("key", "secret", "token", "pass", "pwd"), True),
}
_WINDOW = 90  # characters of context kept around digits for the number-shaped patterns
_AWS_CUE = re.compile("A(?:" + "|".join(n[1:] for n in _SECRET_GATES["aws_access_key"][0]) + ")")  # one scan, not eight
_SECRET_CHAR = {"private_key": "-", "aws_access_key": "A", "github_token": "_", "openai_key": "-", "stripe_key": "_",
                "google_api_key": "A", "jwt": "J"}
# per secret kind, in scan order: (kind, pattern, needles, whether they are lower case, a character they all hold)
_SECRET_PLAN = tuple((k, p) + _SECRET_GATES[k] + (_SECRET_CHAR.get(k),) for k, p in _SECRETS)
_DIGIT_CLUSTER = re.compile(r"\d+(?:\D{1,%d}\d+)*" % (2 * _WINDOW))  # runs of digits whose windows overlap
_EMAIL = re.compile(r"\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}\b")
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){11,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])")
_IPV6 = re.compile(r"(?<![:\w])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:[0-9A-Fa-f:]*)(?![:\w])")
_PHONE = re.compile(r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(0?\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){0,3}[ .-]\d{2,8}(?![\w])|(?<![\w+])\+\d{8,14}\b|(?<![\w+.-])\d{10,11}(?=-(?:fax|office|mobile|home|cell|work))")
_PHONE_CTX = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|fax|whatsapp|sms|text me)\b[^\n\d]{0,15}(\d{7,12})\b")
_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:$|[ T]\d)")
_DL = re.compile(r"(?i)\b(?:driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|licen[cs]e\s+(?:no\.?|number|#)|\bDL)\b[^\n\d]{0,25}([A-Z]{0,2}\d[\d-]{4,16}\d|[A-Z]\d{5,15})")
_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")

_NUM = r"\d{1,6}[A-Za-z]?"
_W = r"[^\W\d_][\w'’.-]*"
_UNIT = r"(?:,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Room)\s*#?\d+[A-Za-z]?)?"
_ADDRESS = tuple(re.compile(p, re.I) for p in (
    rf"\d{{1,6}}[A-Za-z]?(?:\s+{_NUM})?\s+(?:{_W}\s+){{0,3}}(?:{STREET_WORDS})\b\.?{_UNIT}",
    r"\b(?:PSC|Unit|USNS|USNV|USS|USCGC)\s+\w+,?\s+(?:Box\s+\d+)?[\s,]*[AFD]PO\s+A[AEP]\s+\d{5}\b",
    r"\b(?:Apt\.?|Apartment|Suite|Ste\.)\s*#?\d+[A-Za-z]?\b",
))
_SUFFIX_TUPLE = tuple(s.replace("\\.", ".") for s in STREET_SUFFIXES.split("|"))
_PREFIX_SET = frozenset(s.replace("\\.", ".") for s in STREET_PREFIXES.split("|"))
_NUMBER = re.compile(r"\d{1,6}[A-Za-z]?\b")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’.-]*)\s+$")


def _street_numbers(text: str, add, lo: int = 0, hi: int | None = None) -> None:
    """"Fagradalsbraut 71", "Trenerys gate 232", "Rue de Virton 38": a street word, then a number."""
    ascii_text = textfacts.ENABLED and text.isascii()
    for m in _NUMBER.finditer(text, lo, len(text) if hi is None else hi):
        a = m.start()
        if a and (text[a - 1].isalnum() or text[a - 1] not in " \t"):
            continue
        before = text[max(0, a - 80):a]
        if ascii_text:
            i = _word_before_ascii(before)
            if i < 0:
                continue
            word = before[i:len(before.rstrip())].lower()
        else:
            w = _WORD_BEFORE.search(before)
            if w is None:
                continue
            i, word = w.start(1), w.group(1).lower()
        start = a - (len(before) - i)
        if word.endswith(_SUFFIX_TUPLE):
            pass
        else:
            words = before.split()[-6:]
            idx = next((i for i, x in enumerate(words) if x.lower() in _PREFIX_SET), None)
            if idx is None:
                continue
            start = a - len(before) + before.rfind(words[idx])
        lead = re.search(r"(\d{1,6}[A-Za-z]?\s+)+$", text[max(0, start - 20):start])
        if lead:
            start -= len(lead.group(0))
        end = m.end()
        unit = _UNIT_RE.match(text, end)
        if unit:
            end = unit.end()
        add((start, end, "address"))


def _word_before_ascii(before: str) -> int:
    """Where ``_WORD_BEFORE`` would match in an ASCII ``before`` that ends in a space or tab, or -1."""
    t = before.rstrip()
    run = t[len(t.rstrip(_RUN_CHARS)):]  # the letters, digits and _'.- that end ``t``
    word = run.lstrip(_RUN_CHARS_NOT_LETTERS)  # the word starts at the first letter of the run
    return len(t) - len(word) if word else -1


_RUN_CHARS_NOT_LETTERS = "0123456789_'.-"
_RUN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + _RUN_CHARS_NOT_LETTERS


_UNIT_RE = re.compile(_UNIT[:-1] if _UNIT.endswith("?") else _UNIT, re.I)

# "5638 Aasa 43": house/postal number, capitalised street name, number (common outside the US).
_ADDRESS_SANDWICH = re.compile(r"(?<![\w.-])\d{1,6}[ \t]+(?:[^\W\d_a-z][\w'’.-]*|de|da|do|del|della|van|von|der|la|le|u\.)(?:[ \t]+(?:[^\W\d_a-z][\w'’.-]*|de|da|do|del|della|van|von|der|la|le|u\.)){0,3}[ \t]+\d{1,5}[A-Za-z]?\b")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
_STRONG_CUE = re.compile(
    r"(?i)\b(?:my name is|my name's|name is|call me|people call me|i am called|signed|sincerely|regards|"
    r"maiden name is|name\s*:|user\s*:|patient\s*:|customer\s*:|contact\s*:|attn\.?:?|"
    r"mr\.?|mrs\.?|ms\.?|miss|mx\.?|dr\.?|prof\.?|sir|madam|dear)\s*,?\s+$")
# A token that starts a word (not the tail of "O'Brien") with anything but an ASCII lower-case letter.
_CAP_TOKEN = re.compile(r"[^\W\d_a-z](?<![^\W\d_].)(?<![^\W\d_]['’-].)[^\W\d_]*(?:['’-][^\W\d_]+)*\.?")
_WEAK_CUE = re.compile(
    r"(?i)\b(?:i am|i'm|this is|named|called|by|with|and|meet|ask|tell|contact|from|to|for|hi|hello|hey|thanks|"
    r"thank you|cc|add|invite|email|text|call)\s+$")

_TOKEN_GROUP = r"([^\W\d_]+(?:['’-][^\W\d_]+)*)"
# The cues followed by the word they introduce: (for lower-cased text, case-insensitive fallback).
_STRONG_CUE_FWD = tuple(re.compile(p) for p in (_STRONG_CUE.pattern[4:-len(r"\s*,?\s+$")] + r"\s*,?\s+" + _TOKEN_GROUP,
                                                _STRONG_CUE.pattern[:-len(r"\s*,?\s+$")] + r"\s*,?\s+" + _TOKEN_GROUP))
_WEAK_CUE_FWD = tuple(re.compile(p) for p in (_WEAK_CUE.pattern[4:-len(r"\s+$")] + r"\s+" + _TOKEN_GROUP,
                                              _WEAK_CUE.pattern[:-len(r"\s+$")] + r"\s+" + _TOKEN_GROUP))


def luhn_valid(number: str) -> bool:
    """True if the digits of ``number`` pass the Luhn checksum (credit cards)."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    """True if ``value`` is a well-formed IBAN with a correct mod-97 check."""
    s = value.replace(" ", "").upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


def find_pii(text: str, types: frozenset[str] | set[str] | None = None) -> list[dict[str, Any]]:
    """Return non-overlapping PII and secret spans ``{"type", "start", "end"}`` sorted by start.

    ``types``: keep only spans of these types (the same spans as the full scan, filtered). The name
    and street-address heuristics, most of the cost, only run when ``person`` / ``address`` are asked for.
    """
    if not isinstance(text, str) or not text:
        return []
    found: list[tuple[int, int, str]] = []
    add = found.append
    low = text.lower()
    fast = textfacts.ENABLED and text.isascii()
    for kind, pat, needles, lowered, common in _SECRET_PLAN:
        hay = low if lowered else text
        if common is not None and common not in hay:
            continue  # a character every needle holds: one fast test rules them all out
        if (_AWS_CUE.search(hay) is not None) if kind == "aws_access_key" else any(map(hay.__contains__, needles)):
            keys = kind == "generic_secret" and (fast or textfacts.ENABLED and _lower_is_exact(text))
            for m in (_generic_secrets(pat, text, low) if keys else pat.finditer(text)):
                add((m.start(), m.end(), kind))
    at = text.find("@")
    while at >= 0:
        a, b = max(0, at - 70), min(len(text), at + 260)
        for m in _emails(text, a, b):
            add((m.start(), m.end(), "email"))
        at = text.find("@", b)
    names = types is None or "person" in types
    # Names and addresses are heuristics, and the slow part: they only run when asked for, except that an
    # address outranks a phone number it overlaps, so addresses are looked for whenever a phone was found.
    places = types is None or "address" in types
    # without names and addresses, other text is gated too when it reads like ASCII text to the patterns
    views = None if fast or names or places or not textfacts.ENABLED else _plain_views(text)
    windows = _digit_windows(text, views)
    # which scans can find something; None: run them all
    g = pii_gates(text, low, windows, names, places) if views is None else PiiGates(text, low, windows, views, False, False)
    for a, b in windows:
        _structured(text, add, a, b, g)
        if ":" in text and (g is None or g.ipv6):
            for m in _runs_scan(_IPV6, _IPV6_RUNS, text, a, b, g):
                if _is_ip(m.group(0)):
                    add((m.start(), m.end(), "ip"))
        if places:
            _addresses(text, add, a, b, g)
    if not places and "phone" in types and any(s[2] == "phone" for s in found):
        if views is not None:
            g = None  # the address gates are for ASCII text only (a letter above ASCII may begin a street name)
        if g is not None:
            g.add_places(low, windows, class_maps(text))
        for a, b in windows:
            _addresses(text, add, a, b, g)
    if names:
        _names(text, add, g)
    spans = _resolve(found)
    if types is not None:
        spans = [s for s in spans if s[2] in types]
    return [{"type": t, "start": a, "end": b} for a, b, t in spans]


def _addresses(text: str, add, a: int, b: int, g: PiiGates | None) -> None:
    """Street addresses in the digit window ``a:b`` (every address holds a number)."""
    for pat, ok in zip(_ADDRESS, (True, True, True) if g is None else (g.address, g.military, g.unit)):
        if ok:
            for m in pat.finditer(text, a, b):
                add((m.start(), m.end(), "address"))
    _street_numbers(text, add, a, b)
    if g is None or g.sandwich:
        for m in _ADDRESS_SANDWICH.finditer(text, a, b):
            if not _looks_like_year_list(m.group(0).split()[0]):
                add((m.start(), m.end(), "address"))


def _emails(text: str, a: int, b: int):
    """``_EMAIL.finditer(text, a, b)``.

    A match holds one "@" and, before it, 1-64 characters of the local part's alphabet; so no match
    starts before the run of those characters that ends at the next "@", and the search starts there.
    """
    pos = a
    at = text.find("@", a, b)
    while at >= 0:
        before = text[max(pos, at - 64):at]
        run = len(before) - len(before.rstrip(_LOCAL_CHARS))
        m = _EMAIL.search(text, at - run, b)
        if m is None:
            return
        yield m
        pos = m.end()
        at = text.find("@", pos, b)


_LOCAL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"


def _generic_secrets(pat: re.Pattern[str], text: str, low: str):
    """``pat.finditer(text)`` for the generic-secret pattern and a text where ``_lower_is_exact``.

    Every match starts with one of its key words (case-insensitive, so at an occurrence in ``low``);
    trying the pattern only there finds the same matches without a scan of every position.
    """
    return _at_starts(pat, text, _head_starts(low, _GENERIC_HEADS), len(text))


def _lower_is_exact(text: str) -> bool:
    """Whether a ``(?i)`` pattern's ASCII word matches ``text`` exactly where the word occurs in
    ``text.lower()`` (at the same offset): unless ``text`` holds one of the four characters that
    match an ASCII letter case-insensitively without being one (and U+0130 lower-cases to two)."""
    return text.isascii() or not any(map(text.__contains__, _FOLDS_TO_ASCII))


_GENERIC_HEADS = ("api", "secret", "access", "auth", "pass", "pwd")  # how each key word of generic_secret begins


def _occurrences(hay, needle, a: int = 0, b: int | None = None) -> list[int]:
    """Where ``needle`` begins in ``hay[a:b]`` (str or bytes), overlaps included, ascending."""
    b = len(hay) if b is None else b
    out = []
    i = hay.find(needle, a, b)
    while i >= 0:
        out.append(i)
        i = hay.find(needle, i + 1, b)
    return out


def _digit_windows(text: str, views: ClassMaps | None = None) -> list[tuple[int, int]]:
    """Merged ranges of text around runs of digits: every number-shaped identifier lies inside one.

    Two runs' windows merge when at most ``2 * _WINDOW`` other characters separate the runs, so one
    match of ``_DIGIT_CLUSTER`` is one merged window. ``views``: ``_plain_views(text)`` of other text.
    """
    n = len(text)
    if textfacts.ENABLED and (views is not None or text.isascii()):
        # in the "digits" class view (shared with the decoders and the PII gates) only digits are "d"
        view = (class_maps(text) if views is None else views)["digits"]
        return [(max(0, a - _WINDOW), min(n, b + _WINDOW)) for a, b in _digit_clusters(view)]
    elif text.isascii() and len(text.encode("ascii").translate(None, b"0123456789")) == n:
        return []  # no digit at all
    return [(max(0, m.start() - _WINDOW), min(n, m.end() + _WINDOW)) for m in _DIGIT_CLUSTER.finditer(text)]


def _digit_clusters(view: bytes) -> list[tuple[int, int]]:
    """The spans of ``_DIGIT_CLUSTER.finditer(text)``, found in the "digits" class ``view`` of ``text``.

    A match runs from a digit over runs of digits separated by at most ``2 * _WINDOW`` non-digits
    (``\\D{1,180}`` cannot step over a longer gap, and giving back digits never helps), so it ends
    at the last digit before the first longer gap: a "d" followed by that many non-digits.
    """
    out = []
    start = view.find(b"d")
    while start >= 0:
        gap = _LONG_GAP.search(view, start)
        if gap is None:
            out.append((start, view.rfind(b"d") + 1))
            break
        out.append((start, gap.start() + 1))
        start = view.find(b"d", gap.end())
    return out


_LONG_GAP = re.compile(rb"d[^d]{%d}" % (2 * _WINDOW + 1))


def _plain_views(text: str) -> ClassMaps | None:
    """Class views of a text that is not ASCII (each character above ASCII one "?" there), or None when
    one of its characters can stand where a number-shaped pattern wants an ASCII one: a digit other than
    0-9 (``\\d``), or a letter that matches an ASCII letter case-insensitively (Kelvin sign, long s,
    dotted and dotless i). Otherwise those patterns match only ASCII characters, and the gates made from
    these views (``PiiGates`` without names and addresses) answer as for ASCII text."""
    if any(map(text.__contains__, _FOLDS_TO_ASCII)) or _OTHER_DIGIT.search(text) is not None:
        return None
    return ClassMaps(text.encode("ascii", "replace"))


_OTHER_DIGIT = re.compile(r"[^\D0-9]")
_FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"  # all of them, checked over every code point (four ``in`` tests: fast)


def _structured(text: str, add, a: int = 0, b: int | None = None, g: PiiGates | None = None) -> None:
    b = len(text) if b is None else b
    ibans = _IBAN.finditer(text, a, b) if g is None else _at_shape(_IBAN, text, g.digits, b"aadd", a, b) if g.iban else ()
    for m in ibans:
        s = m.group(0)
        while s and not iban_valid(s) and " " in s:
            s = s.rsplit(" ", 1)[0]  # a trailing word may have been swallowed
        if iban_valid(s):
            add((m.start(), m.start() + len(s), "iban"))
    for m in (_CARD.finditer(text, a, b) if g is None or g.card else ()):
        if luhn_valid(m.group(0)) and not _DATE.match(m.group(0)):
            add((m.start(), m.end(), "credit_card"))
    for m in (_SSN.finditer(text, a, b) if g is None or g.ssn else ()):
        add((m.start(), m.end(), "ssn"))
    for m in (_runs_scan(_IPV4, _IPV4_RUNS, text, a, b, g) if g is None or g.ipv4 else ()):
        add((m.start(), m.end(), "ip"))
    for m in (_at_keywords(_DL, _DL_HEADS, text, a, b, g) if g is None or g.dl else ()):
        add((m.start(1), m.end(1), "driver_license"))
    for m in (_NINO.finditer(text, a, b) if g is None or g.nino else ()):
        add((m.start(), m.end(), "national_id"))
    for m in (_runs_scan(_PHONE, _PHONE_RUNS, text, a, b, g) if g is None or g.phone else ()):
        s = m.group(0)
        digits = sum(c.isdigit() for c in s)
        if 7 <= digits <= 15 and not _DATE.match(s) and not _looks_like_year_list(s):
            add((m.start(), m.end(), "phone"))
    for m in (_at_keywords(_PHONE_CTX, _PHONE_CTX_HEADS, text, a, b, g) if g is None or g.phone_ctx else ()):
        add((m.start(1), m.end(1), "phone"))


def _at_shape(rx: re.Pattern[str], text: str, view: bytes, shape: bytes, a: int, b: int):
    """``rx.finditer(text, a, b)`` for a pattern whose every match begins where the class ``view``
    holds ``shape``: the pattern is only tried there (ASCII text)."""
    return _at_starts(rx, text, _occurrences(view, shape, a, b), b)


def _at_starts(rx: re.Pattern[str], text: str, starts, b: int):
    """``rx.finditer(text, a, b)`` for a pattern whose every match in ``a:b`` begins at one of
    ``starts`` (ascending, all in ``a:b``). Exact: ``finditer`` tries each position from the end of
    its last match on, and ``rx.match(text, i, b)`` is its try at ``i`` (look-behinds see the same
    text before ``i``); positions that are not in ``starts`` cannot match, so only those are tried."""
    end = -1
    for i in starts:
        if i >= end:
            m = rx.match(text, i, b)
            if m is not None:
                yield m
                end = m.end()


def _runs_scan(rx: re.Pattern[str], shape: _RunShape, text: str, a: int, b: int, g: PiiGates | None):
    """``rx.finditer(text, a, b)``, with gates (``g``) only in the runs that ``shape`` says can match."""
    if g is None:
        return rx.finditer(text, a, b)
    return _in_runs(rx, text, g.view(shape.table), shape, a, b)


def _in_runs(rx: re.Pattern[str], text: str, view: bytes, shape: _RunShape, a: int, b: int):
    """``rx.finditer(text, a, b)`` restricted to the runs of ``view`` that hold ``shape.seed``.

    ``view`` is the text mapped by ``shape.table``: every character a match of ``rx`` can consume is
    kept, any other is "x" (the views are only used for ASCII text, or text where ``\\d`` and the
    patterns' letters match ASCII characters only). So every match lies inside one maximal run of
    kept characters, and within ``a:b``: a run whose part in ``a:b`` has no ``seed`` holds no match
    that counts. The scan of a run starts at its first character (``finditer`` from ``a`` reaches it
    with no match in progress, since the character before is "x"), and look-behinds and ``\\b``
    see the text before ``pos`` anyway. Its end must leave room for the look-aheads past the run:
    ``shape.reach`` characters (or ``b``, where the full scan ends too); matches that begin after
    the run belong to a later run and are dropped.
    """
    n = len(view)
    seed = shape.seed.search(view, a, b)
    while seed is not None:
        i = seed.start()
        start = max(a, view.rfind(b"x", a, i) + 1)
        end = view.find(b"x", i)
        end = n if end < 0 else end
        for m in rx.finditer(text, start, min(b, end + shape.reach)):
            if m.start() >= end:
                break
            yield m
        seed = shape.seed.search(view, end, b)


def _at_keywords(rx: re.Pattern[str], heads: tuple[str, ...], text: str, a: int, b: int, g: PiiGates | None):
    """``rx.finditer(text, a, b)`` for a ``(?i)`` pattern whose every match begins with a key word
    that begins with one of ``heads`` (lower-case ASCII); with gates, tried only where a head occurs.

    With gates the text is ASCII or ``_plain_views`` found no character that matches an ASCII letter
    case-insensitively without being one, so ``_lower_is_exact``: a key word matches in ``text`` just
    where it occurs in ``text.lower()`` (``g.low``), at the same offset.
    """
    if g is None:
        return rx.finditer(text, a, b)
    return _at_starts(rx, text, _head_starts(g.low, heads, a, b), b)


def _head_starts(low: str, heads: tuple[str, ...], a: int = 0, b: int | None = None) -> list[int]:
    """Where any of ``heads`` begins in ``low[a:b]``, ascending, each offset once."""
    return sorted({i for head in heads for i in _occurrences(low, head, a, b)})


_PHONE_CTX_HEADS = ("phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "sms", "text")  # "tel": "telephone"
_DL_HEADS = ("driv", "licen", "dl")  # driver's/driving licence, licence no., DL


class _RunShape(NamedTuple):
    """How ``_in_runs`` narrows one pattern: ``table`` keeps what a match consumes (the rest -> "x"),
    ``seed`` (a bytes pattern on that view) occurs in every run that holds a match that counts, and
    ``reach`` covers the look-aheads: characters read past the end of a run."""
    table: bytes
    seed: re.Pattern[bytes]
    reach: int


def _keep(mapped: bytes, to: bytes, kept: bytes) -> bytes:
    """A translation table: each byte of ``mapped`` -> ``to``, of ``kept`` -> itself, any other -> "x"."""
    out = bytearray(b"x" * 256)
    for c in mapped:
        out[c] = to[0]
    for c in kept:
        out[c] = c
    return bytes(out)


_ASCII_DIGITS = b"0123456789"
# an IPv4 address: digits and dots, four octets of 1-3 digits; its (?![\d.]) reads 1 character on
_IPV4_RUNS = _RunShape(_keep(_ASCII_DIGITS, b"d", b"."), re.compile(rb"d\.d{1,3}\.d{1,3}\.d"), 1)
# a phone number: digits and " .-()+"; only those with 7-15 digits count. Its look-aheads read 1
# character on, or "-mobile"/"-office" from the "-" that may end the run (so 6), 8 leaves a margin.
_PHONE_RUNS = _RunShape(_keep(_ASCII_DIGITS, b"d", b" .-()+"), re.compile(rb"d(?:[^dx]*d){6}"), 8)
# an IPv6 address: hex digits and ":", at least "h:h:" and one more; (?![:\w]) reads 1 character on
_IPV6_RUNS = _RunShape(_keep(b"0123456789abcdefABCDEF", b"h", b":"), re.compile(rb"h:h{1,4}:[h:]"), 1)


def _looks_like_year_list(s: str) -> bool:
    parts = re.split(r"[ .-]", s)
    return all(len(p) == 4 and p[:2] in ("19", "20") for p in parts)


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def _is_cap(w: str) -> bool:
    return w[0].isupper() and not (len(w) > 3 and w.isupper())


_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "sir", "miss", "madam", "dear"})


def _lower_title(cue: str) -> bool:
    word = cue.strip().rstrip(".,:").strip()
    return word in _TITLES  # written in lower case: titles before a name are capitalised


def _names(text: str, add, g: PiiGates | None = None) -> None:
    """Names: a given name from the list, a context cue, or two or more capitalised words in a row."""
    # Lower-case names only count after a cue ("my name is vitoria", "follow up with benjamin").
    low = text.lower()
    same = len(low) == len(text)  # then offsets in ``low`` are offsets in ``text``
    for cue, names, ok in ((_STRONG_CUE_FWD, None, g is None or g.strong_cue), (_WEAK_CUE_FWD, FIRST_NAMES, g is None or g.weak_cue)):
        if not ok:
            continue
        if g is not None:  # ASCII: scan only the stretches that can hold a cue that counts
            found = _cue_matches(cue[0], text, low, g, names is None)
        else:
            found = cue[0].finditer(low) if same else cue[1].finditer(text)
        for m in found:
            w = text[m.start(1):m.end(1)]
            if _is_cap(w) or w.lower() in NOT_NAMES or names is not None and w not in names:
                continue
            if names is None and w.islower() and _lower_title(text[m.start():m.start(1)]):
                continue  # "21 ms per token": a unit, not "Ms. Per"
            add((m.start(1), m.end(1), "person"))
    groups: list[list[re.Match[str]]] = []
    end = -1
    for m in _CAP_TOKEN.finditer(text):
        if m.start() < end or not _is_cap(m.group(0)):
            continue
        cur = [m]
        while True:  # extend with capitalised words (and a particle between two of them)
            nxt = _next_token(text, cur[-1].end())
            if nxt is None:
                break
            if _is_cap(nxt.group(0)):
                cur.append(nxt)
                continue
            if nxt.group(0) in _PARTICLES:
                after = _next_token(text, nxt.end())
                if after is not None and _is_cap(after.group(0)):
                    cur.extend((nxt, after))
                    continue
            break
        end = cur[-1].end()
        groups.append(cur)
    for g in groups:
        toks = [t for t in g]
        while toks and toks[0].group(0).rstrip(".").lower() in NOT_NAMES:
            toks = toks[1:]
        while toks and toks[-1].group(0).rstrip(".").lower() in NOT_NAMES:
            toks = toks[:-1]
        if not toks or len(toks) > 4:
            continue
        words = [t.group(0).rstrip(".").lower() for t in toks]
        start, end = toks[0].start(), toks[-1].end()
        if text[end - 1] == ".":
            end -= 1
        if any(w in FIRST_NAMES for w in words) or len(words) >= 2 and not any(w in NOT_NAMES for w in words):
            add((start, end, "person"))
            continue
        before = text[max(0, start - 30):start]
        if _cue(before, _STRONG_TAILS, _STRONG_CUE):
            add((start, end, "person"))
        elif len(words) == 1 and words[0] not in LABEL_WORDS:
            weak = _cue(before, _WEAK_TAILS, _WEAK_CUE)
            if _single_name_context(text, start, end, _at_sentence_start(text, start), weak):
                add((start, end, "person"))


def _cue_matches(rx: re.Pattern[str], text: str, low: str, g: PiiGates, strong: bool):
    """``rx.finditer(low)`` (a forward cue pattern) for ASCII text, minus matches that cannot add a name.

    A cue match never holds a "barrier" character (anything but letters, white space and the few
    marks the pattern spells out), so the text splits at barriers into stretches that are scanned
    alone with the same result. Only stretches that can add a name are scanned: for the strong cues,
    those holding a cue word; for the weak cues, those holding a lower-case given name (the only
    names a weak cue adds).
    """
    if strong:
        view = text.encode("ascii").translate(_STRONG_BARRIERS)
        needles = [w.decode() for w in STRONG_CUE_WORDS.intersection(g.lwords)]
        hay = low
    else:
        view = text.encode("ascii").translate(_WEAK_BARRIERS)
        needles = [w.decode() for w in FIRST_NAMES_B.intersection(g.words)]
        hay = text
    hits: list[int] = []
    for needle in needles:
        i = hay.find(needle)
        while i >= 0:
            hits.append(i)
            i = hay.find(needle, i + 1)
    end = -1
    n = len(view)
    for p in sorted(hits):
        if p < end:
            continue
        start = view.rfind(b"|", 0, p) + 1
        end = view.find(b"|", p)
        end = n if end < 0 else end + 1
        yield from rx.finditer(low, start, end)


def _barriers(keep: str) -> bytes:
    """A table that maps every byte to "|" except ASCII letters, white space and ``keep`` (to "x")."""
    ok = set(range(65, 91)) | set(range(97, 123)) | {9, 10, 11, 12, 13, 28, 29, 30, 31, 32} | {ord(c) for c in keep}
    return bytes(120 if c in ok else 124 for c in range(256))


# what the forward cue patterns can consume besides letters and white space (``\s`` includes \x1c-\x1f)
_STRONG_BARRIERS = _barriers(":.,'-")
_WEAK_BARRIERS = _barriers("'-")


def _next_token(text: str, pos: int) -> re.Match[str] | None:
    """The token right after ``pos`` when only one or two spaces separate them."""
    if text.startswith("  ", pos) and not text.startswith("   ", pos):
        return _TOKEN.match(text, pos + 2)
    if text.startswith(" ", pos):
        return _TOKEN.match(text, pos + 1)
    return None


_PARTICLES = frozenset("van von de der den da di du la le del della dos das ten ter af bin al y".split())
_KIN = re.compile(r"(?i)\b(?:my|our|his|her|their) (?:kid|son|daughter|wife|husband|friend|partner|mom|mum|mother|dad|father|"
                  r"brother|sister|colleague|boss|neighbou?r|uncle|aunt|cousin|grandson|granddaughter|child|baby|fianc[ée]e?|niece|nephew) $")
_PERSON_VERB = re.compile(r"^ (?:lives|lived|began|begins|said|says|told|wants|wanted|loves|loved|hates|married|works|worked|went|"
                          r"thinks|believes|wrote|writes|asked|replied|smiled|called|had given|has given|is very|was born|and [A-Z])\b")
_REPORTING = re.compile(r"(?i)(?:\bsays|\bsaid|\baccording to|\bwrote|\basked|\breplied|,)\s+$")


def _single_name_context(text: str, start: int, end: int, sentence_start: bool, weak: bool) -> bool:
    """One capitalised word is a name when the words around it say so (vocative, speaker label, verb)."""
    before = text[max(0, start - 40):start]
    after = text[end:end + 24]
    if weak and not sentence_start or _cue(before, _KIN_TAILS, _KIN):
        return True
    line_start = start == 0 or text[start - 1] == "\n" or before.endswith(("\n> ", "\n "))
    if line_start and after[:2] in (': ', ':"'):
        return True  # dialogue speaker label
    if sentence_start and after[:2] == ", " and after[2:3].islower():
        return True  # "Leif, can I ..."
    if after[:1] in "!?." and before.endswith(", "):
        return True  # "... go to town, Derrick!"
    if after[:1] in ".,!?" and _cue(before, _REPORTING_TAILS, _REPORTING) and after[:1] in ".,!?" and not sentence_start:
        return True  # '..., says Becker.'
    return sentence_start and _PERSON_VERB.match(after) is not None


def _cue(before: str, tails: tuple[str, ...], rx: re.Pattern[str]) -> bool:
    """``rx.search(before)`` for cue patterns ending in whitespace, skipped unless a cue word ends ``before``."""
    if not before[-1:].isspace():
        return False
    t = before.rstrip()
    if t.endswith(","):
        t = t[:-1].rstrip()
    return t.lower().endswith(tails) and rx.search(before) is not None


# The last characters of every cue (a necessary condition checked with one str.endswith).
_STRONG_TAILS = ("name is", "name's", "call me", "called", "signed", "sincerely", "regards", ":", "attn", "attn.",
                 "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "mx.", "dr", "dr.", "prof", "prof.", "sir",
                 "madam", "dear")
_WEAK_TAILS = ("i am", "i'm", "this is", "named", "called", "by", "with", "and", "meet", "ask", "tell", "contact", "from",
               "to", "for", "hi", "hello", "hey", "thanks", "thank you", "cc", "add", "invite", "email", "text", "call")
_KIN_TAILS = ("kid", "son", "daughter", "wife", "husband", "friend", "partner", "mom", "mum", "mother", "dad", "father",
              "brother", "sister", "colleague", "boss", "neighbor", "neighbour", "uncle", "aunt", "cousin", "grandson",
              "granddaughter", "child", "baby", "fiance", "fiancé", "fiancee", "fiancée", "niece", "nephew")
_REPORTING_TAILS = ("says", "said", "according to", "wrote", "asked", "replied", ",")


def _gap_ok(text: str, a: int, b: int) -> bool:
    gap = text[a:b]
    return gap in (" ", "  ") or gap == " " * len(gap) and len(gap) < 3


def _at_sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\"'“(":
        j -= 1
    return j < 0 or text[j] in ".!?\n:>"


def _resolve(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    if textfacts.ENABLED:
        found.sort()
        if all(a < b for a, b, _ in found) and all(p[1] <= q[0] for p, q in zip(found, found[1:])):
            return found  # no two spans overlap (the usual case): every one is kept, whatever its priority
    found.sort(key=lambda s: (_PRIORITY.get(s[2], 99), -(s[1] - s[0]), s[0]))
    kept: list[tuple[int, int, str]] = []
    if not textfacts.ENABLED or any(s[0] >= s[1] for s in found):
        for s in found:
            if all(s[1] <= k[0] or s[0] >= k[1] for k in kept):
                kept.append(s)
    else:
        # Kept spans never overlap, so sorted by start they are sorted by end too: the only one that
        # can overlap a new span is the last kept span that starts before the new one ends.
        starts: list[int] = []
        ends: list[int] = []
        for s in found:
            i = bisect_left(starts, s[1])
            if i and ends[i - 1] > s[0]:
                continue
            starts.insert(i, s[0])
            ends.insert(i, s[1])
            kept.append(s)
    kept.sort()
    return kept


def _digest(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def redact(text: str, mode: str = "mask", key: bytes | None = None, types: set[str] | None = None) -> str:
    """Replace PII/secret spans: ``mask`` -> ``[EMAIL]``, ``drop`` -> removed, ``hash`` -> ``[EMAIL:<hmac>]``."""
    if mode not in ("mask", "drop", "hash"):
        raise ValueError(f"redact() mode has value {mode!r}. Expected one of: drop, hash, mask.")
    if mode == "hash" and not key:
        raise ValueError("redact(mode='hash') needs key=b'...': the HMAC key that keeps hashes unguessable.")
    if not isinstance(text, str) or not text:
        return text
    out: list[str] = []
    pos = 0
    for s in find_pii(text, types):
        a, b, t = s["start"], s["end"], s["type"]
        out.append(text[pos:a])
        if mode == "mask":
            out.append(f"[{t.upper()}]")
        elif mode == "hash":
            out.append(f"[{t.upper()}:{_digest(text[a:b], key)}]")  # type: ignore[arg-type]
        pos = b
    out.append(text[pos:])
    return "".join(out)


_SENSITIVE_KEY = re.compile(r"(?i)pass(?:word|wd)?$|pwd$|secret|token|api[_-]?key|authorization|credential|private[_-]?key|cookie")


def redact_value(obj: Any, mode: str = "mask", key: bytes | None = None, _depth: int = 0,
                 types: set[str] | frozenset[str] | None = None) -> Any:
    """Redact every string inside ``obj`` (dicts, lists, tuples, sets); values under secret-looking keys are masked whole."""
    if _depth > 32:
        return obj
    if isinstance(obj, str):
        return redact(obj, mode, key, types)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SENSITIVE_KEY.search(k) and isinstance(v, (str, bytes)) and v:
                out[k] = "[SECRET]" if mode != "hash" else f"[SECRET:{_digest(str(v), key)}]"  # type: ignore[arg-type]
            else:
                out[k] = redact_value(v, mode, key, _depth + 1, types)
        return out
    if isinstance(obj, (list, tuple)):
        items = [redact_value(v, mode, key, _depth + 1, types) for v in obj]
        return items if isinstance(obj, list) else tuple(items)
    if isinstance(obj, (set, frozenset)):
        return [redact_value(v, mode, key, _depth + 1, types) for v in obj]
    return obj
