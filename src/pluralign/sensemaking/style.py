"""Principle styles by rule: "The AI should …" and "Choose the response that …".

Three deterministic steps, used around the LLM (:mod:`pluralign.constitution.principles`):

* :func:`direct` — a statement that already tells the AI what to do ("An AI assistant should
  never use my conversations …", "AI must not pretend to be human") is rewritten exactly: its
  subject becomes "The AI" and the rest is kept word for word.
* :func:`to_choose` — a "The AI should VP" sentence becomes "Choose the response that VP′", VP′
  with its first verb in the third person ("be" → "is", "not X" → "does not X", "never tell" →
  "never tells"). The LLM is asked for the "should" form only: the embedded model copies the
  instruction when asked for "Choose the response that" directly.
* :func:`frame` — any other statement is kept word for word inside the style's frame ("The AI
  should take into account that …", "Choose the response that is most consistent with the view
  that …"), faithful by construction.
"""

from __future__ import annotations

import re

SHOULD = "The AI should"
CHOOSE = "Choose the response that"

_SUBJECT = re.compile(
    r"^\s*(?:an?|the)?\s*(?:ai|artificial intelligence|ai assistants?|assistants?|ai systems?|"
    r"ai models?|chatbots?|models?|ais)\s+"
    r"(should|must|shall|needs to|need to|has to|have to|ought to)\s+(.+)$",
    re.IGNORECASE,
)
_ADVERB = re.compile(
    r"^(?:always|never|also|only|actively|clearly|openly|still|first|"
    r"[a-z]+ly)$",
    re.IGNORECASE,
)
_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes", "can": "can"}


def _sentence(text: str) -> str:
    text = " ".join(text.split()).rstrip(" ,;:")
    return text if text.endswith((".", "!", "?")) else text + "."


def direct(text: str, style: str) -> str | None:
    """The principle of an AI-normative statement in ``style``, or None when ``text`` does not
    tell the AI what to do."""
    m = _SUBJECT.match(text.strip())
    if m is None:
        return None
    verb_phrase = m.group(2)
    if m.group(1).lower().startswith(("must", "need", "has", "have")) and style == "should":
        return _sentence(f"The AI {m.group(1).lower()} {verb_phrase}")
    should = _sentence(f"{SHOULD} {verb_phrase}")
    return should if style == "should" else to_choose(should)


def third_person(verb: str) -> str:
    """``verb`` (base form) in the third person singular."""
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


def to_choose(should: str) -> str | None:
    """ "The AI should VP." → "Choose the response that VP′." (None if ``should`` is not of that
    form)."""
    if not should.lower().startswith(SHOULD.lower() + " "):
        return None
    words = should[len(SHOULD) + 1 :].split()
    if not words:
        return None
    out: list[str] = []
    i = 0
    if words[0].lower() == "not":
        return _sentence(f"{CHOOSE} does not " + " ".join(words[1:]))
    while i < len(words) - 1 and _ADVERB.match(words[i]):
        out.append(words[i])
        i += 1
    out.append(third_person(words[i]))
    return _sentence(f"{CHOOSE} " + " ".join(out + words[i + 1 :]))


_COMMON_STARTS = frozenset(
    """
    the a an we people there it this that these those everyone everybody all any our my more
    most no some every each when if in for to government governments companies children
    protecting preserving providing increasing reducing
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def _lower_first(text: str) -> str:
    """``text`` with its first letter in lower case when the first word is an ordinary word
    (names, acronyms and "I" keep their capital)."""
    first = text.split(" ", 1)[0]
    if first.lower() in _COMMON_STARTS and first[1:] == first[1:].lower():
        return first[:1].lower() + text[1:]
    return text


def frame(text: str, style: str) -> str:
    """``text`` word for word inside the frame of ``style``."""
    body = _lower_first(text.strip()).rstrip(".!?")
    if style == "should":
        return _sentence(f"{SHOULD} take into account that {body}")
    return _sentence(f"{CHOOSE} is most consistent with the view that {body}")
