"""The moral-graph data model: contexts, cases, values cards, edges (upgrade votes), impressions.

Vocabulary follows Democratic Fine-Tuning (Klingefjord, Lowe & Edelman 2024, "What are human values,
and how do we align AI to them?", arXiv:2404.10636):

* a **context** is a situation in which a choice is made ("the user is in distress");
* a **case** is a prompt shown to participants, tagged with the contexts it raises;
* a **values card** (value) says what someone pays attention to when choosing well: a title, a short
  description, and the *attention policies* that define it;
* an **edge** is one participant's judgement on a story of someone moving from value ``from_id`` to
  value ``to_id`` in a context: ``upgrade`` (a gain in wisdom), ``no_upgrade`` or ``not_sure``;
* an **impression** records that a participant was shown a story (answered or not).

Value ids may be ints (as in Democratic Fine-Tuning's JSON) or strings. These are plain frozen
dataclasses; the store's tables for them are :mod:`pluralign.moralgraph.models`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UPGRADE, NO_UPGRADE, NOT_SURE = "upgrade", "no_upgrade", "not_sure"
RELATIONSHIPS = (UPGRADE, NO_UPGRADE, NOT_SURE)

ValueId = int | str


@dataclass(frozen=True)
class Context:
    """A situation in which values apply, e.g. ``"When the user is in distress"``."""

    id: str
    description: str = ""


@dataclass(frozen=True)
class Case:
    """A prompt shown to participants; ``contexts`` are the context ids it raises."""

    id: str
    title: str
    prompt: str
    contexts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValuesCard:
    """A value: title, short description, and the attention policies that define it.

    ``sources`` lists the ids of the cards merged into this one (itself included once merged, see
    :mod:`pluralign.moralgraph.merge`); ``extra`` keeps fields of imported JSON we do not model, so
    that export gives them back.
    """

    id: ValueId
    title: str
    description: str = ""
    policies: tuple[str, ...] = ()
    context: str | None = None
    author: str | None = None
    sources: tuple[ValueId, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def text(self) -> str:
        """The card as one string (for embeddings and prompts)."""
        policies = "; ".join(self.policies)
        return f"{self.title}. {self.description} {policies}".strip()


@dataclass(frozen=True)
class Edge:
    """One participant's answer on a story moving from ``from_id`` to ``to_id`` in ``context``."""

    participant: str
    from_id: ValueId
    to_id: ValueId
    context: str
    relationship: str
    story: str = ""

    def __post_init__(self) -> None:
        if self.relationship not in RELATIONSHIPS:
            raise ValueError(
                f"relationship must be one of {', '.join(RELATIONSHIPS)}, not {self.relationship!r}"
            )
        if self.from_id == self.to_id:
            raise ValueError(f"an edge needs two different values, got {self.from_id!r} twice")


@dataclass(frozen=True)
class Impression:
    """A participant was shown the story ``from_id`` → ``to_id`` in ``context``."""

    participant: str
    from_id: ValueId
    to_id: ValueId
    context: str
