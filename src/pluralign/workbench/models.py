"""Store tables of the workbench (migration ``0007_workbench``).

:class:`WorkbenchTurn` is one interview turn of an assembly's workbench: the organiser's message,
the model's answer and the clause drafted from it (the proposal), with the organiser's decision
(``pending``, ``accept``, ``edit`` with the edited ``text``, or ``reject``).
:class:`WorkbenchConstitution` keeps every saved constitution (its YAML, with the provenance of
each clause). :class:`WorkbenchJob` is one background job (an ``interview`` turn, ``practice`` or
``integration``):
its state, settings, output folder, process id, error and result. ``slot`` is ``"active"`` while
a job is queued or running and NULL after: its unique constraint lets only one job run at a time
in the whole store, across processes (a unique column may hold many NULLs in SQLite and
PostgreSQL).

Imports only SQLAlchemy (the store stays usable without the ``[web]`` extra).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pluralign.store.models import Base, utcnow

PENDING, ACCEPT, EDIT, REJECT = "pending", "accept", "edit", "reject"
DECISIONS = (ACCEPT, EDIT, REJECT)
INTERVIEW, PRACTICE, INTEGRATION = "interview", "practice", "integration"
KINDS = (INTERVIEW, PRACTICE, INTEGRATION)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = "active"


class WorkbenchTurn(Base):
    __tablename__ = "workbench_turn"
    __table_args__ = (UniqueConstraint("assembly_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    """1, 2, ... within the assembly's interview (the clause provenance's ``turn``)."""
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(300))
    draft: Mapped[str] = mapped_column(Text, default="")
    """The proposed clause ("The assistant should ..."); empty when the gate refused it."""
    rejected_draft: Mapped[str] = mapped_column(Text, default="")
    gate: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The clause gate's reason code when it refused the draft."""
    decision: Mapped[str] = mapped_column(String(8), default=PENDING)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The organiser's edited clause (decision ``edit``)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkbenchConstitution(Base):
    __tablename__ = "workbench_constitution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    yaml: Mapped[str] = mapped_column(Text)
    """The ``pluralign-constitution/1`` file, provenance included."""
    clauses: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkbenchJob(Base):
    __tablename__ = "workbench_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assembly.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    slot: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the job runs on: the constitution or practice job it reads, its step counts."""
    folder: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
