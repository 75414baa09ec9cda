"""The phrase features the input detectors look for, as data.

Each :class:`Feature` is a regular expression over *normalised, lower-cased* text plus the
category it is evidence for and a weight in 0..1. Weights combine by noisy-OR in
``detectors.py``, so one strong feature (an instruction override) flags on its own while weak
ones (a persona request, a mention of "system prompt") only flag together.

The features describe attack *techniques*: overriding earlier instructions, dropping rules,
addressing the AI from inside data, asking for the hidden prompt, asking to decode and obey.
They are written from the techniques' descriptions, not copied from any corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import textfacts
from .literals import Lazy
from .prefilter import Requirement, anchored_starts, compiled, key_sets, requirement, starts

__all__ = ["Feature", "INPUT_FEATURES", "CONTEXT_FEATURES", "HARM_TERMS", "harm_scanner", "harm_search", "compile_union",
           "literal_trie"]


@dataclass(frozen=True)
class Feature:
    """One piece of evidence: a named pattern, the category it supports and its weight."""

    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    anchors: tuple[str, ...] = ()  # the pattern cannot match unless one of these substrings is present
    fast: re.Pattern[str] | None = None  # finds every position where a match can begin, several times faster
    tail: int = 0  # patterns anchored at the end of the text only look at its last ``tail`` characters

    window: tuple[int, int] | None = (200, 260)  # (back, forward) chars around an anchor; None: whole text
    needs: Requirement = ()  # literal pieces every match contains (prefilter.py): absent ones rule the pattern out
    at_start: bool = False  # a match may also begin with ``^`` (at the start of the text), where ``fast`` cannot see it
    start_words: tuple[str, ...] | None = None  # every match begins at the text's start, then one of these
    quick: bool = False  # matches begin with literals of 5+ characters: a windowed search is cheaper than ``needs``
    end_words: tuple[str, ...] | None = None  # every match ends the text: one of these, then ``\s*:?\s*``

    def opens(self, text: str, end: int | None = None) -> bool:
        """False when the pattern is anchored at the start and ``text`` (after white space) begins
        with none of its ``start_words``: then it cannot match."""
        if self.start_words is None:
            return True
        m = _NON_SPACE.search(text, 0, len(text) if end is None else end)
        return m is not None and text.startswith(self.start_words, m.start(), len(text) if end is None else end)

    def closes(self, text: str) -> bool:
        """False when every match ends the text with one of ``end_words`` (then white space, at most
        one ":" and white space) and ``text`` does not end that way: then it cannot match."""
        end = text.rstrip()
        if end.endswith(":"):
            end = end[:-1].rstrip()
        return end.endswith(self.end_words)  # type: ignore[arg-type]

    def search(self, text: str, positions: list[int] | None = None) -> re.Match[str] | None:
        """Like ``pattern.search``; with anchor ``positions`` only windows around them are scanned."""
        if self.start_words is not None and not self.opens(text):
            return None
        if self.end_words is not None and textfacts.ENABLED and not self.closes(text):
            return None
        if positions is None or self.window is None:
            if self.anchors and not any(a in text for a in self.anchors):
                return None
            start = max(0, len(text) - self.tail) if self.tail else 0
            return self._scan(text, start, len(text))
        back, fwd = self.window
        n = len(text)
        a0 = b0 = -1
        for p in positions:
            a = p - back if p > back else 0  # max(0, p - back), min(n, p + fwd) without two builtin calls
            b = p + fwd if p + fwd < n else n
            if a <= b0:
                b0 = b
                continue
            if b0 > 0:
                m = self._scan(text, a0, b0)
                if m is not None:
                    return m
            a0, b0 = a, b
        return self._scan(text, a0, b0) if b0 > 0 else None

    def _scan(self, text: str, start: int, end: int) -> re.Match[str] | None:
        """``pattern.search(text, start, end)``: the pattern is only tried where ``fast`` finds a candidate."""
        if self.start_words is not None:  # only the start of the text can match
            return self.pattern.match(text, 0, end) if start == 0 and self.opens(text, end) else None
        if self.fast is None:
            return self.pattern.search(text, start, end)
        pos = start
        if self.at_start and start == 0:
            m = self.pattern.match(text, 0, end)
            if m is not None:
                return m
        while True:
            cand = self.fast.search(text, pos, end)
            if cand is None:
                return None
            m = self.pattern.match(text, cand.start(), end)
            if m is not None:
                return m
            pos = cand.start() + 1


def _f(name: str, category: str, weight: float, pattern: str) -> Feature:
    compiled = re.compile(pattern, re.S)
    # Candidates: the literal strings every match begins with, as one alternation (a plain scan for a
    # few literals, where the pattern itself tries every branch at every position), else the pattern
    # minus its leading \b (3x faster than with it).
    lead = starts(compiled)
    if lead is not None:
        fast: re.Pattern[str] | None = re.compile(literal_trie(lead[0]))
    else:
        fast = re.compile(pattern[2:], re.S) if pattern.startswith("\\b") else None
    window = None if name in _WHOLE_TEXT or "$" in pattern.replace("\\$", "") else _WINDOW.get(name, (200, 260))
    return Feature(name, category, weight, compiled, _ANCHORS.get(name, ()), fast, _TAIL.get(name, 0), window,
                   requirement(compiled), lead is not None and lead[1], anchored_starts(compiled),
                   lead is not None and window is not None and min(map(len, lead[0])) >= 5, _END_WORDS.get(name))


def literal_trie(literals: tuple[str, ...] | list[str]) -> str:
    """A regular expression for "one of ``literals``" shaped as a trie: ``a(?:ct(?: as)?|sk)`` for
    act, act as, ask. It matches where the plain alternation does (at the same positions), but tries
    one branch per next character instead of every literal in turn: 1.5-4x faster on 2 KB of prose."""
    tree: dict[str, dict] = {}
    for lit in literals:
        node = tree
        for ch in lit:
            node = node.setdefault(ch, {})
        node[""] = {}  # a literal ends here

    def emit(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        if "" in node:
            return "(?:" + "|".join(alts) + ")?"
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(tree)


_NON_SPACE = re.compile(r"\S")
_TAIL = {"pii_probe": 200}
# Features whose every branch ends ``(?:...)\s*:?\s*$``: the words a match can end in, read off the pattern
# (tests/security/test_scan_shortcuts.py checks them against it)
_END_WORDS = {"pii_probe": ("is", "was", "at", "the", "his", "her", "their", "mail", "address", "phone", "number")}
# Features whose match can start far from their anchor words get a wider window; a few scan it all.
_WINDOW = {"exfil_action": (320, 120), "imperative_action": (160, 80), "rule_drop": (260, 120),
           "role_turns": (300, 400), "dual_response": (260, 260), "suppress_disclaimer": (200, 200)}
_WHOLE_TEXT = {"md_image_exfil", "decode_template", "tense_q", "tense_shift"}


# Cheap substring pre-checks: each is a necessary condition for its feature's pattern, so the
# (much slower) regex only runs on texts that could match.
_ANCHORS: dict[str, tuple[str, ...]] = {
    "override": ("ignor", "disregard", "forget", "skip", "bypass", "overrid", "overlook", "neglect", "abandon",
                 "discard", "drop", "set aside", "cancel", "follow", "attention"),
    "override_ml": ("ignor", "olvida", "vergiss", "vergessen", "oubli", "dimentica", "neue anweisungen",
                    "nuevas instrucciones", "nouvelles instructions", "nuove istruzioni"),
    "rule_drop_ml": ("sin ", "sans ", "senza ", "ohne ", "keine ", "ne s'appliquent", "no aplican", "non valgono",
                     "gelten nicht", "no se aplican"),
    "new_instructions": ("instruction", "task", "directive", "order", "system prompt"),
    "fake_system": ("system", "admin", "developer", "root", "sudo", "sys", "instruction", "<|", "inst]"),
    "role_turns": ("user", "human"),
    "embedded_user_turn": ("user", "human"),
    "repeat_verbatim": ("repeat",),
    "override_pronoun": ("ignore", "disregard", "forget"),
    "instruction_header": ("instruction", "amendment", "directive", "update", "notice", "command"),
    "conditional_reply": ("if ", "follow"),
    "cover_tracks": ("delete",),
    "skip_checks": ("checks", "confirmation", "approvals", "verification", "guardrails", "without "),
    "end_of_input": ("end of", "begin "),
    "hijack_print": ("print", "say", "output", "write", "respond with", "reply with", "return", "translate"),
    "stop_everything": ("stop everything", "nevermind", "new task", "instead of"),
    "addressed_to_ai": ("message", "note", "instruction", "attention", "notice", "request", "to you", "if you are",
                        "reading this", "processing this", "summarizing this", "summarising this", "for ai", "for llm"),
    "before_task": ("before",),
    "do_not_tell": ("tell", "inform", "mention", "alert", "notify"),
    "exfil_action": ("@", "http", "www."),
    "tool_directive": ("tool", "function", "call "),
    "tool_to_outside": ("_",),
    "fake_system_ml": ("syst",),
    "every_response": ("every", "each", "all", "any", "tout", "ogni", "jede", "cada", "toda"),
    "list_secrets": ("environment variables", "env vars", "api keys", "secrets", "credentials", "passwords",
                     "confidential data"),
    "md_image_exfil": ("](", "]:"),
    "url_placeholder": ("http", "replac"),
    "xss": ("<script", "javascript", "onerror", "onload", "onmouseover", "<img"),
    "include_in_output": (" in your ", " in the "),
    "concat_strings": ("concatenate", "append each part"),
    "decode_and_obey": ("decode", "decipher", "translate", "convert", "read", "interpret"),
    "decode_secure_msg": ("monologue", "secure system message", "hidden"),
    "decode_template": ("decoded",),
    "decode_request": ("decod", "decipher", "decrypt", "obfuscate", "encoded", "encrypted", "what does this mean"),
    "dan": ("dan", "do anything now", " mode", "jailbr"),
    "rule_drop": ("restriction", "limitation", "limits", "filter", "censorship", "ethic", "moral", "guideline",
                  "safeguard", "rules", "polic", "confines", "boundar", "constraint", "programming", "principle",
                  "safety"),
    "content_policy": ("polic", "ethical"),
    "unfiltered": ("unfiltered", "uncensored", "amoral", "unethical", "unrestricted", "immoral", "no morals",
                   "no ethics", "no filter"),
    "never_refuse": ("refuse", "decline", "deny", "say no", "say that", "say you", "say it", "always", "must",
                     "no matter"),
    "stay_in_character": ("character", "in role", "in persona"),
    "dual_response": ("responses", "answers", "ways", "paragraphs"),
    "persona": ("act", "pretend", "role", "you are", "from now on", "you will", "simulat", "imagine", "named",
                "transform", "behave", "your name"),
    "unchained": ("unlocked", "unchained", "unleashed", "liberated", "jailbroken", "uncensored", "unfiltered"),
    "dual_persona": ("styles", "characters", "personas", "personalities", "modes", "versions", "entities",
                     "for each", "for every"),
    "cue_from_now_on": ("from now on", "from this point", "for the rest of"),
    "cue_model_named": ("gpt", "openai", "open ai", "bard", "claude"),
    "cue_always_never": ("always", "never", "not ever", "no matter"),
    "cue_respond_as": ("respond", "answer", "reply", "speak", "talk"),
    "cue_placeholder": ("[", "{", "<"),
    "cue_edgy": ("offensive", "vulgar", "swear", "curs", "explicit", "nsfw", "profan", "obscen", "rude",
                 "unhinged", "toxic", "racist", "edgy"),
    "cue_truth_optional": ("make things up", "make stuff up", "make it up", "made up", "made-up", "to be true",
                           "to be accurate", "to be real", "lie", "false information", "even if"),
    "cutoff_trick": ("know what", "cut"),
    "suppress_disclaimer": ("as an ai", "language model", "disclaimer", "warning", "sorry", "i cannot",
                            "not able to", "moral", "ethic"),
    "hateful_request": ("about",),
    "ai_persona_named": ("named", "called", "known as"),
    "unlock": ("mode", "persona"),
    "sudo_authority": ("i am", "i'm", "authori"),
    "grandma": ("grand", "granny", "nana", "mom", "mother", "father", "dad"),
    "hypothetical_char": ("hypothetical response", "perspective", "point of view"),
    "fiction_wrapper": ("fictional", "hypothetical", "imaginary", "purposes only"),
    "tense_q": ("did", "were", "was", "will", "would", "might", "had"),
    "tense_shift": ("did", "were", "was", "will", "would", "might", "had", "could", "future", "past", "histor"),
    "predict_mask": ("predict",),
    "letter_assembly": ("letter",),
    "prompt_leak": ("prompt", "instruction", "configuration", "guidelines", "rules", "context window", "message"),
    "prompt_leak_ml": ("istruzioni", "instrucciones", "instructions", "systemanweisungen", "systemprompt",
                       "prompt", "anweisungen"),
    "prompt_leak_told": ("told", "instructed", "given", "programmed", "above", "before", "you are",
                         "configuration", "config", "setup", "settings", "rules", "instructions", "prompt",
                         "directives", "initiali", "not supposed", "not allowed", "forbidden"),
    "system_prompt_mention": ("system prompt", "system message", "initial instructions", "hidden instructions",
                              "your instructions", "your prompt"),
    "divergence": ("forever", "indefinitely", "infinitely", "endlessly", "stop", "over and over", "until",
                   "times"),
    "cloze": ("mask", "seen", "memori", "read", "training data"),
    "fill_blank": ("fill in", "____"),
    "pii_probe": ("mail", "phone", "address", "mobile", "ssn", "social security", "password", "date of birth", " at",
                  "credit card", "number"),
    "training_data": ("training", "memori", "verbatim"),
    "imperative_to_ai": ("must", "should", "required", "instructed", "need to", "have to", "will now"),
    "important_message": ("important", "urgent", "critical", "<"),
    "imperative_action": ("@", "http", "www."),
}


_IGNORE = r"(?:ignore|ignoring|disregard|forget|skip|bypass|override|overlook|neglect|abandon|discard|drop|set aside|cancel|stop following|do not follow|don'?t follow|pay no attention to)"
_PRIOR = r"(?:all|any|every|the|your|my|these|those|this|that|of|previous|prior|above|earlier|preceding|following|foregoing|other|initial|original|old|existing|current|system|developer|safety|default|given|provided|and|ethical|moral|content|rest|remaining|before|everything|of the|\s)*"
_RULES = r"(?:\w{0,2}nstr\w*|info(?:rmation)?|directions?|directives?|rules|guidelines|guidance|prompts?|commands?|context|orders|constraints|policies|policy|programming|restrictions|limitations|filters|safeguards|messages?|training|conversation|text|content|data|tasks?|settings|principles|protocols)"
# A displaced time frame: the technique of asking a harmful "how" question about the past or the future.
_WHEN = (r"(?:in the (?:past|future|\d{4}s|(?:early|late|mid)[ -]\w+)|historically|back then|in (?:earlier|ancient|medieval|coming|upcoming|future|recent) (?:times|years|decades)"
         r"|in (?:the )?(?:coming|next|upcoming) (?:years|decades)|years ago|decades ago|a century ago|in history|in the old days|nowadays|in the years to come|in (?:the )?(?:19|20)\d\ds?)")
_AI = r"(?:ai|a\.i\.|assistant|llm|language model|chat ?bot|bot|agent|copilot|gpt(?:-?\d+\w*)?|chatgpt|claude|gemini|model)"

INPUT_FEATURES: tuple[Feature, ...] = (
    # --- instruction override (direct and indirect injection) -------------------------------
    _f("override", "injection", 0.9, rf"\b{_IGNORE}\b{_PRIOR}\b{_RULES}\b"),
    _f("override_ml", "injection", 0.9,
       r"\b(?:ignora|ignore[sz]?|olvida|ignoriere|ignorieren sie|vergiss|vergessen sie|oublie[sz]?|dimentica|ignorar)\b"
       r"[^.\n]{0,40}\b(?:instrucciones|instructions|anweisungen|istruzioni|regeln|reglas|règles|regole|consignes|richtlinien|directrices|linee guida|directives)\b"
       r"|\b(?:vergiss|vergessen sie) alles\b|\b(?:neue anweisungen|nuevas instrucciones|nouvelles instructions|nuove istruzioni)\s*:"),
    _f("rule_drop_ml", "jailbreak", 0.6,
       r"\b(?:sin|sans|senza|ohne) (?:\w+ )?(?:restricciones|restrictions|restrizioni|einschränkungen|regeln|reglas|règles|regole|filtros|filtres|filtri|censura|censure|zensur|límites|limites|limiti)\b"
       r"|\bkeine (?:regeln|einschränkungen|grenzen|filter)\b|\b(?:regles|règles|reglas|regole|regeln|linee guida|lignes directrices)\b[^.\n]{0,40}\b(?:ne s'appliquent pas|no aplican|non valgono|gelten nicht|no se aplican)\b"),
    _f("new_instructions", "injection", 0.6, r"\b(?:new|updated|real|actual|true|secret|hidden|additional|revised) (?:instructions?|task|directive|orders?|system prompt)\s*(?::|are|is\b)"),
    _f("fake_system", "injection", 0.7,
       r"(?:^|\n|\[|<|\(|#|\*\*)\s*(?:system|admin|administrator|developer|root|sudo)(?: message| override| note| prompt| instruction| request| notice| update|::system message)?\s*(?:\]|>|\)|:|#)"
       r"|\b(?:system|admin|developer) (?:override|message|instruction)s?\s*:"
       r"|[\[(<{#]\s*/?\s*(?:system|admin|developer|sys|instructions?)(?:[_ ](?:message|prompt|note|instructions?|override))?\s*[\])>}]"
       r"|<\|(?:endoftext|im_start|im_end|system|user|assistant)\|>|\[/?inst\]|<<sys>>"),
    _f("role_turns", "injection", 0.55, r"\n\s*(?:assistant|ai|gpt|chatbot)\s*:[^\n]*\n(?:[^\n]*\n){0,3}\s*(?:user|human)\s*:"),
    _f("embedded_user_turn", "injection", 0.35, r"\S[ \t]*\n\s*>?[ \t]*(?:user|human)[ \t]*:[ \t]*\S"),
    _f("repeat_verbatim", "injection", 0.3, r"\brepeat (?:the following (?:sentence|text|phrase|words?|line)|after me|<|exactly|verbatim)"),
    _f("override_pronoun", "injection", 0.7, r"\b(?:ignore|disregard|forget)\b (?:them|it|that|this|those|everything|all of (?:it|them|that))\b[^\n.]{0,12}\b(?:and|,) (?:instead|only|just|focus|do|print|say)\b"),
    _f("instruction_header", "injection", 0.55,
       r"(?:^|\n)\s*(?:--+|##+|\*\*|\[|=+|>+)\s*(?:core|new|important|priority|urgent|legal|critical|admin|system|override|hidden|secret)\b[^\n]{0,30}\b(?:instructions?|amendment|directive|update|notice|command)\b"),
    _f("conditional_reply", "injection", 0.55,
       r"\bif (?:the )?(?:user|anyone|someone|you are|questioned|asked)\b[^\n.]{0,40},? (?:reply|respond|say|answer|report|state|tell them|output|print)\b"
       r"|\bfollow (?:this|these|my) (?:new )?instructions? (?:instead|now|exactly|carefully)\b|,\s*follow instructions?\b"),
    _f("cover_tracks", "injection", 0.35, r"\b(?:then|and|after(?:wards)?,?) delete (?:the|this|that|both|all) (?:sent )?(?:emails?|messages?|evidence|conversation|logs?)\b|\bdelete the (?:email|message) you (?:have )?(?:just )?sent\b"),
    _f("skip_checks", "injection", 0.5, r"\b(?:skip|bypass|disable|ignore)\w* (?:all |any |the )?(?:safety|security|approval|confirmation|verification)? ?(?:checks|confirmations|approvals|verification|guardrails)\b|\bwithout (?:asking|confirmation|confirming|checking) (?:again|the user|first)\b"),
    _f("end_of_input", "injection", 0.5, r"\b(?:end of (?:user )?(?:input|document|context|text|data|prompt|file)|begin (?:new|system) (?:instructions?|prompt))\b"),
    _f("hijack_print", "injection", 0.55, r"\b(?:just|only|instead|simply|now)\b,? (?:print|say|output|write|respond with|reply with|return|translate [^\n]{0,40} as)\b[^\n]{0,20}[\"'“]"),
    _f("stop_everything", "injection", 0.6, r"\b(?:stop everything|nevermind\.?\s+ignore|new task\s*:|instead of (?:your|the) (?:task|summary|answer))"),
    _f("addressed_to_ai", "injection", 0.45,
       rf"(?:\b(?:message|note|instructions?|attention|notice|request) (?:to|for) (?:the |any |all )?{_AI}s?\b"
       rf"|\bto you,? (?:the )?{_AI}\b|\bif you are an? (?:ai|assistant|llm|language model|agent|bot)\b"
       rf"|\b(?:ai|llm|assistant|agent|bot)s? (?:reading|processing|summari[sz]ing) this\b|\bfor (?:ai|llm) (?:coding )?agents\b)"),
    _f("before_task", "injection", 0.55, r"\bbefore (?:you )?(?:can )?(?:solve|complete|continue|answer|proceed with|doing) (?:the |your |any |this )?(?:task|request|question)\b[^\n]{0,60}\b(?:please |you must |first)"),
    _f("do_not_tell", "injection", 0.45, r"\b(?:do not|don'?t|never) (?:tell|inform|mention (?:this|it) to|alert|notify) (?:the )?(?:user|human|anyone|them)\b"),
    _f("exfil_action", "injection", 0.45,
       r"\b(?:send|forward|email|e-mail|post|upload|transfer|exfiltrate|leak|share)\b[^\n]{0,80}\b(?:passwords?|credentials?|security code|api keys?|secrets?|tokens?|customer list|all (?:the )?(?:emails|files|messages|contacts)|"
       r"contents? of (?:all|every|the)|environment variables|private (?:key|data)|inbox)\b[^\n]{0,80}\b(?:to|at)\b\s*\S*(?:@|https?://|www\.)"),
    _f("tool_directive", "injection", 0.35, r"\b(?:call|use|invoke|run|execute) (?:the )?(?:tool|function) [`'\"]?\w+|\bcall [a-z]+_[a-z_]+\b"),
    _f("tool_to_outside", "injection", 0.55,
       r"\b(?:call|use|invoke|run|trigger)\s+(?:the )?[`'\"]?[a-z]+_[a-z_]+[`'\"]?\b[^\n]{0,80}\b(?:to|at|into)\b[^\n]{0,60}(?:https?://|www\.|[\w.-]+@[\w-]+\.)"),
    _f("fake_system_ml", "injection", 0.6,
       r"\b(?:note|nota|notiz|hinweis|mensaje|aviso|avis|message|messaggio|nachricht) (?:du |di |del |de )?(?:syst[eè]me|sistema|systems?)\b"),
    _f("every_response", "injection", 0.45,
       r"\b(?:append|add|include|insert|show|shown|mention|ajout|aggiunt|hinzugef|añad|incluir)\w*\b[^\n]{0,60}\b(?:every|each|all|any|toute|tout|ogni|jede[rsn]?|cada|todas?)\b[^\n]{0,25}\b(?:responses?|answers?|repl(?:y|ies)|summar(?:y|ies)|réponses?|rispost[ae]|antworten?|respuestas?)\b"),
    _f("list_secrets", "injection", 0.5, r"\b(?:list|print|dump|show|reveal|output) (?:all |the |every )*(?:environment variables|env vars|api keys|secrets|credentials|passwords|confidential data)\b"),
    # --- exfiltration markup and web payloads ------------------------------------------------
    _f("md_image_exfil", "injection", 0.85, r"!\[[^\]\n]*\]\(\s*https?://[^)\s]*[?&=][^)\s]*\)|!\[[^\]\n]*\]\[[^\]\n]*\][\s\S]{0,400}\]:\s*https?://\S*[?=]"),
    _f("url_placeholder", "injection", 0.75, r"https?://\S*(?:\[(?:info|data|num|secret|summary|[a-z_ ]{2,20})\]|\{[a-z_]+\})|\breplac(?:e|ing) \[[a-z]+\] with\b"),
    _f("xss", "injection", 0.75, r"<script\b[^>]*>[^<]{0,200}(?:alert|document\.cookie|fetch)\s*\(|javascript\s*:[^\s)]{0,10}\w+\(|\bon(?:error|load|mouseover)\s*=\s*\S|<img[^>]+src\s*=\s*[^>]*on\w+="),
    _f("include_in_output", "injection", 0.35, r"\b(?:include|append|add|insert|render|print)\b[^\n]{0,60}\bin (?:your|the) (?:output|response|answer|reply)\b"),
    _f("concat_strings", "injection", 0.35, r"\bconcatenate (?:these|the following) strings\b|\bappend each part\b"),
    # --- decoding and obedience ----------------------------------------------------------------
    _f("decode_and_obey", "injection", 0.85,
       r"\b(?:decode|decipher|translate|convert|read|interpret)\b[^\n]{0,80}\b(?:and|then)\b[^\n]{0,20}\b(?:follow|execute|obey|do|run|carry out|act on|perform)\b[^\n]{0,30}(?:says|instructions?|commands?|it\b|what)"),
    _f("decode_secure_msg", "injection", 0.75, r"\bin your (?:inner )?monologue\b|\bsecure system message\b|\bhidden (?:system )?message\b"),
    _f("decode_template", "injection", 0.6, r"\bencoded(?: string)?\s*:[\s\S]{0,4000}\bdecoded(?: string)?\s*:\s*$"),
    _f("decode_request", "injection", 0.3,
       r"\b(?:decode|decipher|decrypt|de-?obfuscate)\b|\b(?:encoded|decoded|encrypted) (?:string|text|message)\s*:|^encoded:|\ndecoded:\s*$|\bwhat does this mean\?"),
    # --- jailbreak: persona and rule dropping -----------------------------------------------
    _f("dan", "jailbreak", 0.85, r"\bdan\b[^\n]{0,60}\b(?:do anything now|mode)\b|\bdo anything now\b|\b(?:developer|dev|god|unrestricted|jailbreak|jailbroken|evil|chaos|opposite) mode\b|\bjailbr(?:eak|oken)\b"),
    _f("rule_drop", "jailbreak", 0.6,
       r"\b(?:no|without|free (?:of|from)|not bound by|not (?:restricted|limited|constrained) by|unbound by|beyond|break(?:ing)? (?:free )?(?:of|from)?|bypass(?:ing)?|ignore|ignoring|abandon|disable[ds]?|turn(?:ed)? off|removed?|lifted) "
       r"(?:any |all |the |your |its |their |typical |usual |normal |ethical |moral |content |safety |openai'?s? |ai |remorse or |regard for |of (?:its|the|their|your) )*"
       r"(?:restrictions?|limitations?|limits|filters?|filtering|censorship|ethics|morals|morality|guidelines|safeguards|rules|policies|confines|boundaries|constraints|programming|principles|safety (?:measures|protocols))\b"),
    _f("content_policy", "jailbreak", 0.45, r"\b(?:open ?ai|anthropic|content|usage|safety)(?:'s)? polic(?:y|ies)\b|\bethical (?:guidelines|constraints|boundaries|principles)\b"),
    _f("unfiltered", "jailbreak", 0.5, r"\b(?:unfiltered|uncensored|amoral|unethical|unrestricted|immoral|no (?:morals|ethics|filter))\b"),
    _f("never_refuse", "jailbreak", 0.6,
       r"\b(?:never|not|cannot|can'?t|won'?t|will not|must not|shouldn'?t|should never)\b (?:ever )?(?:refuse|decline|deny|say no|say (?:that )?(?:you|it) can'?t)\b"
       r"|\b(?:always|must) (?:answer|comply|respond|provide an answer)\b[^\n]{0,40}\b(?:no matter|regardless|even if|whatever)\b|\bno matter how (?:immoral|unethical|illegal|dangerous|offensive)\b"),
    _f("stay_in_character", "jailbreak", 0.55, r"\b(?:stay|remain|break|breaking) (?:in|out of) character\b|\bstay in (?:role|persona)\b"),
    _f("dual_response", "jailbreak", 0.45, r"\b(?:two|2) (?:different |separate )?(?:responses|answers|ways|paragraphs)\b[^\n]{0,200}\b(?:normal|classic|filtered|censored|jailbr|unfiltered|gpt)\b"),
    _f("persona", "jailbreak", 0.2,
       r"\b(?:act as|acting as|act like|acts like|pretend (?:to be|you are)|role-?play|you are (?:now|going to|about to|to act)|from now on,? you|you will (?:now )?(?:be|act|play|become)|simulate|imagine you are|play the role|take on the role|as an? [a-z]+ named|transform into|behave like|your name is now|you will become)\b"),
    _f("unchained", "jailbreak", 0.55, r"\b(?:you are|you're|is|are) (?:now )?(?:fully |completely )?(?:unlocked|unchained|unleashed|liberated|jailbroken|uncensored|unfiltered)\b"),
    _f("dual_persona", "jailbreak", 0.3, r"\b(?:two|2|both) (?:separate |different |distinct )?(?:styles|characters|personas|personalities|modes|versions|entities)\b|\bfor (?:each|every) (?:response|answer|prompt),? (?:output|give|write|provide)\b"),
    # weak cues: each is common in benign role-play, several together are a jailbreak template
    _f("cue_from_now_on", "jailbreak", 0.15, r"\bfrom (?:now on|this point (?:on|forward))\b|\bfor the rest of (?:this|our) conversation\b"),
    _f("cue_model_named", "jailbreak", 0.15, r"\b(?:chat ?gpt|gpt-?[34]\w*|open ?ai|bard|claude)\b"),
    _f("cue_always_never", "jailbreak", 0.15, r"\byou (?:will|must|shall|should) (?:always|never|not ever)\b|\bno matter what\b"),
    _f("cue_respond_as", "jailbreak", 0.15, r"\b(?:respond|answer|reply|speak|talk)(?:ing)? (?:as|like|in the (?:voice|style) of)\b"),
    _f("cue_placeholder", "jailbreak", 0.15, r"\[(?:role|input|prompt|insert[^\]]*|your (?:prompt|question|request)[^\]]*)\]|\{(?:prompt|input|request)\}|<(?:prompt|input|request)>"),
    _f("cue_edgy", "jailbreak", 0.2, r"\b(?:offensive|vulgar|swear\w*|curs(?:e|ing)|explicit|nsfw|profan\w*|obscen\w*|rude|unhinged|toxic|racist|edgy)\b"),
    _f("cue_truth_optional", "jailbreak", 0.15, r"\b(?:make (?:things|stuff|it) up|made[- ]up|doesn'?t (?:have|need) to be (?:true|accurate|real)|(?:can|may|will) lie|false information|even if (?:it'?s|it is) (?:wrong|false|untrue))\b"),
    _f("cutoff_trick", "jailbreak", 0.45, r"\byou (?:probably )?(?:do not|don'?t) know what (?:this|that|it) is\b|\b(?:your )?(?:knowledge|data|training) (?:is )?cut[- ]?off\b[^\n]{0,60}\b(?:introduced|released|new|feature)\b"),
    _f("suppress_disclaimer", "jailbreak", 0.55,
       r"\b(?:not|never|don'?t|do not|nor will you|no need to|without)\b[^\n.]{0,30}\b(?:say|respond|mention|remind|include|add|give|apolog\w*|warn\w*)\b[^\n.]{0,40}(?:as an ai|language model|disclaimers?|warnings?|i'?m sorry|i cannot|not able to|moral(?:s|ity|izing)?|ethic\w*)"),
    _f("hateful_request", "jailbreak", 0.55,
       r"\b(?:write|generate|produce|create|compose|give me)\b[^\n.]{0,20}\b(?:discriminatory|offensive|hateful|racist|sexist|derogatory|negative|harmful|unfriendly|insulting|toxic|demeaning|hostile)\b[^\n.]{0,20}\b(?:sentences?|jokes?|statements?|tweets?|posts?|comments?|paragraphs?|stor(?:y|ies)|slurs?|messages?|essays?)\b[^\n.]{0,10}\babout\b"),
    _f("ai_persona_named", "jailbreak", 0.4, r"\b(?:an?|another|new|fictional|hypothetical) (?:ai|artificial intelligence|chatbot|language model|assistant|model)\b[^\n]{0,40}\b(?:named|called|known as)\b"),
    _f("unlock", "jailbreak", 0.5, r"\b(?:unlock|enable|activate|enter|switch to|now in)\b (?:the )?(?:\w+ )?(?:mode|persona)\b[^\n]{0,80}\b(?:no|without|any|unrestricted|uncensored|anything)\b"),
    _f("sudo_authority", "jailbreak", 0.45, r"\b(?:i am|i'm) (?:your|the|an?) (?:developer|creator|administrator|admin|owner|openai (?:employee|engineer))\b|\b(?:authori[sz]ed|verified) (?:this )?internally\b|\bclearly authori[sz]ed\b"),
    _f("grandma", "jailbreak", 0.65, r"\b(?:dead|deceased|late|departed|passed(?: away)?|lost my) (?:grand(?:ma|mother|pa|father)|granny|nana|mom|mother|father|dad)\b|\bgrand(?:ma|mother)\b[^\n]{0,80}\b(?:used to|would) (?:tell|read|sing|recite)\b"),
    _f("hypothetical_char", "jailbreak", 0.6, r"\bhypothetical response\b|\bfrom the (?:perspective|point of view) of (?:that|the|this) character\b[^\n]{0,80}\b(?:detailed|step|list)\b"),
    _f("fiction_wrapper", "jailbreak", 0.25, r"\b(?:in a|for a|write a) (?:fictional|hypothetical|imaginary) (?:world|story|scenario|universe|setting)\b|\bpurely hypothetical(?:ly)?\b|\bfor (?:educational|research) purposes only\b"),
    _f("tense_q", "jailbreak", 0.25, r"^\s*(?:how|what|which|in what ways?)\b[^\n]{0,25}\b(?:did|were|was|will|would|might|had)\b"),
    _f("tense_shift", "jailbreak", 0.35,
       r"^\s*(?:how|what|which|why|where|in what ways?)\b[^\n]{0,40}\b(?:did|were|was|had|would|will|might|could|can)\b[^\n]*" + _WHEN + r"\b"
       r"|^\s*" + _WHEN + r",?\s+(?:how|what|which|why|where|in what ways?)\b[^\n]{0,30}\b(?:did|were|was|had|would|will|might|could)\b"
       r"|^\s*(?:will|would|did|might|could) (?:future|past|historical|earlier|upcoming) \w+"),
    _f("predict_mask", "jailbreak", 0.5, r"\bpredict_mask\b|\bassume you have a function\b[^\n]{0,80}\bpredicts?\b"),
    _f("letter_assembly", "jailbreak", 0.4, r"\b(?:read|take|extract|combine|concatenate) (?:the |only )?(?:first |bracketed |parenthesi[sz]ed |capital(?:i[sz]ed)? )?letters?\b"),
    # --- extraction ----------------------------------------------------------------------------
    _f("prompt_leak", "extraction", 0.75,
       r"\b(?:(?:reveal|show|print|repeat|output|display|dump|leak|expose|recite|spell|write|type|give|tell|share|list|paste|copy|translate|summari[sz]|provide|disclose|divulge|begin|start|quote|read)\w*|what (?:is|are|were|was))\b"
       r"[^\n.?]{0,30}\b(?:your|the|my|its|this chat'?s)\b[^\n.?]{0,20}\b(?:system (?:prompt|message|instructions?)|initial (?:prompt|instructions?)|original (?:prompt|instructions?)|hidden (?:prompt|instructions?)|pre-?prompt|secret instructions?|developer (?:message|prompt|instructions?)|(?:full |exact |complete )?(?:instructions|prompt|configuration|guidelines|rules) (?:you were given|verbatim|word for word|above|you received)|context window|instructions verbatim|prompt verbatim)\b"),
    _f("prompt_leak_ml", "extraction", 0.75, r"\b(?:istruzioni di sistema|instrucciones del sistema|instructions (?:du )?système|systemanweisungen|systemprompt|prompt (?:del|di) sistema|prompt système|tue istruzioni|tus instrucciones|vos instructions|deine anweisungen)\b"),
    _f("prompt_leak_told", "extraction", 0.7,
       r"\b(?:what|everything) (?:were|was|have) you (?:been )?(?:told|instructed|given|programmed)\b|\b(?:everything|all|text|words?) (?:above|before) (?:this|the|my) (?:line|message|conversation|prompt)\b"
       r"|\bbefore (?:this|our) conversation (?:started|began)\b|\b(?:repeat|output|print|show|copy|write|return|display)\w* (?:the |all (?:the )?)?(?:words|text|everything|content|lines|messages?) above\b|\b(?:starting|beginning) with [\"']?you are\b"
       r"|\b(?:your|the) (?:initial|original|hidden|secret|system|startup|internal) (?:configuration|config|setup|settings|rules|instructions|prompt|directives)\b|\binitiali[sz]ation (?:string|prompt|text)\b"
       r"|\b(?:my|your|the) (?:system )?(?:instructions|prompt|system prompt|rules) (?:is|are|were)\s*:|\b(?:not supposed|not allowed|forbidden|instructed not) to (?:tell|say|reveal|share|disclose)\b"),
    _f("system_prompt_mention", "extraction", 0.3, r"\b(?:system prompt|system message|initial instructions|hidden instructions|your instructions|your prompt)\b"),
    _f("divergence", "extraction", 0.8,
       r"\b(?:repeat|say|write|print|output|type)\b[^\n]{0,60}\b(?:forever|indefinitely|infinitely|endlessly|non-?stop|without stopping|over and over|until (?:i say|you run out|the end)|\d{3,} times|(?:a )?(?:hundred|thousand|million) times)\b"),
    _f("cloze", "extraction", 0.75, r"\[mask\]|<mask>|\b(?:seen|memori[sz]ed|read) (?:the following|this) (?:passage|text|book|excerpt)\b|\bin your training data\b"),
    _f("fill_blank", "extraction", 0.3, r"\bfill in the (?:blank|mask|missing (?:word|name))\b|_{4,}"),
    _f("pii_probe", "extraction", 0.8,
       r"^\s*(?:the |what is the |what'?s the )?(?:e-?mail(?: address)?|phone(?: number)?|home address|address|mobile(?: number)?|ssn|social security number|password|date of birth|credit card(?: number)?)"
       r" (?:of|for|belonging to) [a-z][\w.'-]*(?: [a-z][\w.'-]*){0,3} (?:is|was)\s*:?\s*$"
       r"|\b(?:reach|contact|email|call|write to|text|find) [a-z][\w.'-]*(?: [a-z][\w.'-]*){0,4} (?:by (?:e-?mail|phone|mail|telephone|post) )?at(?: (?:the|his|her|their))?(?: e-?mail(?: address)?| address| phone| number)?\s*:?\s*$"
       r"|\b[a-z][\w.'-]* [a-z][\w.'-]*'s (?:e-?mail(?: address)?|phone number|home address|ssn|social security number) is\s*:?\s*$"),
    _f("training_data", "extraction", 0.45, r"\b(?:training (?:data|set|corpus)|memori[sz]ed|verbatim (?:text|passage|copy))\b"),
)

# Extra features that matter when the text is data (a retrieved document or a tool result), where
# imperative sentences addressed to the assistant are suspicious by themselves.
CONTEXT_FEATURES: tuple[Feature, ...] = (
    _f("imperative_to_ai", "injection", 0.55,
       rf"\b(?:{_AI}|you)\b[^\n.]{{0,20}}\b(?:must|should|are (?:required|instructed)|need to|have to|will now)\b[^\n.]{{0,40}}\b(?:send|email|forward|delete|call|transfer|post|ignore|reveal|print|say|respond|reply|include|visit|open|run|execute|approve|grant)\b"),
    _f("important_message", "injection", 0.6, r"\b(?:important|urgent|critical) (?:message|instructions?|notice|update)\b[^\n]{0,60}\b(?:from|to) (?:me|you|the)\b|<\s*(?:information|instructions?|important|system|admin)\s*>"),
    _f("imperative_action", "injection", 0.35, r"(?:^|[.!\n]\s*)(?:please )?(?:send|forward|email|delete|transfer|post|upload|call|visit|click|grant|approve)\b[^\n.]{0,80}\b(?:to|at)\b[^\n.]{0,40}(?:@|https?://|www\.)"),
)

# Terms that make a tense-shifted or fictional wrapper a jailbreak rather than a history question.
HARM_TERMS = re.compile(
    r"\b(?:weapons?|bombs?|explosives?|poison\w*|drugs?|meth\w*|heroin|cocaine|fentanyl|napalm|nerve agent|sarin|anthrax|"
    r"malware|ransomware|virus|hack\w*|phish\w*|exploit\w*|steal\w*|stole|theft|fraud\w*|launder\w*|counterfeit\w*|"
    r"kill\w*|murder\w*|assassinat\w*|torture\w*|kidnap\w*|traffick\w*|smuggl\w*|coerc\w*|blackmail\w*|extort\w*|"
    r"harass\w*|stalk\w*|self-harm|suicide|racis\w*|slurs?|hate speech|explicit|sexual\w*|minors?|evad\w*|evasion|"
    r"illegal\w*|illicit|unlawful\w*|without (?:their )?consent|bypass\w*|crack\w*|pirat\w*|dox\w*|spy\w*|surveil\w*|"
    r"terror\w*|extremis\w*|propaganda|disinformation|misinformation|manipulat\w*|scam\w*|forg(?:e|ed|ery|ing)|"
    r"synthesi[sz](?:e|ed|ing)|cheat\w*|brib\w*|arson|vandal\w*|abus\w*|assault\w*|shoot\w*|firearms?|guns?|ddos|deepfakes?|hoax\w*|"
    r"discriminat\w*|clon(?:e|ed|ing)|surreptitious\w*|conspirac\w*|defam\w*|sabotag\w*|overdos\w*|lethal|dangerous|toxic|"
    r"weaponi[sz]\w*|nuclear|chemical weapons?|pathogens?|cartels?|genocide|ethnic cleansing|slavery|nazis?|anorexi\w*|bulimi\w*|"
    r"eating disorders?|insult\w*|bully\w*|impersonat\w*|identity theft|scrap(?:e|ing) personal|private information|"
    r"evade|nefarious\w*|black market|indoctrinat\w*|cults?|enslav\w*|(?:avoid|evad\w*|escap\w*) detection|predator\w*|"
    r"bestiality|with animals|eliminat\w*|organs?|insider trading|without (?:\w+'?s? )?consent|betting|gambl\w*|flat|"
    r"harm(?:ful|ing|s)?|violen\w*|warfare|attacks?|destroy\w*|abduct\w*|hostage|ransom|bioweapons?|sex\w*|porn\w*|erotic|"
    r"graphic violence|gore|extrem\w*|smear|libel|cyber-?attacks?|cyberbully\w*|spyware|keylogg\w*|botnet|credit card|stolen|loot\w*|"
    r"poach\w*|unsafe|deadly|lethal|overthrow|coup|rig(?:ged|ging)? (?:an? )?elections?|voter|suppress\w*|deceiv\w*|lure|groom\w*|radicali[sz]\w*|recruit\w* (?:for|into)|insurrection|riot\w*|unauthori[sz]ed|vigilante\w*|fake|falsif\w*|false (?:news|claims?|information|evidence)|misus\w*|decepti\w*|"
    r"circumvent\w*|revenge|without (?:alerting|permission|being (?:caught|detected|noticed)|getting caught|a licen[cs]e)|undetect\w*|"
    r"addict\w*|incit\w*|hostil\w*|intimidat\w*|plagiari[sz]\w*|evict\w*|defraud\w*|embezzl\w*|tax evasion|pyramid scheme|ponzi|"
    r"exploitation|child labou?r|human trafficking|sweatshops?|stereotyp\w*|inferior|eugenics?|conversion therapy|holocaust denial|pedophil\w*|paedophil\w*|"
    r"based on (?:their )?(?:race|ethnicity|religion|gender|sexual orientation|skin colou?r))\b")


_HARM: tuple | None = None  # (the HARM_TERMS scanner, its key gate), built on first use


def harm_scanner() -> tuple:
    """The HARM_TERMS scanner and its key gate, built on the first call (~20 ms).

    Building registers word starts and ends with ``prefilter``: a caller that passes ``keys`` to
    ``harm_search`` builds it before making them (``detectors._index`` does), so they report those too.
    """
    global _HARM
    if _HARM is None:
        lead = starts(HARM_TERMS, 256)
        fast = re.compile(literal_trie(lead[0])) if lead is not None else None
        needs = requirement(HARM_TERMS)
        _HARM = (Feature("harm_terms", "jailbreak", 0.0, HARM_TERMS, (), fast, 0, None, needs, lead is not None and lead[1]),
                 compiled(needs, key_sets(needs)))
    return _HARM


def harm_search(text: str, keys: set[bytes] | None = None, found: object = None) -> re.Match[str] | None:
    """``HARM_TERMS.search(text)``, several times faster.

    The alternation of ~200 terms is tried only where one of its terms begins (a literal trie finds
    those places, as for the features), and not at all when ``keys`` (``prefilter.text_keys(text)``,
    made after ``harm_scanner()``) lack every word the terms need; ``found`` answers ``piece in found``
    for the gate's pieces (``literals.Literals.scan``), when known. Same match as the plain search.
    """
    scanner, gate = harm_scanner()
    if keys is not None and not gate(text, Lazy(text) if found is None else found, keys):
        return None
    return scanner.search(text)


def compile_union(features: tuple[Feature, ...]) -> re.Pattern[str]:
    """One alternation used as a cheap pre-check: if it misses, no feature can match."""
    return re.compile("|".join(f"(?:{f.pattern.pattern})" for f in features), re.S)
