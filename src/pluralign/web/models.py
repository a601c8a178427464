"""Tables the web app adds to the store (migrations ``0002``, ``0005`` and ``0006``).

They share :class:`pluralign.store.models.Base`, so ``Base.metadata`` (and alembic) see them as
soon as this module is imported; ``store/migrations/env.py`` imports it. This module imports only
SQLAlchemy, so the store stays usable without the ``[web]`` extra.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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

# Roles of organisers. An admin can do everything; a moderator sees the dashboards and the
# moderation queue but cannot configure, open/close or export an assembly.
ADMIN, MODERATOR = "admin", "moderator"
ROLES = (ADMIN, MODERATOR)


class AdminUser(Base):
    """An organiser account (never a participant): argon2 password hash and a role."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=MODERATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InviteToken(Base):
    """A personal invitation to an invite-only assembly: one token, one participant.

    Only the sha256 of the token is stored, so a leaked database does not leak usable links.
    """

    __tablename__ = "web_invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), nullable=True
    )
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Withdrawal(Base):
    """That *someone* withdrew from an assembly, and when: no id, so nothing links back."""

    __tablename__ = "web_withdrawal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    votes_deleted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSetting(Base):
    """Key/value settings of the web app shared by all its worker processes (e.g. the cookie
    signing secret, created on first start so sessions survive restarts)."""

    __tablename__ = "web_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StatementTranslation(Base):
    """A statement's text in another language (migration ``0005``): one row per (statement,
    language), made by the language model (``source="llm"``, ``model`` names it) or written or
    corrected by an organiser (``source="admin"``). Votes always reference the original
    statement; a translation is only what a participant reads."""

    __tablename__ = "statement_translation"
    __table_args__ = (UniqueConstraint("statement_id", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="llm")
    model: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdminSession(Base):
    """One signed-in organiser session (migration ``0006``). The signed cookie carries a random
    token whose sha256 is stored here; signing out deletes the row, so a copied cookie stops
    working at once (the cookie alone is not enough)."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """A failed sign-in for an account name (migration ``0006``): the per-account limit counts
    these over a time window, in the database, so every worker process sees the same count and
    rotating client addresses does not help an attacker."""

    __tablename__ = "web_login_failure"
    __table_args__ = (Index("ix_web_login_failure_username", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModerationLog(Base):
    """Who decided what about which statement, and when (migration ``0006``). Rows stay when the
    statement or the organiser account is deleted (number, text and username are copied)."""

    __tablename__ = "web_moderation_log"
    __table_args__ = (Index("ix_web_moderation_log_assembly", "assembly_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement.id", ondelete="SET NULL"), nullable=True
    )
    statement_number: Mapped[int] = mapped_column(Integer)
    statement_text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_user.id", ondelete="SET NULL"), nullable=True
    )
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
