"""Setting an assembly up, without HTTP: the organiser's settings (topic, questions about
participants, statement length, statement routing), seed statements from a CSV, invitations,
opening and closing; and :func:`check_text`, the one check of text people type. Re-exported by
:mod:`pluralign.web.service`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, at
from pluralign.store.models import ACCEPTED, CLOSED, OPEN, Assembly, Statement
from pluralign.store.queries import next_number
from pluralign.web import routing as routing_mod
from pluralign.web.models import InviteToken
from pluralign.web.security import new_token, token_hash
from pluralign.web.votes import ASSEMBLIES, STATEMENTS, as_utc, is_open

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
MAX_STATEMENT_CHARS = 400
"""Default longest statement (characters); each assembly may set its own (settings)."""
STATEMENT_CHARS_RANGE = (20, 2000)
DEFAULT_MIN_VOTES = 7  # Polis clusters a participant once they have voted on 7 statements
PREFER_NOT = "Prefer not to say"
FIRST_PARTICIPANT = 1
# Limits of the questions about participants (a long form is itself a barrier to taking part).
MAX_QUESTIONS, MAX_OPTIONS, MAX_LABEL_CHARS, MAX_OPTION_CHARS = 20, 20, 200, 100
MAX_DESCRIPTION_CHARS = 5000
# Bidirectional embeddings, overrides and isolates (Unicode UAX #9, table 1): they can make
# text read differently from what it is ("Trojan Source", CVE-2021-42574). The marks LRM, RLM
# and ALM stay allowed: right-to-left writers need them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# ---------------------------------------------------------------- text people write


def check_text(text: str, where, *, multiline: bool = False) -> str:
    """``text`` in Unicode NFC, or :class:`InputError` when it holds control characters (NUL
    and other C0/C1 codes; tabs and line breaks only when ``multiline``) or bidirectional
    overrides, which could hide or reverse what moderators and voters read."""
    text = unicodedata.normalize("NFC", text)
    for ch in text:
        if ch in BIDI_CONTROLS or (
            unicodedata.category(ch) == "Cc" and not (multiline and ch in "\t\n\r")
        ):
            raise InputError(
                N_(
                    "the text contains an invisible control character (U+%(code)s): "
                    "please remove it",
                    code=f"{ord(ch):04X}",
                ),
                where=where,
            )
    return text


# ---------------------------------------------------------------- assembly configuration


def parse_questions(text: str) -> list[dict]:
    """Demographic questions from the admin form: one per line, ``key | Label | opt1; opt2``.

    Every question is multiple choice (free text invites personal data) and gets a
    "Prefer not to say" option. Raises :class:`InputError` naming the line at fault.
    """
    text = check_text(text, "questions", multiline=True)
    questions, keys = [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(questions) == MAX_QUESTIONS:
            raise InputError(
                N_("at most %(n)s questions", n=MAX_QUESTIONS), where=at("questions", number)
            )
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
        if len(label) > MAX_LABEL_CHARS:
            raise InputError(
                N_("a question's label has at most %(n)s characters", n=MAX_LABEL_CHARS),
                where=at("questions", number),
            )
        if len(opts) > MAX_OPTIONS:
            raise InputError(
                N_("a question has at most %(n)s options", n=MAX_OPTIONS),
                where=at("questions", number),
            )
        if any(len(o) > MAX_OPTION_CHARS for o in opts):
            raise InputError(
                N_("an option has at most %(n)s characters", n=MAX_OPTION_CHARS),
                where=at("questions", number),
            )
        if len(set(opts)) < len(opts):
            raise InputError(N_("a question lists an option twice"), where=at("questions", number))
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
    max_statement_chars: int = MAX_STATEMENT_CHARS
    seed_first: bool = False
    routing: str = routing_mod.DEFAULT_POLICY


def _whole_number(value: str, default: int, where: str, low: int, high: int) -> int:
    try:
        number = int(value or default)
    except ValueError as exc:
        raise InputError(
            N_("not a whole number: %(value)s", value=repr(value)), where=where
        ) from exc
    if not low <= number <= high:
        raise InputError(
            N_("%(field)s must be between %(low)s and %(high)s", field=where, low=low, high=high),
            where=where,
        )
    return number


def parse_assembly_form(
    topic: str,
    description: str,
    invite_only: bool,
    closes_at: str,
    questions: str,
    min_votes: str,
    *,
    max_statement_chars: str = "",
    seed_first: bool = False,
    routing: str = "",
) -> AssemblyForm:
    topic = check_text(topic.strip(), "topic")
    if not topic or len(topic) > 300:
        raise InputError(N_("the topic must be 1-300 characters"), where="topic")
    description = check_text(description.strip(), "description", multiline=True)
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            N_("the description has at most %(n)s characters", n=MAX_DESCRIPTION_CHARS),
            where="description",
        )
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
    mv = _whole_number(min_votes, DEFAULT_MIN_VOTES, "min_votes", 1, 1000)
    chars = _whole_number(
        max_statement_chars, MAX_STATEMENT_CHARS, "max_statement_chars", *STATEMENT_CHARS_RANGE
    )
    policy = routing or routing_mod.DEFAULT_POLICY
    if policy not in routing_mod.POLICIES:
        raise InputError(
            N_("unknown statement order '%(policy)s'", policy=policy),
            where="routing",
            hint=N_("use one of: %(choices)s", choices=", ".join(routing_mod.POLICIES)),
        )
    return AssemblyForm(
        topic,
        description,
        bool(invite_only),
        closes,
        tuple(parse_questions(questions)),
        mv,
        chars,
        bool(seed_first),
        policy,
    )


def max_statement_chars(assembly) -> int:
    """The longest statement this assembly accepts (its setting, else the default)."""
    return int((assembly.settings or {}).get("max_statement_chars", MAX_STATEMENT_CHARS))


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
    settings.update(
        questions=list(form.questions),
        min_votes=form.min_votes,
        max_statement_chars=form.max_statement_chars,
        seed_first=form.seed_first,
        routing=form.routing,
    )
    assembly.settings = settings
    ASSEMBLIES.clear()


def set_state(assembly: Assembly, state: str) -> None:
    if state not in (OPEN, CLOSED):
        raise InputError(N_("unknown state '%(state)s'", state=state))
    assembly.state = state
    ASSEMBLIES.clear()
    if state == OPEN and assembly.closes_at and not is_open(assembly):
        assembly.closes_at = None  # reopening an assembly whose time had run out


def parse_seed_csv(
    data: bytes, name: str = "seed.csv", max_chars: int = MAX_STATEMENT_CHARS
) -> list[str]:
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
        line = reader.line_num
        text = " ".join(
            check_text(row.get("text") or "", at(name, line, "text"), multiline=True).split()
        )
        if not text:
            raise InputError(N_("empty statement"), where=at(name, line, "text"))
        if len(text) > max_chars:
            raise InputError(
                N_("statement longer than %(n)s characters", n=max_chars),
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
