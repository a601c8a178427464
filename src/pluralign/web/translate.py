"""Statements in the participant's language: an LLM translation step, stored once per language.

A participant whose language differs from a statement's reads a translation; the vote form still
carries the ORIGINAL statement's number, so votes (and everything computed from them) stay
attached to the original statement. Translations are made by a :data:`Translator` — normally
:func:`provider_translator` around a ``pluralign.llm`` provider, whose on-disk request cache
means the same request is never paid for twice — and stored in ``statement_translation`` so each
(statement, language) pair is translated once, even across cache folders and model changes.
Organisers can translate all accepted statements at once and correct any translation
(``source="admin"``; an admin edit is never overwritten by the model).

Without a translator, a statement without a stored translation is shown in its original language
with a note saying so (:func:`shown_text`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, ProviderError
from pluralign.store.models import ACCEPTED, Statement, utcnow
from pluralign.web.i18n import language_name
from pluralign.web.models import StatementTranslation

Translator = Callable[[str, str, str], str]
"""``translate(text, source_language, target_language) -> text``; may carry a ``model`` name."""

MAX_TRANSLATION_CHARS = 4000

SYSTEM_PROMPT = (
    "You translate statements written by participants of a public deliberation, so that people "
    "who speak another language can agree or disagree with them. Translate from {source} into "
    "{target}. Keep the meaning, the strength of the claim, the tone and the point of view "
    "exactly; add, drop or soften nothing; do not answer or comment on the statement. Reply with "
    "the translation only, without quotes."
)


def translation_request(text: str, source: str, target: str):
    """The chat request for one translation: deterministic (temperature 0, seed 0), so the
    provider's request cache answers a repeat without sending it."""
    from pluralign.llm.types import ChatRequest

    system = SYSTEM_PROMPT.format(source=language_name(source), target=language_name(target))
    return ChatRequest.of(
        [("system", system), ("user", text)],
        max_tokens=max(64, min(1024, 2 * len(text))),
        temperature=0.0,
        seed=0,
    )


def clean_reply(reply: str) -> str:
    """The translation from a model's reply: trimmed, one wrapping pair of quotes removed."""
    text = reply.strip()
    for left, right in (('"', '"'), ("“", "”"), ("„", "“"), ("«", "»")):
        inner = text[1:-1]
        if len(text) >= 2 and text[0] == left and text[-1] == right and right not in inner:
            text = inner.strip()  # only a wrapping pair: '"a" and "b"' keeps its quotes
            break
    return text


def provider_translator(provider) -> Translator:
    """A :data:`Translator` sending :func:`translation_request` through ``provider``."""

    def translate(text: str, source: str, target: str) -> str:
        completion = provider.complete(translation_request(text, source, target))
        out = clean_reply(completion.text)
        if not out:
            raise ProviderError(
                f"the model {provider.model_name()} returned an empty translation",
                hint="check the model behind $PLURALIGN_WEB_LLM_CONFIG",
            )
        return out

    translate.model = provider.model_name()  # type: ignore[attr-defined]
    return translate


class Cooldown:
    """Wrap a :data:`Translator` so that after a failure it fails at once for ``seconds``
    (a down model server then costs one timeout, not one per page view); pages show the
    original meanwhile."""

    def __init__(self, translate: Translator, seconds: float = 60.0):
        self.translate = translate
        self.seconds = seconds
        self.model = getattr(translate, "model", "")
        self._failed_at: float | None = None

    def __call__(self, text: str, source: str, target: str) -> str:
        import time

        if self._failed_at is not None and time.monotonic() - self._failed_at < self.seconds:
            raise ProviderError("the translation model failed recently; not asking again yet")
        try:
            out = self.translate(text, source, target)
        except ProviderError:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None
        return out


def stored(session: Session, statement_id: int, language: str) -> StatementTranslation | None:
    return session.scalar(
        select(StatementTranslation).where(
            StatementTranslation.statement_id == statement_id,
            StatementTranslation.language == language,
        )
    )


def translate_statement(
    session: Session, statement: Statement, language: str, translate: Translator | None
) -> StatementTranslation | None:
    """The stored translation of ``statement`` into ``language``, made now if missing and a
    translator is given (``None`` without one, or when ``language`` is the original's)."""
    if language == statement.language:
        return None
    row = stored(session, statement.id, language)
    if row is not None or translate is None:
        return row
    text = translate(statement.text, statement.language, language)[:MAX_TRANSLATION_CHARS]
    row = StatementTranslation(
        statement_id=statement.id,
        language=language,
        text=text,
        source="llm",
        model=str(getattr(translate, "model", ""))[:200],
    )
    try:
        with session.begin_nested():  # another worker may have stored it meanwhile
            session.add(row)
    except IntegrityError:
        row = stored(session, statement.id, language)
    return row


@dataclass(frozen=True)
class Shown:
    """What a participant reads for one statement."""

    text: str
    language: str
    """Language of ``text``."""
    translated: bool
    """``text`` is a translation of the original."""
    untranslated: bool
    """The participant's language differs and no translation exists: the original is shown."""


def shown_text(
    session: Session, statement: Statement, language: str, translate: Translator | None
) -> Shown:
    """The statement as a participant with ``language`` sees it. A failing model never blocks
    voting: the original is shown (the error is logged by the caller's logger)."""
    if language == statement.language:
        return Shown(statement.text, statement.language, False, False)
    try:
        row = translate_statement(session, statement, language, translate)
    except ProviderError:
        import logging

        logging.getLogger("pluralign.web").exception("translating statement %s", statement.id)
        row = None
    if row is None:
        return Shown(statement.text, statement.language, False, True)
    return Shown(row.text, language, True, False)


def translate_all(
    session: Session, assembly_id: int, language: str, translate: Translator
) -> dict[str, int]:
    """Translate every accepted statement of an assembly into ``language`` (stored ones and
    statements already in that language are skipped). Counts: translated, kept, same, failed."""
    counts = {"translated": 0, "kept": 0, "same": 0, "failed": 0}
    statements = session.scalars(
        select(Statement)
        .where(Statement.assembly_id == assembly_id, Statement.moderation == ACCEPTED)
        .order_by(Statement.number)
    ).all()
    for st in statements:
        if st.language == language:
            counts["same"] += 1
        elif stored(session, st.id, language) is not None:
            counts["kept"] += 1
        else:
            try:
                translate_statement(session, st, language, translate)
                counts["translated"] += 1
            except ProviderError:
                counts["failed"] += 1
    return counts


def set_translation(
    session: Session, assembly_id: int, number: int, language: str, text: str
) -> StatementTranslation:
    """An organiser writes or corrects the translation of statement ``number``."""
    text = text.strip()
    if not text:
        raise InputError(
            N_("a translation cannot be empty"),
            where="text",
            hint=N_("write the statement in the target language"),
        )
    if len(text) > MAX_TRANSLATION_CHARS:
        raise InputError(
            N_("a translation has at most %(n)s characters", n=MAX_TRANSLATION_CHARS),
            where="text",
        )
    st = session.scalar(
        select(Statement).where(Statement.assembly_id == assembly_id, Statement.number == number)
    )
    if st is None:
        raise InputError(
            N_("no statement %(number)s in this assembly", number=number), where="statement"
        )
    if st.language == language:
        raise InputError(
            N_(
                "statement %(number)s is written in %(language)s already",
                number=number,
                language=language,
            ),
            where="language",
        )
    row = stored(session, st.id, language)
    if row is None:
        row = StatementTranslation(
            statement_id=st.id, language=language, text=text, source="admin", model=""
        )
        session.add(row)
    else:
        row.text, row.source, row.updated_at = text, "admin", utcnow()
    session.flush()
    return row
