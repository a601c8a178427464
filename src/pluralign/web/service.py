"""What the web app does to the store, without any HTTP: joining, voting, proposing, moderating,
withdrawing, configuring. Routers call these; tests and the benchmark can too. Setting an
assembly up lives in :mod:`pluralign.web.setup`, moderation in :mod:`pluralign.web.moderation`
and the vote hot path (next statement, idempotent insert) in :mod:`pluralign.web.votes`; all are
re-exported here, so this module is the service API in one place.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, NotFoundError
from pluralign.store.models import (
    ACCEPTED,
    PENDING,
    REJECTED,
    Assembly,
    Participant,
    Statement,
    Vote,
    utcnow,
)
from pluralign.store.queries import next_number
from pluralign.web.models import InviteToken, Withdrawal
from pluralign.web.moderation import (  # noqa: F401  (re-exported)
    LOG_COLUMNS,
    last_decisions,
    moderate,
    moderation_log_csv,
)
from pluralign.web.security import new_token, token_hash
from pluralign.web.setup import (  # noqa: F401  (re-exported)
    BIDI_CONTROLS,
    DEFAULT_MIN_VOTES,
    FIRST_PARTICIPANT,
    MAX_STATEMENT_CHARS,
    PREFER_NOT,
    SLUG_RE,
    AssemblyForm,
    add_seed_statements,
    check_text,
    configure_assembly,
    create_assembly,
    create_invites,
    language_code,
    max_statement_chars,
    parse_assembly_form,
    parse_questions,
    parse_seed_csv,
    questions_text,
    set_state,
)
from pluralign.web.votes import (  # noqa: F401  (re-exported: the service API in one place)
    ASSEMBLIES,
    STATEMENTS,
    NextStatement,
    VoteAck,
    as_utc,
    assembly_info,
    is_open,
    next_statement,
    record_vote,
    write_lock,
)

# ---------------------------------------------------------------- participants


def get_open_assembly(session: Session, slug: str) -> Assembly:
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        raise NotFoundError(N_("no assembly '%(slug)s'", slug=slug))
    return assembly


def join(session: Session, assembly: Assembly, invite: str | None) -> Participant:
    """Create a participant who has just consented; consumes the invite token if required."""
    if not is_open(assembly):
        raise InputError(
            N_("this assembly is not open"), hint=N_("ask the organisers when it opens")
        )
    token_row = None
    if assembly.invite_only:
        if not invite:
            raise InputError(
                N_("this assembly is by invitation only"),
                hint=N_("open the personal link from your invitation"),
            )
        token_row = session.scalar(
            select(InviteToken)
            .where(
                InviteToken.token_hash == token_hash(invite.strip()),
                InviteToken.assembly_id == assembly.id,
            )
            .with_for_update()
        )
        if token_row is None or token_row.used_at is not None:
            raise InputError(
                N_("this invitation is not valid or was used already"),
                hint=N_("each invitation admits one person; ask the organisers"),
            )
    for _attempt in range(5):
        # from 1: number 0 is the organiser, the author of the seed statements, as in Polis
        number = max(FIRST_PARTICIPANT, next_number(session, Participant, assembly.id))
        participant = Participant(
            assembly_id=assembly.id,
            number=number,
            key=new_token(24)[:32],
            consented_at=utcnow(),
            meta={"source": "web"},
        )
        try:
            with session.begin_nested():
                session.add(participant)
        except IntegrityError:
            continue  # another join took this number: take the next
        break
    else:
        raise InputError(N_("too many people joined at once; please try again"))
    if token_row is not None:
        token_row.used_at = utcnow()
        token_row.participant_id = participant.id
    return participant


def save_demographics(participant: Participant, questions: list[dict], answers: dict) -> None:
    clean = {}
    for q in questions:
        value = answers.get(q["key"], "")
        if value not in q["options"]:
            raise InputError(
                N_("choose an answer for '%(label)s'", label=q["label"]), where=q["key"]
            )
        clean[q["key"]] = value
    participant.demographics = clean
    meta = dict(participant.meta or {})
    meta["demographics_done"] = True
    participant.meta = meta


def needs_demographics(assembly, participant) -> bool:
    """True while the assembly asks questions this participant has not answered yet
    (``participant`` may be a :class:`Participant` or its ``meta`` dict)."""
    meta = participant if isinstance(participant, dict) else participant.meta
    return bool((assembly.settings or {}).get("questions")) and not (meta or {}).get(
        "demographics_done"
    )


def propose(session: Session, assembly: Assembly, participant: Participant, text: str) -> Statement:
    text = " ".join(check_text(text, N_("text"), multiline=True).split())
    if not text:
        raise InputError(N_("write a statement first"), where=N_("text"))
    limit = max_statement_chars(assembly)
    if len(text) > limit:
        raise InputError(N_("keep it under %(n)s characters", n=limit), where=N_("text"))
    if not is_open(assembly):
        raise InputError(N_("this assembly is closed"))
    for _attempt in range(5):
        st = Statement(
            assembly_id=assembly.id,
            number=next_number(session, Statement, assembly.id),
            text=text,
            author_id=participant.id,
            moderation=PENDING,
        )
        try:
            with session.begin_nested():
                session.add(st)
            return st
        except IntegrityError:
            continue
    raise InputError(N_("too many statements at once; please try again"))


def withdraw(session: Session, participant: Participant) -> int:
    """Delete a participant with their votes, answers, unpublished statements, values cards
    (with their chat) and moral-graph judgments; published statements stay without an author.
    Records only that someone withdrew. Returns the votes deleted."""
    from pluralign.moralgraph.service import forget_participant

    forget_participant(session, participant.id)
    votes = (
        session.scalar(
            select(func.count()).select_from(Vote).where(Vote.participant_id == participant.id)
        )
        or 0
    )
    session.execute(delete(Vote).where(Vote.participant_id == participant.id))
    session.execute(
        delete(Statement).where(
            Statement.author_id == participant.id, Statement.moderation != ACCEPTED
        )
    )
    session.execute(
        Statement.__table__.update()
        .where(Statement.author_id == participant.id)
        .values(author_id=None)
    )
    session.add(Withdrawal(assembly_id=participant.assembly_id, votes_deleted=votes))
    session.delete(participant)
    return votes


def counts(session: Session, assembly_id: int) -> dict[str, int]:
    """Live numbers for the organiser dashboard."""

    def n(query):
        return session.scalar(query) or 0

    since = utcnow() - dt.timedelta(minutes=5)
    st = dict(
        session.execute(
            select(Statement.moderation, func.count())
            .where(Statement.assembly_id == assembly_id)
            .group_by(Statement.moderation)
        ).all()
    )
    return {
        "participants": n(
            select(func.count())
            .select_from(Participant)
            .where(Participant.assembly_id == assembly_id)
        ),
        "votes": n(select(func.count()).select_from(Vote).where(Vote.assembly_id == assembly_id)),
        "votes_5min": n(
            select(func.count())
            .select_from(Vote)
            .where(Vote.assembly_id == assembly_id, Vote.created_at >= since)
        ),
        "accepted": st.get(ACCEPTED, 0),
        "pending": st.get(PENDING, 0),
        "rejected": st.get(REJECTED, 0),
        "withdrawn": n(
            select(func.count())
            .select_from(Withdrawal)
            .where(Withdrawal.assembly_id == assembly_id)
        ),
        "invites_used": n(
            select(func.count())
            .select_from(InviteToken)
            .where(InviteToken.assembly_id == assembly_id, InviteToken.used_at.is_not(None))
        ),
    }


def participant_vote_count(session: Session, participant_id: int) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(Vote.statement_id))).where(
                Vote.participant_id == participant_id
            )
        )
        or 0
    )
