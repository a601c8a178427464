"""Store tables of the moral graph: contexts, cases, values cards, edges (votes), impressions.

Created by migration ``0003_moral_graph``. Every row belongs to an assembly.
A values card merged into another keeps its row; ``canonical_id`` points to the card that now
stands for it, and the canonical card's ``sources`` lists every merged id (both sources kept).
One participant answers a story (from → to in a context) once: a new answer replaces the old one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from pluralign.store.models import Base, utcnow

case_context = Table(
    "moral_case_context",
    Base.metadata,
    Column("case_id", ForeignKey("moral_case.id", ondelete="CASCADE"), primary_key=True),
    Column("context_id", ForeignKey("moral_context.id", ondelete="CASCADE"), primary_key=True),
)


class MoralContext(Base):
    __tablename__ = "moral_context"
    __table_args__ = (UniqueConstraint("assembly_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    """The context's text or slug, as used in edge files (``context``)."""
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MoralCase(Base):
    __tablename__ = "moral_case"
    __table_args__ = (UniqueConstraint("assembly_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    contexts: Mapped[list[MoralContext]] = relationship(secondary=case_context)


class ValuesCardRow(Base):
    __tablename__ = "values_card"
    __table_args__ = (Index("ix_values_card_assembly", "assembly_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    policies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("moral_context.id", ondelete="SET NULL"), nullable=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("moral_case.id", ondelete="SET NULL"), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True)
    canonical_id: Mapped[int | None] = mapped_column(
        ForeignKey("values_card.id", ondelete="SET NULL"), nullable=True)
    """Set when this card was merged into another (near-duplicate)."""
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Ids of the cards merged into this one."""
    dialogue: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """The articulation chat (role/content messages), empty when written in the form."""
    language: Mapped[str] = mapped_column(String(16), default="en")
    """Language the card was written in (the author's page language; migration ``0005``)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MoralEdge(Base):
    """One participant's answer: moving from value ``from_id`` to ``to_id`` in a context."""

    __tablename__ = "moral_edge"
    __table_args__ = (
        UniqueConstraint("participant_id", "from_id", "to_id", "context_id"),
        Index("ix_moral_edge_assembly", "assembly_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    from_id: Mapped[int] = mapped_column(ForeignKey("values_card.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("values_card.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("moral_context.id", ondelete="CASCADE"))
    relationship: Mapped[str] = mapped_column(String(16))
    story: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MoralImpression(Base):
    """A participant was shown a story (whether or not they answered)."""

    __tablename__ = "moral_impression"
    __table_args__ = (Index("ix_moral_impression_assembly", "assembly_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    from_id: Mapped[int] = mapped_column(ForeignKey("values_card.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("values_card.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("moral_context.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def record_edge(session: Session, *, assembly_id: int, participant_id: int, from_id: int,
                to_id: int, context_id: int, relationship: str, story: str = "") -> MoralEdge:
    """Store an answer; a participant's new answer on the same story replaces the old one."""
    from pluralign.moralgraph.types import RELATIONSHIPS

    if relationship not in RELATIONSHIPS:
        raise ValueError(f"relationship must be one of {RELATIONSHIPS}, not {relationship!r}")
    if from_id == to_id:
        raise ValueError("an edge needs two different values")
    row = session.scalar(select(MoralEdge).where(
        MoralEdge.participant_id == participant_id, MoralEdge.from_id == from_id,
        MoralEdge.to_id == to_id, MoralEdge.context_id == context_id))
    if row is None:
        row = MoralEdge(assembly_id=assembly_id, participant_id=participant_id, from_id=from_id,
                        to_id=to_id, context_id=context_id)
        session.add(row)
    row.relationship, row.story, row.created_at = relationship, story, utcnow()
    session.flush()
    return row


def load_edges(session: Session, assembly_id: int):
    """The assembly's edges as the frame :func:`pluralign.moralgraph.summary.summarize` takes.

    Merged cards count as their canonical card; edges that merging turned into self-loops drop.
    """
    import pandas as pd

    from pluralign.store.models import Participant

    canon = dict(session.execute(
        select(ValuesCardRow.id, ValuesCardRow.canonical_id)
        .where(ValuesCardRow.assembly_id == assembly_id, ValuesCardRow.canonical_id.is_not(None))
    ).all())
    rows = session.execute(
        select(Participant.key, MoralEdge.from_id, MoralEdge.to_id, MoralContext.key,
               MoralEdge.relationship, MoralEdge.story)
        .join(Participant, Participant.id == MoralEdge.participant_id)
        .join(MoralContext, MoralContext.id == MoralEdge.context_id)
        .where(MoralEdge.assembly_id == assembly_id).order_by(MoralEdge.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["participant", "from_id", "to_id", "context",
                                        "relationship", "story"])
    for col in ("from_id", "to_id"):
        frame[col] = frame[col].map(lambda v: canon.get(v, v)).astype(object)
    return frame[frame["from_id"] != frame["to_id"]].reset_index(drop=True)


def load_cards(session: Session, assembly_id: int, *, canonical_only: bool = True):
    """The assembly's values cards as :class:`~pluralign.moralgraph.types.ValuesCard`."""
    from pluralign.moralgraph.types import ValuesCard

    query = select(ValuesCardRow, MoralContext.key).outerjoin(
        MoralContext, MoralContext.id == ValuesCardRow.context_id
    ).where(ValuesCardRow.assembly_id == assembly_id).order_by(ValuesCardRow.id)
    if canonical_only:
        query = query.where(ValuesCardRow.canonical_id.is_(None))
    return [ValuesCard(id=r.id, title=r.title, description=r.description,
                       policies=tuple(r.policies), context=ctx, author=None,
                       sources=tuple(r.sources))
            for r, ctx in session.execute(query).all()]
