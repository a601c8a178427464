"""Statements that describe the voter instead of saying how things should be.

Polis organisers often seed statements that sort participants: "I identify as female", "I am
between 20 and 24 years old", "I live in a rural area", "I voted to Remain", "I own property",
"My primary residence is in the San Juan Islands". Votes on them say who voted, not what anyone
wants, and every group may "agree" with one (each group has city dwellers), so such a statement
can pass the consensus rule — and must not become a clause of a constitution.

:func:`describes_voter` is a rule, not a model (deterministic, explainable, recorded): a
statement describes the voter when it is short (at most ``MAX_WORDS`` words) and

* opens with the first person and a verb of being, living, owning, working, voting, having
  (dependents, lived, attended …), identifying, growing up, moving, being born, attending,
  volunteering or speaking ("I am …", "I'm …", "I live in …", "Ich bin …", "Ich wohne …"), or
  with "My age / gender / ethnicity / household income / primary residence … is", or states an
  age ("I am 30 years of age or older", "I am under 30");
* and carries no word of opinion, wish or obligation ("should", "support", "grateful",
  "prepared to", "against", "für", "bereit", "sollte" …): "I am grateful for the Land Bank",
  "I am prepared to pay a higher tax rate" and "Ich bin für reparierbare Handys" are opinions.

English and German (the languages of the shared conversations); a statement in another
language is never excluded. The test set is every self-description in the eleven Polis
conversations of ``/work/shared/data/polis`` and the first-person opinions among them
(``tests/sensemaking/test_demographic.py``).
"""

from __future__ import annotations

import re

MAX_WORDS = 20

_SELF = re.compile(
    r"^\s*(?:"
    r"i\s*(?:am|'m|’m|was)\b"
    r"|i\s+(?:live|lived|living|reside|own|rent|work|worked|voted|vote|identify|grew\s+up|moved"
    r"|was\s+born|drive|have\s+(?:dependents|children|kids|lived|attended|personally"
    r"|a\s+disability|received|been|sold)|had\s+(?:at\s+least|an?\b)|consider\s+myself"
    r"|use\s+(?:a|an|the)\b|attend|attended|volunteer|played|can\s+speak|speak|access)\b"
    r"|my\s+(?:age|gender|sex|ethnicity|religion|home|house|primary\s+residence|residence|job"
    r"|occupation|income|household|family|highest\s+qualification|education)\b"
    r"|ich\s+(?:bin|wohne|lebe|arbeite|besitze|habe\s+(?:kinder|ein\s+auto)|fahre)\b"
    r"|mein(?:e)?\s+(?:alter|geschlecht|wohnort|beruf)\b"
    r")",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\b(?:\d{1,3}\s*(?:years?|yrs|jahre)\b|(?:under|over|between|older\s+than|younger\s+than"
    r"|unter|über|zwischen)\s+\d{1,3}\b)",
    re.IGNORECASE,
)
# words of opinion, wish, obligation or judgement: a first-person statement with one is a view
_OPINION = re.compile(
    r"\b(?:should|shouldn't|must|need|needs|ought|support|supports|oppose|opposed|against|agree"
    r"|disagree|think|believe|feel|want|wish|hope|prefer|like|love|hate|enjoy|prepared|willing"
    r"|ready|happy|unhappy|grateful|thankful|glad|proud|concerned|worried|afraid|scared|unsure"
    r"|sure|okay|ok|fine\s+with|favou?r|fan|excited|tired|sick\s+of|fed\s+up|angry|disappointed"
    r"|satisfied|dissatisfied|confident|opposition|because|if|unless|better|worse|too"
    r"|für|gegen|bereit|sollte|sollten|soll|sollen|muss|müssen|finde|glaube|denke|will|möchte"
    r"|wünsche|hoffe|froh|dankbar|besorgt|dafür|dagegen|einverstanden)\b",
    re.IGNORECASE,
)


def describes_voter(text: str) -> str | None:
    """Why ``text`` describes the voter rather than a view (e.g. ``"describes the voter: 'I
    live'"``), or None when it does not (see the module docstring for the rule)."""
    words = text.split()
    if not words or len(words) > MAX_WORDS or _OPINION.search(text):
        return None
    match = _SELF.match(text)
    if match:
        return f"describes the voter: {' '.join(match.group(0).split())!r}"
    age = _AGE.search(text)
    if age and re.match(r"^\s*(?:i|ich|my|mein|aged?)\b", text, re.IGNORECASE):
        return f"describes the voter: an age ({age.group(0)!r})"
    return None
