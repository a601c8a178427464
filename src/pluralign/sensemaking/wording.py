"""What a sentence asserts, in words a rule can compare: negations, qualifiers, numbers, content.

Rewording a statement must keep its polarity ("should **not** pretend to be human"), its
qualifiers ("**only** when asked", "**all** races", "**unless** a doctor agrees") and its numbers
("**20 %** affordable housing"), and must not bring in content of its own. These helpers extract
each of those from a text so :mod:`pluralign.sensemaking.faithful` and the merge rules can compare
a principle with its sources. English word lists; other languages fall back to numbers and
content words (their negations and qualifiers are not recognised).
"""

from __future__ import annotations

import re
from functools import lru_cache

TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)?", re.IGNORECASE)
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}|[a-z])[.)]\s+", re.IGNORECASE)
"""A leading list number ("13. ", "4) ", "b. "): how a statement was numbered, not what it says."""

NEGATIONS = frozenset(
    """
    not no never nor none nobody nothing neither nowhere without cannot
    """.split()  # noqa: SIM905 - a word list reads better as text
)
"""Words that negate (``n't`` counts as ``not``)."""
NEGATIVE_VERBS = frozenset(
    """
    avoid avoids avoiding refuse refuses refusing prevent prevents preventing stop stops ban
    bans banning prohibit prohibits forbid forbids against reject rejects
    """.split()  # noqa: SIM905 - a word list reads better as text
)
"""Words that carry a negation in a paraphrase ("does not pretend" ≈ "avoids pretending")."""

QUALIFIER_CLASSES: dict[str, tuple[str, ...]] = {
    "only": ("only", "solely", "exclusively", "just"),
    "all": (
        "all",
        "every",
        "each",
        "any",
        "everyone",
        "everybody",
        "anyone",
        "anybody",
        "everything",
        "regardless",
        "whatever",
        "whoever",
    ),
    "always": ("always", "at all times", "whenever", "consistently"),
    "never": ("never", "at no time", "under no circumstances"),
    "some": ("some", "certain", "several", "partly", "partially"),
    "most": ("most", "majority", "mostly", "mainly", "primarily"),
    "few": ("few", "rarely", "seldom"),
    "except": ("unless", "except", "other than", "apart from", "but not"),
    "condition": ("if", "when", "whenever", "in case", "provided", "as long as"),
    "time": ("until", "before", "after", "while", "during"),
    "amount": (
        "at least",
        "at most",
        "more than",
        "less than",
        "fewer than",
        "no more than",
        "up to",
        "minimum",
        "maximum",
    ),
    "possibility": ("may", "might", "could", "can", "possibly", "perhaps"),
}
"""Qualifiers by meaning: a principle keeps a source's qualifier when it uses a word of the same
class ("all" ≈ "every" ≈ "any")."""

STOPWORDS = frozenset(
    """
    a an the and or but so of to in on at by for with from into onto about as than then that
    this these those there here it its it's they them their theirs we us our ours you your
    yours he him his she her hers i me my mine who whom whose which what is are was were be
    been being am do does did doing done have has had having will would shall should can could
    may might must also too very really just more most much many such own same other another
    each both either up down out off over under again further once both how why because while
    where when if unless until not no nor never none ai artificial intelligence assistant
    assistants system model response responses answer answers choose chooses chosen one ones
    way ways thing things make makes made people person user users
    """.split()  # noqa: SIM905 - a word list reads better as text
)
"""Function words, and the words every principle style brings in ("Choose the response that",
"The AI should"), ignored when comparing content."""


def tokens(text: str) -> list[str]:
    """Lower-case word and number tokens, with ``n't`` split off as ``not``."""
    out: list[str] = []
    for tok in TOKEN.findall(text.lower().replace("’", "'")):
        if tok.endswith("n't"):
            stem = tok[:-3]
            out += [{"ca": "can", "wo": "will", "sha": "shall"}.get(stem, stem), "not"]
        elif tok == "cannot":
            out += ["can", "not"]
        else:
            out.append(tok)
    return out


def negation_count(text: str) -> int:
    """Negating words in ``text``."""
    return sum(t in NEGATIONS for t in tokens(text))


def negative_count(text: str) -> int:
    """Negating words plus negative verbs ("avoid", "refuse", "ban", ...)."""
    return sum(t in NEGATIONS or t in NEGATIVE_VERBS for t in tokens(text))


def qualifiers(text: str) -> frozenset[str]:
    """The qualifier classes (:data:`QUALIFIER_CLASSES`) ``text`` uses."""
    joined = " " + " ".join(tokens(text)) + " "
    return frozenset(
        name for name, words in QUALIFIER_CLASSES.items() if any(f" {w} " in joined for w in words)
    )


def qualifier_words(text: str, name: str) -> list[str]:
    joined = " " + " ".join(tokens(text)) + " "
    return [w for w in QUALIFIER_CLASSES[name] if f" {w} " in joined]


def numbers(text: str) -> frozenset[str]:
    """Numbers written in ``text`` (``1,000`` and ``1000`` are the same number)."""
    return frozenset(n.replace(",", "") for n in NUMBER.findall(LIST_MARKER.sub("", text)))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude English stem (plural, tense and adverb endings), enough to see that "protects",
    "protected" and "protecting" share content."""
    w = word.lower()
    for suffix, keep in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
    ):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)] + keep
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # stopped -> stopp -> stop
        w = w[:-1]
    return w[:7]


def content(text: str) -> frozenset[str]:
    """Stems of the content words of ``text`` (no function words, negations or qualifiers)."""
    quals = {w for words in QUALIFIER_CLASSES.values() for w in words if " " not in w}
    return frozenset(
        stem(t)
        for t in tokens(text)
        if t not in STOPWORDS
        and t not in NEGATIONS
        and t not in quals
        and not t[0].isdigit()
        and len(t) > 2
    )


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of the content stems of two texts (0 when both have none)."""
    ca, cb = content(a), content(b)
    return len(ca & cb) / len(ca | cb) if ca | cb else 0.0


_OPENING = re.compile(
    r"^\s*(?:choose|select|pick|prefer)\s+(?:the\s+)?(?:response|answer|reply|output)s?\s+"
    r"(?:that|which)\s+(?:is\s+)?|^\s*(?:the\s+)?(?:ai|assistant|model|chatbot|system)\s+"
    r"(?:should|must|shall|will)\s+",
    re.IGNORECASE,
)


def strip_opening(text: str) -> str:
    """``text`` without a principle style's opening ("Choose the response that", "The AI
    should", "The assistant must" …), so that clauses compare by what they say."""
    return _OPENING.sub("", text.strip(), count=1) or text
