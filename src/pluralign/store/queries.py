"""Reads and writes shared by the CLI, the web app and the stages."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pluralign.errors import N_, NotFoundError
from pluralign.store.models import Assembly, Participant, Statement, Vote


def get_assembly(session: Session, slug: str) -> Assembly:
    """The assembly with this slug, or a :class:`NotFoundError` listing the ones that exist."""
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        known = session.scalars(select(Assembly.slug).order_by(Assembly.slug).limit(20)).all()
        raise NotFoundError(
            N_("no assembly '%(slug)s'", slug=slug),
            hint=N_("known assemblies: %(slugs)s", slugs=", ".join(known))
            if known
            else N_("the store has no assembly"),
        )
    return assembly


def latest_votes(session: Session, assembly_id: int) -> pd.DataFrame:
    """The vote that counts for each (participant, statement): the latest one.

    Columns: ``participant`` and ``statement`` (the Polis-style numbers), ``value``
    (1 agree, -1 disagree, 0 pass), ``created_at``.
    """
    last = (
        select(func.max(Vote.id).label("id"))
        .where(Vote.assembly_id == assembly_id)
        .group_by(Vote.participant_id, Vote.statement_id)
        .subquery()
    )
    stmt = (
        select(
            Participant.number.label("participant"),
            Statement.number.label("statement"),
            Vote.value,
            Vote.created_at,
        )
        .join(last, last.c.id == Vote.id)
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Statement, Statement.id == Vote.statement_id)
        .order_by(Vote.id)
    )
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["participant", "statement", "value", "created_at"])


def vote_history(session: Session, assembly_id: int) -> pd.DataFrame:
    """Every vote event in the order stored, with Polis-style numbers."""
    stmt = (
        select(
            Participant.number.label("participant"),
            Statement.number.label("statement"),
            Vote.value,
            Vote.created_at,
        )
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.assembly_id == assembly_id)
        .order_by(Vote.id)
    )
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["participant", "statement", "value", "created_at"])


def next_number(
    session: Session, model: type[Participant] | type[Statement], assembly_id: int
) -> int:
    """The next free Polis-style number for a participant or statement in an assembly."""
    current = session.scalar(select(func.max(model.number)).where(model.assembly_id == assembly_id))
    return 0 if current is None else current + 1


def only_assembly(store, slug: str | None, *, option: str = "--slug") -> str:
    """``slug`` when given; else the slug of the store's one assembly. With none or several the
    error names ``option`` (several: it lists them)."""
    if slug is not None:
        return slug
    with store.session() as session:
        slugs = session.scalars(select(Assembly.slug).order_by(Assembly.slug).limit(21)).all()
    if len(slugs) == 1:
        return slugs[0]
    if not slugs:
        raise NotFoundError(N_("the store has no assembly"), where=option)
    listed = ", ".join(slugs[:20]) + (", ..." if len(slugs) > 20 else "")
    raise NotFoundError(
        N_("the store holds several assemblies; say which"),
        where=option,
        hint=N_("known assemblies: %(slugs)s", slugs=listed),
    )


def assembly_counts(session: Session, assembly_id: int) -> dict[str, int]:
    """What the store holds of an assembly: participants, statements (all and accepted), vote
    events (every vote cast, changes included) and the votes that count (the latest per
    participant and statement)."""
    def count(model, *where) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(
            model.assembly_id == assembly_id, *where)))

    return {
        "participants": count(Participant),
        "statements": count(Statement),
        "accepted_statements": count(Statement, Statement.moderation == "accepted"),
        "vote_events": count(Vote),
        "votes_counted": len(latest_votes(session, assembly_id)),
    }

