"""Moderating statements, without HTTP: a decision, the moderation log (who decided what about
which statement, when, and the decision before) and its CSV download. Re-exported by
:mod:`pluralign.web.service`.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, NotFoundError
from pluralign.store.models import ACCEPTED, REJECTED, Assembly, Statement
from pluralign.web.models import ModerationLog
from pluralign.web.votes import STATEMENTS, as_utc


def moderate(
    session: Session, assembly: Assembly, number: int, decision: str, user=None
) -> Statement:
    """Accept or reject statement ``number``; the decision is logged (who, what, when, the
    decision before) when ``user`` (the organiser deciding) is given, as the web app does."""
    if decision not in (ACCEPTED, REJECTED):
        raise InputError(
            N_("unknown decision '%(decision)s'", decision=decision),
            hint=N_("accepted or rejected"),
        )
    st = session.scalar(
        select(Statement).where(Statement.assembly_id == assembly.id, Statement.number == number)
    )
    if st is None:
        raise NotFoundError(
            N_("no statement %(number)s in '%(slug)s'", number=number, slug=assembly.slug)
        )
    previous, st.moderation = st.moderation, decision
    if user is not None:
        session.add(
            ModerationLog(
                assembly_id=assembly.id,
                statement_id=st.id,
                statement_number=st.number,
                statement_text=st.text,
                user_id=user.id,
                username=user.username,
                role=user.role,
                previous=previous,
                decision=decision,
            )
        )
    STATEMENTS.invalidate(session, assembly.id)
    return st


LOG_COLUMNS = ("time_utc", "statement", "text", "moderator", "role", "previous", "decision")


def moderation_log_csv(session: Session, assembly: Assembly) -> str:
    """The moderation log of an assembly as CSV (oldest first): when (UTC, ISO 8601), which
    statement (number and the text decided on), who (username and role), the decision and
    the state before it."""
    rows = session.scalars(
        select(ModerationLog)
        .where(ModerationLog.assembly_id == assembly.id)
        .order_by(ModerationLog.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LOG_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                as_utc(r.created_at).isoformat(timespec="seconds"),
                r.statement_number,
                _csv_safe(r.statement_text),
                r.username,
                r.role,
                r.previous,
                r.decision,
            ]
        )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP "CSV injection")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def last_decisions(session: Session, assembly_id: int, statement_ids: list[int]) -> dict:
    """statement id -> the latest :class:`ModerationLog` row about it (who decided last)."""
    if not statement_ids:
        return {}
    rows = session.scalars(
        select(ModerationLog)
        .where(
            ModerationLog.assembly_id == assembly_id,
            ModerationLog.statement_id.in_(statement_ids),
        )
        .order_by(ModerationLog.id)
    ).all()
    return {r.statement_id: r for r in rows}
