"""What an assembly does with the moral graph in the store, without HTTP: contexts and cases,
submitting cards, picking the next upgrade story, recording answers, summarising.

The web pages and the CLI call these. Next story: among pairs of canonical cards that share a
context and that the participant has not answered in that context, the pair shown least often so
far (impressions); ties and the direction of the story (which card is "from") are decided by a hash
of (participant, pair, context), so a reload shows the same story and participants see different
ones. Democratic Fine-Tuning generates the stories with a language model from hypothesised
upgrades; without one, :func:`story_text` writes a neutral template.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, NotFoundError
from pluralign.moralgraph.models import (
    MoralCase,
    MoralContext,
    MoralEdge,
    MoralImpression,
    ValuesCardRow,
    load_cards,
    load_edges,
    record_edge,
)
from pluralign.moralgraph.summary import GraphSummarySettings, MoralGraph, summarize
from pluralign.moralgraph.types import ValuesCard


def add_context(session: Session, assembly_id: int, key: str, description: str = ""
                ) -> MoralContext:
    key = key.strip()
    if not key:
        raise InputError(N_("a context needs a name"), where="key")
    if session.scalar(select(MoralContext).where(MoralContext.assembly_id == assembly_id,
                                                 MoralContext.key == key)):
        raise InputError(N_("the context %(key)s exists already", key=repr(key)), where="key")
    row = MoralContext(assembly_id=assembly_id, key=key, description=description.strip())
    session.add(row)
    session.flush()
    return row


def get_context(session: Session, assembly_id: int, key: str) -> MoralContext:
    row = session.scalar(select(MoralContext).where(MoralContext.assembly_id == assembly_id,
                                                    MoralContext.key == key))
    if row is None:
        known = session.scalars(select(MoralContext.key).where(
            MoralContext.assembly_id == assembly_id)).all()
        raise NotFoundError(N_("no context %(key)s", key=repr(key)),
                            hint=N_("known: %(keys)s", keys=", ".join(known))
                            if known else N_("known: none"))
    return row


def add_case(session: Session, assembly_id: int, key: str, title: str, prompt: str,
             contexts: list[str]) -> MoralCase:
    key = key.strip()
    if not key:
        raise InputError(N_("a case needs a short name"), where="key")
    if not prompt.strip():
        raise InputError(N_("a case needs a prompt"), where="prompt")
    if session.scalar(select(MoralCase).where(MoralCase.assembly_id == assembly_id,
                                              MoralCase.key == key)):
        raise InputError(N_("the case %(key)s exists already", key=repr(key)), where="key")
    rows = [get_context(session, assembly_id, c) for c in contexts]
    case = MoralCase(assembly_id=assembly_id, key=key, title=title.strip() or key,
                     prompt=prompt.strip(), contexts=rows)
    session.add(case)
    session.flush()
    return case


def submit_card(session: Session, assembly_id: int, card: ValuesCard, *,
                participant_id: int | None = None, context_key: str | None = None,
                case_id: int | None = None, dialogue: list | None = None) -> ValuesCardRow:
    """Store a confirmed card (from the chat or the form)."""
    context_id = get_context(session, assembly_id, context_key).id if context_key else None
    row = ValuesCardRow(assembly_id=assembly_id, title=card.title, description=card.description,
                        policies=list(card.policies), context_id=context_id, case_id=case_id,
                        author_id=participant_id, sources=[], dialogue=list(dialogue or []))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Story:
    """One upgrade story to show: moving from card ``from_card`` to ``to_card`` in a context."""

    context_id: int
    context: str
    from_card: ValuesCard
    to_card: ValuesCard
    text: str


def story_text(context: str, a: ValuesCard, b: ValuesCard) -> str:
    return (f"{context}: someone used to focus on “{a.title}” — {a.description} "
            f"Then they came to focus on “{b.title}” — {b.description}")


def _hash(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def next_story(session: Session, assembly_id: int, participant_id: int, *,
               record: bool = True) -> Story | None:
    """The next story for a participant (``None`` when they have answered every pair)."""
    cards = load_cards(session, assembly_id)
    by_context: dict[str, list[ValuesCard]] = {}
    for c in cards:
        if c.context is not None:
            by_context.setdefault(c.context, []).append(c)
    contexts = {c.key: c for c in session.scalars(
        select(MoralContext).where(MoralContext.assembly_id == assembly_id))}
    answered = {(min(f, t), max(f, t), ctx) for f, t, ctx in session.execute(
        select(MoralEdge.from_id, MoralEdge.to_id, MoralEdge.context_id).where(
            MoralEdge.participant_id == participant_id)).all()}
    shown = {}
    for f, t, ctx, n in session.execute(
            select(MoralImpression.from_id, MoralImpression.to_id, MoralImpression.context_id,
                   func.count()).where(MoralImpression.assembly_id == assembly_id)
            .group_by(MoralImpression.from_id, MoralImpression.to_id,
                      MoralImpression.context_id)).all():
        key = (min(f, t), max(f, t), ctx)
        shown[key] = shown.get(key, 0) + n
    best = None
    for key, group in by_context.items():
        ctx = contexts[key]
        for a, b in combinations(sorted(group, key=lambda c: c.id), 2):
            pair = (a.id, b.id, ctx.id)
            if pair in answered:
                continue
            rank = (shown.get(pair, 0), _hash(participant_id, *pair))
            if best is None or rank < best[0]:
                best = (rank, ctx, a, b)
    if best is None:
        return None
    _, ctx, a, b = best
    if _hash("direction", participant_id, a.id, b.id, ctx.id) % 2:
        a, b = b, a
    if record:
        session.add(MoralImpression(assembly_id=assembly_id, participant_id=participant_id,
                                    from_id=a.id, to_id=b.id, context_id=ctx.id))
        session.flush()
    label = ctx.description or ctx.key
    return Story(context_id=ctx.id, context=ctx.key, from_card=a, to_card=b,
                 text=story_text(label, a, b))


def answer_story(session: Session, assembly_id: int, participant_id: int, from_id: int,
                 to_id: int, context_id: int, relationship: str, story: str = "") -> MoralEdge:
    """Record a participant's answer (a later answer on the same story replaces it).

    The context and both cards must belong to the assembly, and both cards to that context.
    ``story`` is the text the participant judged; empty: the text written from the cards
    (:func:`story_text`), which is what the web pages store (never a text sent by a browser).
    """
    context = session.get(MoralContext, context_id)
    if context is None or context.assembly_id != assembly_id:
        raise NotFoundError(N_("no context %(key)s", key=repr(context_id)),
                            hint=N_("reload the page"))
    cards = {r.id: r for r in session.scalars(select(ValuesCardRow).where(
        ValuesCardRow.assembly_id == assembly_id, ValuesCardRow.id.in_([from_id, to_id])))}
    if set(cards) != {from_id, to_id}:
        raise NotFoundError(N_("values card %(a)s or %(b)s is not in this assembly",
                               a=from_id, b=to_id))
    from pluralign.moralgraph.types import RELATIONSHIPS

    if relationship not in RELATIONSHIPS:  # the same words as record_edge's ValueError
        raise InputError(N_("relationship must be one of %(choices)s, not %(value)s",
                            choices=str(RELATIONSHIPS), value=repr(relationship)),
                         where="relationship")
    if from_id == to_id:
        raise InputError(N_("an edge needs two different values"), where="relationship")
    if any(c.context_id != context_id for c in cards.values()):
        raise InputError(N_("these values cards are not both about this context"),
                         where="context_id", hint=N_("reload the page"))
    if not story:
        story = story_text(context.description or context.key, cards[from_id], cards[to_id])
    try:
        return record_edge(session, assembly_id=assembly_id, participant_id=participant_id,
                           from_id=from_id, to_id=to_id, context_id=context_id,
                           relationship=relationship, story=story)
    except ValueError as exc:
        raise InputError(str(exc), where="relationship") from exc


def was_shown(session: Session, participant_id: int, from_id: int, to_id: int,
              context_id: int) -> bool:
    """True when this story (either direction) was shown to the participant."""
    pair = {from_id, to_id}
    return session.scalar(select(func.count()).select_from(MoralImpression).where(
        MoralImpression.participant_id == participant_id,
        MoralImpression.context_id == context_id,
        MoralImpression.from_id.in_(pair), MoralImpression.to_id.in_(pair))) > 0


def forget_participant(session: Session, participant_id: int) -> int:
    """Delete what a withdrawing participant wrote in the moral graph: their values cards (with
    the chat that led to them; edges and impressions about those cards go with them) and their
    own judgments (edges, impressions: deleted with the participant row). Other cards that list
    a deleted card among their merged ``sources`` stop listing it. Returns the cards deleted."""
    ids = set(session.scalars(select(ValuesCardRow.id).where(
        ValuesCardRow.author_id == participant_id)))
    if not ids:
        return 0
    for row in session.scalars(select(ValuesCardRow).where(
            ValuesCardRow.id.not_in(ids), ValuesCardRow.canonical_id.in_(ids))):
        row.canonical_id = None  # its canonical card goes: it stands for itself again
    for row in session.scalars(select(ValuesCardRow).where(ValuesCardRow.id.in_(
            select(ValuesCardRow.canonical_id).where(ValuesCardRow.id.in_(ids))))):
        row.sources = [s for s in (row.sources or []) if s not in ids]
    session.execute(delete(MoralEdge).where(
        (MoralEdge.from_id.in_(ids)) | (MoralEdge.to_id.in_(ids))))
    session.execute(delete(MoralImpression).where(
        (MoralImpression.from_id.in_(ids)) | (MoralImpression.to_id.in_(ids))))
    session.execute(delete(ValuesCardRow).where(ValuesCardRow.id.in_(ids)))
    return len(ids)


def assembly_graph(session: Session, assembly_id: int,
                   config: GraphSummarySettings | None = None) -> MoralGraph:
    """The assembly's moral graph from its stored votes and canonical cards."""
    return summarize(load_edges(session, assembly_id), load_cards(session, assembly_id), config)


def merge_duplicates(session: Session, assembly_id: int, threshold: float | None = None, *,
                     within_context: bool = True, embed=None) -> dict[int, int]:
    """Merge the assembly's near-duplicate canonical cards (see
    :mod:`pluralign.moralgraph.merge`): a merged card keeps its row with ``canonical_id`` set,
    the canonical card's ``sources`` lists every merged id. Returns merged id → canonical id."""
    from pluralign.moralgraph.merge import DEFAULT_THRESHOLD, embed_cards, merge_cards

    cards = load_cards(session, assembly_id)
    result = merge_cards(cards, DEFAULT_THRESHOLD if threshold is None else threshold,
                         within_context=within_context, embed=embed or embed_cards)
    merged = {old: new for old, new in result.canonical.items() if old != new}
    if not merged:
        return {}
    rows = {r.id: r for r in session.scalars(select(ValuesCardRow).where(
        ValuesCardRow.id.in_(set(merged) | set(merged.values()))))}
    for card in result.cards:
        if card.id in rows and len(card.sources) > 1:
            rows[card.id].sources = list(card.sources)
    for old, new in merged.items():
        rows[old].canonical_id = new
    session.flush()
    return merged
