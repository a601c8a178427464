"""Store tables of the public evaluation (migration ``0004_public_eval``).

One public evaluation per assembly (:class:`PublicEval`): two models (``model_a``, ``model_b``:
an OpenAI-compatible base URL, a model name and the *name* of the environment variable holding
the API key, never the key), a prompt set (:class:`PublicEvalPrompt`, each with both answers
once generated) and the clauses to judge against (:class:`PublicEvalClause`). A participant sees
one (prompt, clause) item at a time as an :class:`PublicEvalImpression`: the order of the two
answers is drawn per impression (seeded) and stored, so the page never reveals which model
wrote which answer and the choice can be mapped back. One participant rates an item once.

Imports only SQLAlchemy (the store stays usable without the ``[web]`` extra).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pluralign.store.models import Base, utcnow

DRAFT, OPEN, CLOSED = "draft", "open", "closed"
CHOICES = ("a", "b", "neither")


class PublicEval(Base):
    __tablename__ = "public_eval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(
        ForeignKey("assembly.id", ondelete="CASCADE"), unique=True
    )
    model_a: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``{"base_url", "model", "api_key_env"}`` of model A (e.g. the base model)."""
    model_b: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """... of model B (e.g. the tuned model)."""
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``answer_tokens``, provenance of the prompt set and clauses (sha256, source)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicEvalPrompt(Base):
    __tablename__ = "public_eval_prompt"
    __table_args__ = (UniqueConstraint("eval_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    eval_id: Mapped[int] = mapped_column(ForeignKey("public_eval.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    clause_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """When set, the prompt is rated against this clause only; else against every clause."""
    answer_a: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer_b: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class PublicEvalClause(Base):
    __tablename__ = "public_eval_clause"
    __table_args__ = (UniqueConstraint("eval_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    eval_id: Mapped[int] = mapped_column(ForeignKey("public_eval.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class PublicEvalImpression(Base):
    __tablename__ = "public_eval_impression"
    __table_args__ = (
        UniqueConstraint("participant_id", "prompt_id", "clause_id"),
        Index("ix_public_eval_impression_eval", "eval_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    eval_id: Mapped[int] = mapped_column(ForeignKey("public_eval.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("public_eval_prompt.id", ondelete="CASCADE"))
    clause_id: Mapped[int] = mapped_column(ForeignKey("public_eval_clause.id", ondelete="CASCADE"))
    a_first: Mapped[bool] = mapped_column(Boolean)
    """True when model A's answer was shown first (left/top)."""
    choice: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """``a``, ``b`` or ``neither`` once rated; ``None`` while only shown."""
    shown_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
