"""The language picker (``POST /lang``) and the organisers' translation review
(``/admin/a/<slug>/translations``).

The picker is a plain form on every page (works without JavaScript): it keeps the choice in the
session and stores it on every participant this browser is in (``Participant.language``), so the
next page — and the statements on it — come in that language.

The statement translator is ``app.state.translator`` (a ``translate(text, source, target)``
function) when set, else a ``pluralign.llm`` provider from the YAML file in
``$PLURALIGN_WEB_LLM_CONFIG`` (the same file the moral-graph chat uses), else none.
"""

from __future__ import annotations

import os
import threading

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select, update

from pluralign.errors import N_
from pluralign.store.models import ACCEPTED, Assembly, Participant, Statement
from pluralign.web import i18n
from pluralign.web import translate as tr
from pluralign.web.deps import render, require_admin
from pluralign.web.models import StatementTranslation

router = APIRouter(tags=["languages"])
_lock = threading.Lock()


def translator(request: Request) -> tr.Translator | None:
    """The configured statement translator, or ``None`` (originals are shown with a note)."""
    state = request.app.state
    if getattr(state, "translator", None) is None and os.environ.get("PLURALIGN_WEB_LLM_CONFIG"):
        with _lock:
            if getattr(state, "translator", None) is None:
                from pluralign.llm.config import provider_settings_from_yaml
                from pluralign.llm.provider import open_provider

                config = provider_settings_from_yaml(os.environ["PLURALIGN_WEB_LLM_CONFIG"])
                state.translator = tr.Cooldown(tr.provider_translator(open_provider(config)))
    return getattr(state, "translator", None)


def _safe_next(url: str) -> str:
    """Only local paths: never an open redirect to another site."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@router.post("/lang")
def choose_language(request: Request, lang: str = Form(""), next: str = Form("/")):  # noqa: A002
    chosen = i18n.normalise(lang)
    if chosen is None:
        raise HTTPException(400, N_("unknown language %(lang)s", lang=repr(lang)))
    request.session["lang"] = chosen
    joined = {slug: key for slug, key in (request.session.get("p") or {}).items() if key}
    if joined:
        with request.app.state.store.session() as s:
            for slug, key in joined.items():  # keys are unique per assembly only
                in_assembly = select(Assembly.id).where(Assembly.slug == slug).scalar_subquery()
                s.execute(
                    update(Participant)
                    .where(Participant.assembly_id == in_assembly, Participant.key == key)
                    .values(language=chosen)
                )
    return RedirectResponse(_safe_next(next), status_code=303)


# ------------------------------------------------------------------ organisers


def _assembly(s, slug: str) -> Assembly:
    assembly = s.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        raise HTTPException(404, N_("no assembly '%(slug)s'", slug=slug))
    return assembly


def _target(lang: str) -> str:
    from pluralign.web.service import language_code

    return language_code(lang)


def _page(request: Request, slug: str, lang: str, notice: str | None = None, status: int = 200):
    with request.app.state.store.session() as s:
        assembly = _assembly(s, slug)
        rows = s.execute(
            select(Statement, StatementTranslation)
            .outerjoin(
                StatementTranslation,
                (StatementTranslation.statement_id == Statement.id)
                & (StatementTranslation.language == lang),
            )
            .where(Statement.assembly_id == assembly.id, Statement.moderation == ACCEPTED)
            .order_by(Statement.number)
        ).all()
        return render(
            request,
            "admin/translations.html",
            {
                "assembly": assembly,
                "target": lang,
                "rows": rows,
                "notice": notice,
                "translator": translator(request) is not None,
            },
            status=status,
        )


@router.get("/admin/a/{slug}/translations")
def translations_page(request: Request, slug: str, lang: str = "de", _=Depends(require_admin)):
    return _page(request, slug, _target(lang))


@router.post("/admin/a/{slug}/translations/all")
def translate_all(request: Request, slug: str, lang: str = Form(...), _=Depends(require_admin)):
    lang = _target(lang)
    translate = translator(request)
    if translate is None:
        raise HTTPException(
            400,
            N_("no language model is configured: set $PLURALIGN_WEB_LLM_CONFIG (docs/web.md)"),
        )
    with request.app.state.store.session() as s:
        counts = tr.translate_all(s, _assembly(s, slug).id, lang, translate)
    notice = i18n.gettext(
        "%(translated)s translated, %(kept)s kept, %(same)s already in that language, "
        "%(failed)s failed.",
        i18n.request_language(request),
        **counts,
    )
    return _page(request, slug, lang, notice)


@router.post("/admin/a/{slug}/translations/{number}")
def edit_translation(
    request: Request,
    slug: str,
    number: int,
    lang: str = Form(...),
    text: str = Form(""),
    _=Depends(require_admin),
):
    lang = _target(lang)
    with request.app.state.store.session() as s:
        tr.set_translation(s, _assembly(s, slug).id, number, lang, text)
    return RedirectResponse(f"/admin/a/{slug}/translations?lang={lang}#s{number}", status_code=303)
