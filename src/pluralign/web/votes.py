"""The hot path: which statement to show next, and storing a vote exactly once.

Next statement (Polis-like spreading): among the accepted statements the participant has not
voted on yet (unseen), the one with the fewest votes so far; ties broken by a hash of
(participant, statement) so different participants see different statements while a reload
shows the same one. Counts come from a short-lived per-process cache: they only steer spreading.

Idempotency: a vote's ``request_id`` column holds ``"<participant id>:<client request id>"``
(unique). The insert is ``INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING id`` on SQLite
and PostgreSQL, so a retried request finds the stored vote instead of adding one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pluralign.errors import InputError, NotFoundError
from pluralign.store.models import (
    ACCEPTED,
    OPEN,
    VOTE_VALUES,
    Assembly,
    Statement,
    Vote,
    utcnow,
)

CACHE_SECONDS = 2.0


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def is_open(assembly, now: dt.datetime | None = None) -> bool:
    """Open for votes and statements: state ``open`` and not past its closing time."""
    closes = as_utc(assembly.closes_at)
    return assembly.state == OPEN and (closes is None or (now or utcnow()) < closes)


def _db(session: Session) -> str:
    return str(session.get_bind().url)


@dataclass(frozen=True)
class AssemblyInfo:
    """A read-only snapshot of an assembly's row (what the vote path needs)."""

    id: int
    slug: str
    state: str
    closes_at: dt.datetime | None
    invite_only: bool
    settings: dict[str, Any]


class _AssemblyCache:
    """slug -> :class:`AssemblyInfo` per process, ``CACHE_SECONDS`` old at most: opening,
    closing or reconfiguring in another worker takes effect within that time."""

    def __init__(self):
        self._data: dict[tuple[str, str], tuple[float, AssemblyInfo]] = {}

    def clear(self) -> None:
        self._data.clear()

    def get(self, session: Session, slug: str) -> AssemblyInfo:
        key = (_db(session), slug)
        entry = self._data.get(key)
        if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
            a = session.scalar(select(Assembly).where(Assembly.slug == slug))
            if a is None:
                raise NotFoundError(f"no assembly '{slug}'")
            info = AssemblyInfo(a.id, a.slug, a.state, a.closes_at, a.invite_only,
                                dict(a.settings or {}))
            entry = (time.monotonic(), info)
            self._data[key] = entry
        return entry[1]


ASSEMBLIES = _AssemblyCache()


def assembly_info(session: Session, slug: str) -> AssemblyInfo:
    return ASSEMBLIES.get(session, slug)


_SQLITE_LOCKS: dict[str, threading.Lock] = {}


def write_lock(session: Session):
    """Serialise this process's writers on SQLite (one writer at a time anyway) so threads wait
    on a lock instead of SQLite's sleeping busy handler, which would ruin tail latency."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _SQLITE_LOCKS.setdefault(str(bind.url), threading.Lock())


class _StatementCache:
    """Per-process cache of each assembly's accepted statements and vote counts."""

    def __init__(self, ttl: float = CACHE_SECONDS):
        self.ttl = ttl
        # (db url, assembly id) -> (loaded at, {number: (statement id, text)}, {statement id: n})
        self._data: dict[tuple[str, int], tuple] = {}
        self._lock = threading.Lock()

    def invalidate(self, session: Session, assembly_id: int) -> None:
        with self._lock:
            self._data.pop((_db(session), assembly_id), None)

    def get(self, session: Session, assembly_id: int):
        key = (_db(session), assembly_id)
        entry = self._data.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            rows = session.execute(
                select(Statement.id, Statement.number, Statement.text)
                .where(Statement.assembly_id == assembly_id, Statement.moderation == ACCEPTED)
            ).all()
            counts = dict(session.execute(
                select(Vote.statement_id, func.count()).where(Vote.assembly_id == assembly_id)
                .group_by(Vote.statement_id)
            ).all())
            entry = (time.monotonic(), {n: (i, t) for i, n, t in rows}, counts)
            with self._lock:
                self._data[key] = entry
        return entry[1], entry[2]

    def bump(self, session: Session, assembly_id: int, statement_id: int) -> None:
        entry = self._data.get((_db(session), assembly_id))
        if entry is not None:
            entry[2][statement_id] = entry[2].get(statement_id, 0) + 1


STATEMENTS = _StatementCache()


@dataclass(frozen=True)
class NextStatement:
    number: int
    text: str
    remaining: int


def next_statement(session: Session, assembly_id: int, participant_id: int) -> NextStatement | None:
    """The statement to show next (see module docstring), or None when all are voted on."""
    by_number, counts = STATEMENTS.get(session, assembly_id)
    voted = set(session.scalars(
        select(Vote.statement_id).where(Vote.assembly_id == assembly_id,
                                        Vote.participant_id == participant_id)
    ).all())
    candidates = [(n, i, t) for n, (i, t) in by_number.items() if i not in voted]
    if not candidates:
        return None
    n, _i, text = min(
        candidates,
        key=lambda c: (counts.get(c[1], 0), (c[1] * 2654435761 ^ participant_id * 40503) % 2**32),
    )
    return NextStatement(n, text, len(candidates))


@dataclass(frozen=True)
class VoteAck:
    vote_id: int
    statement: int
    value: int
    replayed: bool
    """True when this request id was stored before: the retry did not count twice."""


def _insert_once(session: Session, values: dict) -> int | None:
    """Insert the vote unless its request id exists; the new id, or None on a replay."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
        stmt = (module.insert(Vote).values(**values)
                .on_conflict_do_nothing(index_elements=["request_id"]).returning(Vote.id))
        return session.execute(stmt).scalar()
    try:  # other databases: a savepoint around a plain insert
        with session.begin_nested():
            return session.execute(insert(Vote).values(**values).returning(Vote.id)).scalar_one()
    except IntegrityError:
        return None


def record_vote(session: Session, assembly, participant, statement: int, value: int,
                request_id: str) -> VoteAck:
    """Store one vote, idempotently: the key is (participant, request id).

    ``assembly`` is an :class:`Assembly` or :class:`AssemblyInfo`; ``participant`` a
    :class:`~pluralign.store.models.Participant` or its id.
    """
    if value not in VOTE_VALUES:
        raise InputError(f"a vote is 1 (agree), -1 (disagree) or 0 (pass), not {value}",
                         where="value")
    if not request_id or len(request_id) > 48 or not request_id.isprintable():
        raise InputError("missing or malformed request id", where="request_id")
    if not is_open(assembly):
        raise InputError("this assembly is closed; votes are no longer accepted")
    participant_id = getattr(participant, "id", participant)
    by_number, _ = STATEMENTS.get(session, assembly.id)
    if statement not in by_number:
        STATEMENTS.invalidate(session, assembly.id)
        by_number, _ = STATEMENTS.get(session, assembly.id)
        if statement not in by_number:
            raise NotFoundError(f"no statement {statement} to vote on in '{assembly.slug}'")
    statement_id = by_number[statement][0]
    key = f"{participant_id}:{request_id}"
    vote_id = _insert_once(session, dict(
        assembly_id=assembly.id, participant_id=participant_id, statement_id=statement_id,
        value=value, request_id=key, created_at=utcnow()))
    if vote_id is None:
        prior = session.execute(select(Vote.id, Vote.statement_id, Vote.value)
                                .where(Vote.request_id == key)).one()
        number = next((n for n, (i, _t) in by_number.items() if i == prior.statement_id),
                      statement)
        return VoteAck(prior.id, number, prior.value, True)
    STATEMENTS.bump(session, assembly.id, statement_id)
    return VoteAck(vote_id, statement, value, False)
