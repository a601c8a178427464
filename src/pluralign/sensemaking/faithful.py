"""Is a principle faithful to the statements behind it? Rules, embeddings and an LLM check.

A principle is **flagged for review** (:class:`Flag`) when it

* ``added_claim`` — says something its sources do not: content words none of the sources use
  (after stemming; the style's own words such as "Choose the response that" do not count) that
  are not a close paraphrase (sentence-embedding cosine to the sources below
  :attr:`FaithfulnessRules.paraphrase_similarity`), a number no source gives, a meaning that
  drifted (cosine below :attr:`FaithfulnessRules.min_similarity`), or content words the LLM
  entailment check says the sources do not support;
* ``lost_negation`` — drops a negation every source has, or negates what no source negates
  ("should not" → "should"; a paraphrase with "avoid", "refuse", "ban" ... keeps it);
* ``lost_qualifier`` — drops a qualifier or number most sources share ("only", "all",
  "unless", "when", "at least", "20 %", ...; the classes of
  :data:`~pluralign.sensemaking.wording.QUALIFIER_CLASSES`);
* ``dropped_claim`` — leaves out what its sources say: it keeps fewer than
  :attr:`FaithfulnessRules.min_kept` (two thirds) of the content words most of its sources use
  (stemmed; at least :attr:`FaithfulnessRules.min_content` of them), unless the embedding says
  it is a close paraphrase. "Thoughtfully structured access to Land Bank lands is compatible
  with preserving the natural habitat" worded as "… considers and preserve the natural habitat
  of the Land Bank" keeps 5 of 9 and loses the claim about access;
* ``merged_disagreement`` — stands for statements that disagree with each other (found from the
  votes, see :func:`pluralign.constitution.principles.merged_disagreement`).

The rules are deterministic and need no model; the embedding check needs sentence vectors (any
of :mod:`pluralign.models.embed`); the entailment check needs an LLM and is recorded as
one more signal, never the only one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pluralign.sensemaking import wording as W

KINDS = {
    "added_claim": "adds a claim its statements do not make",
    "lost_negation": "loses or adds a negation",
    "lost_qualifier": "loses a qualifier or number",
    "dropped_claim": "leaves out what its statements say",
    "merged_disagreement": "merges statements that disagree",
}
"""Every flag kind and what it means (constitution.md shows the text)."""


@dataclass(frozen=True)
class Flag:
    """One reason to review a principle: its kind (:data:`KINDS`), what exactly, and which
    check found it (``rule``, ``embedding``, ``llm`` or ``votes``)."""

    kind: str
    detail: str
    by: str = "rule"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail, "by": self.by}

    @classmethod
    def from_dict(cls, data: dict) -> Flag:
        return cls(str(data["kind"]), str(data.get("detail", "")), str(data.get("by", "rule")))


@dataclass(frozen=True)
class FaithfulnessRules:
    """Thresholds of :func:`check_principle`."""

    min_similarity: float = 0.55
    """Cosine (MiniLM) between a principle and its statements' mean below which its meaning has
    drifted, whatever its words."""
    paraphrase_similarity: float = 0.80
    """Cosine at or above which new content words are taken as a paraphrase, not a new claim."""
    max_new_words: int = 1
    """New content words tolerated below the paraphrase similarity (a synonym or two)."""
    min_kept: float = 2 / 3
    """Share of the content words most sources use that a principle must keep, below the
    paraphrase similarity."""
    min_content: int = 3
    """Fewest such content words for the share to be judged (a share of 1 or 2 words says
    little)."""


STYLE_WORDS = frozenset(W.content("Choose the response that The AI should assistant model"))


def _majority(items: Sequence[frozenset[str]]) -> set[str]:
    """Elements present in more than half of ``items`` (all of them for one or two)."""
    if not items:
        return set()
    need = len(items) if len(items) <= 2 else len(items) // 2 + 1
    counts: dict[str, int] = {}
    for s in items:
        for x in s:
            counts[x] = counts.get(x, 0) + 1
    return {x for x, n in counts.items() if n >= need}


def _words(stems: set[str], sources: Sequence[str]) -> list[str]:
    """The sources' words behind ``stems``, in the order the first source using each says it."""
    out: list[str] = []
    for s in sources:
        for t in W.tokens(s):
            new = t.lower() not in out and all(W.stem(o) != W.stem(t) for o in out)
            if W.stem(t) in stems and new and len(out) < len(stems):
                out.append(t.lower())
    return out


def new_content(text: str, sources: Sequence[str]) -> set[str]:
    """Content stems of ``text`` that none of ``sources`` uses (style words excluded)."""
    have: set[str] = set()
    for s in sources:
        have |= W.content(s)
    return set(W.content(text)) - have - STYLE_WORDS


def check_principle(
    text: str,
    sources: Sequence[str],
    *,
    similarity: float | None = None,
    entailed: bool | None = None,
    rules: FaithfulnessRules | None = None,
) -> tuple[Flag, ...]:
    """The flags of principle ``text`` against its source statements (cleaned wording, the
    best-supported first). ``similarity`` is the cosine between the principle and its sources
    (None: not measured); ``entailed`` the LLM's verdict that the sources say everything the
    principle says (None: not asked)."""
    rules = rules or FaithfulnessRules()
    flags: list[Flag] = []
    text = W.strip_opening(text)
    sources = [W.strip_opening(s) for s in sources if s.strip()]
    if not sources:
        return ()
    # negation: every source negates → the principle must; no source does → it must not
    # (counted with negative verbs on both sides: "not … ban" keeps two, "avoids" replaces "not")
    required = min(W.negation_count(s) for s in sources)
    if required and W.negative_count(text) < min(W.negative_count(s) for s in sources):
        flags.append(
            Flag(
                "lost_negation",
                "the statements negate ('not', 'never', 'no' ...); the principle does not",
            )
        )
    elif max(W.negative_count(s) for s in sources) == 0 and W.negation_count(text):
        words = sorted({t for t in W.tokens(text) if t in W.NEGATIONS})
        flags.append(
            Flag(
                "lost_negation", f"adds a negation ({', '.join(words)}) none of the statements has"
            )
        )
    # qualifiers and numbers most sources share
    lost = sorted(_majority([W.qualifiers(s) for s in sources]) - W.qualifiers(text))
    if lost:
        shown = [
            f"{name} ({'/'.join(W.qualifier_words(sources[0], name) or [name])})" for name in lost
        ]
        flags.append(Flag("lost_qualifier", "drops " + ", ".join(shown)))
    numbers = sorted(_majority([W.numbers(s) for s in sources]) - W.numbers(text))
    if numbers:
        flags.append(Flag("lost_qualifier", "drops the number(s) " + ", ".join(numbers)))
    # dropped content: what most of the statements say, mostly gone from the principle
    shared = _majority([W.content(s) for s in sources])
    if len(shared) >= rules.min_content and (
        similarity is None or similarity < rules.paraphrase_similarity
    ):
        kept = shared & W.content(text)
        if len(kept) < rules.min_kept * len(shared):
            flags.append(
                Flag(
                    "dropped_claim",
                    f"keeps {len(kept)} of the {len(shared)} content words its statements use; "
                    "leaves out " + ", ".join(_words(shared - kept, sources)),
                    by="rule" if similarity is None else "embedding",
                )
            )
    # added content
    extra_numbers = sorted(W.numbers(text) - set().union(*(W.numbers(s) for s in sources)))
    if extra_numbers:
        flags.append(Flag("added_claim", "adds the number(s) " + ", ".join(extra_numbers)))
    new = sorted(new_content(text, sources))
    if similarity is not None and similarity < rules.min_similarity:
        flags.append(
            Flag(
                "added_claim",
                f"its meaning drifts from the statements (cosine "
                f"{similarity:.2f} < {rules.min_similarity:.2f})",
                by="embedding",
            )
        )
    elif new and (similarity is None or similarity < rules.paraphrase_similarity):
        if len(new) > rules.max_new_words:
            flags.append(
                Flag(
                    "added_claim",
                    "new content: " + ", ".join(new),
                    by="rule" if similarity is None else "embedding",
                )
            )
        elif entailed is False:
            flags.append(
                Flag(
                    "added_claim",
                    "new content the LLM finds unsupported: " + ", ".join(new),
                    by="llm",
                )
            )
    return tuple(flags)
