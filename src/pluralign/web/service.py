"""What the web app does to the store, without any HTTP: joining, voting, proposing, moderating,
withdrawing, configuring. Routers call these; tests and the benchmark can too. The vote hot
path (next statement, idempotent insert) lives in :mod:`pluralign.web.votes` and is re-exported
here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, NotFoundError, at
from pluralign.store.models import (
    ACCEPTED,
    CLOSED,
    OPEN,
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
from pluralign.web.security import new_token, token_hash
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

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
MAX_STATEMENT_CHARS = 400
DEFAULT_MIN_VOTES = 7  # Polis clusters a participant once they have voted on 7 statements
PREFER_NOT = "Prefer not to say"


# ---------------------------------------------------------------- assembly configuration


def parse_questions(text: str) -> list[dict]:
    """Demographic questions from the admin form: one per line, ``key | Label | opt1; opt2``.

    Every question is multiple choice (free text invites personal data) and gets a
    "Prefer not to say" option. Raises :class:`InputError` naming the line at fault.
    """
    questions, keys = [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise InputError(
                N_("a question needs three parts: key | Label | option; option"),
                where=at("questions", number),
            )
        key, label, options = parts
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", key):
            raise InputError(
                N_("question key '%(key)s' must be lower-case letters, digits, _", key=key),
                where=at("questions", number),
            )
        if key in keys:
            raise InputError(
                N_("question key '%(key)s' is used twice", key=key), where=at("questions", number)
            )
        opts = [o.strip() for o in options.split(";") if o.strip()]
        if len(opts) < 2 or not label:
            raise InputError(
                N_("a question needs a label and at least two options"),
                where=at("questions", number),
            )
        if PREFER_NOT not in opts:
            opts.append(PREFER_NOT)
        keys.add(key)
        questions.append({"key": key, "label": label, "options": opts})
    return questions


def questions_text(questions: list[dict]) -> str:
    return "\n".join(
        f"{q['key']} | {q['label']} | {'; '.join(o for o in q['options'] if o != PREFER_NOT)}"
        for q in questions
    )


@dataclass(frozen=True)
class AssemblyForm:
    """The organiser's settings of an assembly, validated."""

    topic: str
    description: str = ""
    invite_only: bool = False
    closes_at: dt.datetime | None = None
    questions: tuple = ()
    min_votes: int = DEFAULT_MIN_VOTES


def parse_assembly_form(
    topic: str, description: str, invite_only: bool, closes_at: str, questions: str, min_votes: str
) -> AssemblyForm:
    topic = topic.strip()
    if not topic or len(topic) > 300:
        raise InputError(N_("the topic must be 1-300 characters"), where="topic")
    closes = None
    if closes_at.strip():
        try:
            closes = as_utc(dt.datetime.fromisoformat(closes_at.strip()))
        except ValueError as exc:
            raise InputError(
                N_("not a date and time: %(value)s", value=repr(closes_at)),
                where="closes_at",
                hint=N_("use YYYY-MM-DDTHH:MM (UTC)"),
            ) from exc
    try:
        mv = int(min_votes or DEFAULT_MIN_VOTES)
    except ValueError as exc:
        raise InputError(
            N_("not a whole number: %(value)s", value=repr(min_votes)), where="min_votes"
        ) from exc
    if not 1 <= mv <= 1000:
        raise InputError(N_("min_votes must be between 1 and 1000"), where="min_votes")
    return AssemblyForm(
        topic, description.strip(), bool(invite_only), closes, tuple(parse_questions(questions)), mv
    )


def create_assembly(session: Session, slug: str, form: AssemblyForm) -> Assembly:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InputError(
            N_("'%(slug)s' is not a valid link name", slug=slug),
            where="slug",
            hint=N_("3-80 characters: lower-case letters, digits and '-'"),
        )
    if session.scalar(select(Assembly.id).where(Assembly.slug == slug)) is not None:
        raise InputError(N_("an assembly '%(slug)s' exists already", slug=slug), where="slug")
    assembly = Assembly(slug=slug, topic=form.topic, settings={})
    session.add(assembly)
    configure_assembly(assembly, form)
    session.flush()
    return assembly


def configure_assembly(assembly: Assembly, form: AssemblyForm) -> None:
    assembly.topic = form.topic
    assembly.description = form.description
    assembly.invite_only = form.invite_only
    assembly.closes_at = form.closes_at
    settings = dict(assembly.settings or {})
    settings.update(questions=list(form.questions), min_votes=form.min_votes)
    assembly.settings = settings
    ASSEMBLIES.clear()


def set_state(assembly: Assembly, state: str) -> None:
    if state not in (OPEN, CLOSED):
        raise InputError(N_("unknown state '%(state)s'", state=state))
    assembly.state = state
    ASSEMBLIES.clear()
    if state == OPEN and assembly.closes_at and not is_open(assembly):
        assembly.closes_at = None  # reopening an assembly whose time had run out


def parse_seed_csv(data: bytes, name: str = "seed.csv") -> list[str]:
    """Statement texts from a CSV with a ``text`` column (other columns are ignored).

    All-or-nothing: any bad row raises :class:`InputError` naming file and line.
    """
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            N_("the file is not UTF-8 text"), where=name, hint=N_("save the CSV as UTF-8")
        ) from exc
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or "text" not in [f.strip() for f in reader.fieldnames]:
        raise InputError(
            N_("the CSV needs a header row with a 'text' column"),
            where=at(name, 1),
            hint=N_("first line: text"),
        )
    texts = []
    for row in reader:
        text = (row.get("text") or "").strip()
        line = reader.line_num
        if not text:
            raise InputError(N_("empty statement"), where=at(name, line, "text"))
        if len(text) > MAX_STATEMENT_CHARS:
            raise InputError(
                N_("statement longer than %(n)s characters", n=MAX_STATEMENT_CHARS),
                where=at(name, line, "text"),
            )
        texts.append(text)
    if not texts:
        raise InputError(N_("the CSV holds no statements"), where=name)
    return texts


def language_code(code: str) -> str:
    """A BCP 47-like language code (``en``, ``de``, ``pt-br``), lower-cased, or InputError."""
    code = (code or "").strip().lower().replace("_", "-")
    if not code or len(code) > 16 or not all(c.isalnum() or c == "-" for c in code):
        raise InputError(
            N_("not a language code: %(code)s", code=repr(code)),
            where="language",
            hint=N_("e.g. en, de, fr, es, pt-br"),
        )
    return code


def add_seed_statements(
    session: Session, assembly: Assembly, texts: list[str], language: str = "en"
) -> int:
    """Add accepted seed statements written in ``language``."""
    number = next_number(session, Statement, assembly.id)
    for i, text in enumerate(texts):
        session.add(
            Statement(
                assembly_id=assembly.id,
                number=number + i,
                text=text,
                moderation=ACCEPTED,
                is_seed=True,
                language=language,
            )
        )
    session.flush()
    STATEMENTS.invalidate(session, assembly.id)
    return len(texts)


def create_invites(session: Session, assembly: Assembly, count: int) -> list[str]:
    """``count`` new personal invite tokens; only their hashes are stored."""
    if not 1 <= count <= 10_000:
        raise InputError(N_("create between 1 and 10000 invitations at a time"), where="count")
    tokens = [new_token() for _ in range(count)]
    session.add_all(InviteToken(assembly_id=assembly.id, token_hash=token_hash(t)) for t in tokens)
    session.flush()
    return tokens


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
        number = next_number(session, Participant, assembly.id)
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
    text = " ".join(text.split())
    if not text:
        raise InputError(N_("write a statement first"), where=N_("text"))
    if len(text) > MAX_STATEMENT_CHARS:
        raise InputError(
            N_("keep it under %(n)s characters", n=MAX_STATEMENT_CHARS), where=N_("text")
        )
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
    """Delete a participant with their votes and unpublished statements; published statements
    stay without an author. Records only that someone withdrew. Returns the votes deleted."""
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


def moderate(session: Session, assembly: Assembly, number: int, decision: str) -> Statement:
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
    st.moderation = decision
    STATEMENTS.invalidate(session, assembly.id)
    return st


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
