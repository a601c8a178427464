"""SQLAlchemy 2 models of the assembly store.

One :class:`Assembly` is one deliberation process. Its participants vote on statements; every vote
is kept (history), and the latest vote per (participant, statement) is the one that counts. A
:class:`Panel` records a sortition result: every pool member with selection probability, weight,
and whether they were drawn.

``number`` columns on participants and statements are the small integers Polis uses as
participant and comment ids (``voter-id``, ``comment-id``); they are unique within an assembly and
make Polis import/export lossless.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# Moderation states, with their Polis codes (comments.csv ``moderated``).
ACCEPTED, PENDING, REJECTED = "accepted", "pending", "rejected"
MODERATION_TO_POLIS = {ACCEPTED: 1, PENDING: 0, REJECTED: -1}
POLIS_TO_MODERATION = {v: k for k, v in MODERATION_TO_POLIS.items()}

# Vote values (one name for one thing across the project).
AGREE, DISAGREE, PASS = 1, -1, 0
VOTE_VALUES = (AGREE, DISAGREE, PASS)

# Assembly states.
DRAFT, OPEN, CLOSED = "draft", "open", "closed"


class Assembly(Base):
    __tablename__ = "assembly"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    topic: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    invite_only: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    participants: Mapped[list[Participant]] = relationship(back_populates="assembly")
    statements: Mapped[list[Statement]] = relationship(back_populates="assembly")


class Participant(Base):
    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("assembly_id", "number"),
        UniqueConstraint("assembly_id", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    """Pseudonymous id (random token or the pool id); never a name or e-mail."""
    demographics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(16), default="en")
    consented_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assembly: Mapped[Assembly] = relationship(back_populates="participants")


class Statement(Base):
    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("assembly_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True
    )
    moderation: Mapped[str] = mapped_column(String(16), default=PENDING)
    is_seed: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(16), default="en")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assembly: Mapped[Assembly] = relationship(back_populates="statements")


class Vote(Base):
    """One vote event. All events are kept; the latest per pair counts (see ``queries``)."""

    __tablename__ = "vote"
    __table_args__ = (
        Index("ix_vote_pair", "assembly_id", "participant_id", "statement_id", "id"),
        Index("ix_vote_statement", "statement_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    """Client-chosen idempotency key: a retried request with the same key is stored once."""


class Panel(Base):
    __tablename__ = "panel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int | None] = mapped_column(
        ForeignKey("assembly.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    members: Mapped[list[PanelMember]] = relationship(
        back_populates="panel", cascade="all, delete-orphan"
    )


class PanelMember(Base):
    """A pool member's entry in a panel run: probability of selection, weight, drawn or not."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("panel_id", "person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(64))
    """The pool id of the person (``pool.csv`` ``id``)."""
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True
    )
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)

    panel: Mapped[Panel] = relationship(back_populates="members")
