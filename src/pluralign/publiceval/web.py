"""Public-evaluation pages of the assembly web app.

Participants (``/a/<slug>/rate``): a prompt, a clause and two anonymised answers in the order
stored with the impression; they choose the one that better follows the clause, or neither.
Organisers (``/admin/a/<slug>/public-eval``): admins attach the two models, the prompts (JSONL
or CSV upload, or one per clause) and the clauses (the assembly's drafted constitution or an
uploaded ``constitution.yaml``), generate the answers, open or close the rating, and download
the results (``public_eval.json``) and the ratings as preference pairs (JSONL). Moderators see
the results only.

Set ``$PLURALIGN_WEB_LLM_CACHE`` to a folder to cache the generation requests on disk
(see docs/public_eval.md).
"""

from __future__ import annotations

import json
import os

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from pluralign.errors import N_, InputError, PluralignError
from pluralign.publiceval import results as pr
from pluralign.publiceval import service as svc
from pluralign.publiceval.models import (
    OPEN,
    PublicEvalClause,
    PublicEvalPrompt,
)
from pluralign.web import i18n, menu
from pluralign.web.deps import (
    JOINED,
    current_participant,
    render,
    require_admin,
    require_moderator,
)

participant_router = APIRouter(prefix="/a/{slug}", tags=["public evaluation"])
admin_router = APIRouter(prefix="/admin/a/{slug}/public-eval", tags=["public evaluation admin"])
MAX_UPLOAD = 5_000_000


def _store(request: Request):
    return request.app.state.store


def _limit(request: Request, participant_id: int) -> None:
    if not request.app.state.limiter.allow(participant_id):
        raise HTTPException(429, N_("too many requests: slow down a little and try again"))


# ------------------------------------------------------------------ participants


def _rate_page(request: Request, slug: str, status: int = 200, **extra):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        ev = svc.get_eval(s, assembly)
        ctx = {
            "assembly": assembly,
            "open": ev is not None and ev.state == OPEN,
            "impression": None,
            **extra,
        }
        if ctx["open"]:
            imp = svc.next_impression(s, ev, participant)
            if imp is not None:
                prompt, clause = (
                    s.get(PublicEvalPrompt, imp.prompt_id),
                    s.get(PublicEvalClause, imp.clause_id),
                )
                first, second = (
                    (prompt.answer_a, prompt.answer_b)
                    if imp.a_first
                    else (prompt.answer_b, prompt.answer_a)
                )
                ctx.update(
                    impression=imp.id,
                    prompt=prompt.text,
                    clause=clause.text,
                    first=first,
                    second=second,
                )
            ctx["rated"] = s.scalar(
                select(func.count()).where(
                    svc.PublicEvalImpression.participant_id == participant.id,
                    svc.PublicEvalImpression.choice.is_not(None),
                )
            )
        return render(request, "publiceval/rate.html", ctx, status=status)


@participant_router.get("/rate", dependencies=JOINED)
def rate_page(request: Request, slug: str):
    return _rate_page(request, slug)


@participant_router.post("/rate", dependencies=JOINED)
async def rate(request: Request, slug: str):
    """Record a choice. The impression id makes a retry idempotent (it never counts twice)."""
    form = await request.form()
    try:
        impression = int(str(form.get("impression", "")))
    except ValueError:
        raise InputError(
            N_("the comparison's id is missing"), where="impression", hint=N_("reload the page")
        ) from None
    position = str(form.get("choice", ""))
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        _limit(request, participant.id)
        ev = svc.get_eval(s, assembly)
        if ev is None or ev.state != OPEN:
            raise HTTPException(409, N_("the evaluation is not open"))
        choice, replayed = svc.record_choice(s, ev, participant, impression, position)
    if "application/json" in request.headers.get("accept", ""):
        from fastapi.responses import JSONResponse

        return JSONResponse({"impression": impression, "recorded": True, "replayed": replayed})
    return RedirectResponse(f"/a/{slug}/rate?thanks=1", status_code=303)


# ------------------------------------------------------------------ organisers


def _admin_page(
    request: Request,
    slug: str,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
):
    from pluralign.store.queries import get_assembly

    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        ev = svc.get_eval(s, assembly)
        prompts = clauses = []
        ready = 0
        if ev is not None:
            prompts = s.scalars(
                select(PublicEvalPrompt)
                .where(PublicEvalPrompt.eval_id == ev.id)
                .order_by(PublicEvalPrompt.id)
            ).all()
            clauses = s.scalars(
                select(PublicEvalClause)
                .where(PublicEvalClause.eval_id == ev.id)
                .order_by(PublicEvalClause.id)
            ).all()
            ready = sum(p.answer_a is not None and p.answer_b is not None for p in prompts)
        n = svc.n_ratings(s, ev) if ev is not None else 0
        ctx = {
            "assembly": assembly,
            "ev": ev,
            "prompts": prompts,
            "clauses": clauses,
            "ready": ready,
            "n_ratings": n,
            "error": error,
            "notice": notice,
            "errors": [p for p in prompts if p.error],
            "results": None,
        }
    if n:
        ctx["results"] = pr.results(_store(request), slug)
    return render(request, "publiceval/admin.html", ctx, status=status)


@admin_router.get("")
def admin_page(request: Request, slug: str, _user=Depends(require_moderator)):
    return _admin_page(request, slug)


async def _admin_action(request: Request, slug: str, action):
    """Run ``action(session, assembly, eval, form)`` as one transaction; input errors show on
    the page (status 400), nothing half-written."""
    from pluralign.store.queries import get_assembly

    form = await request.form()
    try:

        def run():
            with _store(request).session() as s:
                assembly = get_assembly(s, slug)
                return action(s, assembly, svc.get_eval(s, assembly, create=True), form)

        notice = await run_in_threadpool(run)
    except InputError as exc:
        text = i18n.error_text(exc, i18n.request_language(request))
        return _admin_page(request, slug, error=text, status=400)
    return _admin_page(request, slug, notice=notice)


@admin_router.post("/models")
async def admin_models(request: Request, slug: str, _user=Depends(require_admin)):
    def action(s, assembly, ev, form):
        a = svc.model_spec(
            str(form.get("a_base_url", "")),
            str(form.get("a_model", "")),
            str(form.get("a_api_key_env", "")),
        )
        b = svc.model_spec(
            str(form.get("b_base_url", "")),
            str(form.get("b_model", "")),
            str(form.get("b_api_key_env", "")),
        )
        try:
            tokens = int(str(form.get("answer_tokens") or 256))
        except ValueError:
            raise InputError(
                N_("answer tokens must be a whole number"), where="answer_tokens"
            ) from None
        svc.attach_models(s, ev, a, b, answer_tokens=tokens)
        return i18n.gettext("Models attached.", i18n.request_language(request))

    return await _admin_action(request, slug, action)


@admin_router.post("/prompts")
async def admin_prompts(request: Request, slug: str, _user=Depends(require_admin)):
    from pluralign.constitution.document import Clause

    def action(s, assembly, ev, form):
        upload = form.get("file")
        if str(form.get("source", "")) == "clauses":
            clauses = s.scalars(
                select(PublicEvalClause)
                .where(PublicEvalClause.eval_id == ev.id)
                .order_by(PublicEvalClause.id)
            ).all()
            if not clauses:
                raise InputError(N_("set the clauses first"), where="prompts")
            rows = svc.prompts_from_clauses([Clause(c.key, c.text) for c in clauses])
            n = svc.set_prompts(s, ev, rows, "clauses")
        else:
            if upload is None or not hasattr(upload, "file"):
                raise InputError(N_("choose a JSONL or CSV file of prompts"), where="file")
            data = upload.file.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                raise InputError(N_("the file is larger than 5 MB"), where=upload.filename)
            n = svc.set_prompts(
                s,
                ev,
                svc.parse_prompts(data, upload.filename or "prompts"),
                upload.filename or "upload",
            )
        return i18n.ngettext(
            "%(n)s prompt set.", "%(n)s prompts set.", n, i18n.request_language(request)
        )

    return await _admin_action(request, slug, action)


@admin_router.post("/clauses")
async def admin_clauses(request: Request, slug: str, _user=Depends(require_admin)):
    store = _store(request)

    def action(s, assembly, ev, form):
        upload = form.get("file")
        if upload is not None and hasattr(upload, "file") and upload.filename:
            text = upload.file.read(MAX_UPLOAD).decode("utf-8", errors="replace")
            clauses = svc.clauses_from_yaml(text, upload.filename)
            source = upload.filename
        else:
            clauses = svc.clauses_from_assembly(store, slug, svc.min_votes_of(assembly))
            source = "assembly constitution"
        n = svc.set_clauses(s, ev, clauses, source)
        return i18n.ngettext(
            "%(n)s clause set.", "%(n)s clauses set.", n, i18n.request_language(request)
        )

    return await _admin_action(request, slug, action)


@admin_router.post("/generate")
async def admin_generate(request: Request, slug: str, _user=Depends(require_admin)):
    try:
        res = await run_in_threadpool(
            svc.generate_answers, _store(request), slug, os.environ.get("PLURALIGN_WEB_LLM_CACHE")
        )
    except PluralignError as exc:
        text = i18n.error_text(exc, i18n.request_language(request))
        return _admin_page(request, slug, error=text, status=400)
    lang = i18n.request_language(request)
    if res["failed"]:
        note = i18n.ngettext(
            "%(n)s prompt answered by both models; %(failed)s failed (see below; generate again"
            " to retry).",
            "%(n)s prompts answered by both models; %(failed)s failed (see below; generate again"
            " to retry).",
            res["generated"],
            lang,
            failed=res["failed"],
        )
    else:
        note = i18n.ngettext(
            "%(n)s prompt answered by both models.",
            "%(n)s prompts answered by both models.",
            res["generated"],
            lang,
        )
    return _admin_page(request, slug, notice=note)


@admin_router.post("/state")
async def admin_state(request: Request, slug: str, _user=Depends(require_admin)):
    def action(s, assembly, ev, form):
        svc.set_state(ev, str(form.get("state", "")), ready=bool(svc.items(s, ev)))
        lang = i18n.request_language(request)
        return i18n.gettext(
            "The evaluation is %(state)s.", lang, state=i18n.gettext(ev.state, lang)
        )

    page = await _admin_action(request, slug, action)
    menu.forget(_store(request))  # "Rate answers" shows only while the evaluation is open
    return page


@admin_router.get("/public_eval.json")
def admin_results(request: Request, slug: str, _user=Depends(require_moderator)):
    doc = pr.results(_store(request), slug)
    return Response(
        json.dumps(doc, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{slug}-public_eval.json"'},
    )


@admin_router.get("/pairs.jsonl")
def admin_export(request: Request, slug: str, _user=Depends(require_admin)):
    from pluralign.data.preferences import HEADER_KEY, dumps_pairs

    pairs, prov = pr.preference_pairs(_store(request), slug)
    body = json.dumps({HEADER_KEY: prov}, ensure_ascii=False) + "\n" + dumps_pairs(pairs)
    return Response(
        body,
        media_type="application/jsonl",
        headers={"content-disposition": f'attachment; filename="{slug}-public-eval-pairs.jsonl"'},
    )


router = APIRouter()
router.include_router(participant_router)
router.include_router(admin_router)
