"""Participant pages under ``/a/<slug>``: consent and join, questions, vote, propose, opinion
map, withdraw. Every page works without JavaScript; htmx only swaps the statement card."""

from __future__ import annotations

import functools
import uuid

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from pluralign.errors import N_, InputError
from pluralign.store.models import Statement
from pluralign.web import i18n, routing, service, translate, votes
from pluralign.web import results as results_mod
from pluralign.web.deps import (
    JOINED,
    Redirect,
    current_participant,
    participant_key,
    remember_participant,
    render,
    url_form,
)
from pluralign.web.routers.languages import translator

router = APIRouter(prefix="/a/{slug}", tags=["participant"])
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")  # Okabe-Ito


def _store(request: Request):
    return request.app.state.store


def _limit(request: Request, participant_id: int) -> None:
    if not request.app.state.limiter.allow(participant_id):
        raise HTTPException(429, N_("too many requests: slow down a little and try again"))


def _min_votes(assembly) -> int:
    return int((assembly.settings or {}).get("min_votes", service.DEFAULT_MIN_VOTES))


@router.get("")
def welcome(request: Request, slug: str, invite: str = ""):
    """The consent page: what is collected, how it is used, how to withdraw; then join."""
    with _store(request).session() as s:
        assembly = service.get_open_assembly(s, slug)
        joined = False
        try:
            current_participant(request, s, slug)
            joined = True
        except Redirect:
            pass
        return render(
            request,
            "participant/welcome.html",
            {
                "assembly": assembly,
                "invite": invite,
                "joined": joined,
                "open": service.is_open(assembly),
                "questions": (assembly.settings or {}).get("questions", []),
            },
        )


@router.post("/join")
def join(request: Request, slug: str, invite: str = Form(""), consent: str = Form("")):
    if consent != "yes":
        raise HTTPException(400, N_("please tick the consent box to take part"))
    with _store(request).session() as s:
        assembly = service.get_open_assembly(s, slug)
        try:
            current_participant(request, s, slug)
            return RedirectResponse(f"/a/{slug}/vote", status_code=303)
        except Redirect:
            pass
        participant = service.join(s, assembly, invite or None)
        participant.language = i18n.request_language(request)  # Accept-Language or the picker
        remember_participant(request, slug, participant.key)
        target = "about-you" if service.needs_demographics(assembly, participant) else "vote"
    return RedirectResponse(f"/a/{slug}/{target}", status_code=303)


@router.get("/about-you", dependencies=JOINED)
def about_you(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        return render(
            request,
            "participant/about_you.html",
            {
                "assembly": assembly,
                "questions": (assembly.settings or {}).get("questions", []),
                "answers": participant.demographics or {},
            },
        )


@router.post("/about-you", dependencies=JOINED)
async def about_you_save(request: Request, slug: str):
    form = await request.form()
    answers = {k: v for k, v in form.items() if isinstance(v, str)}
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        service.save_demographics(
            participant, (assembly.settings or {}).get("questions", []), answers
        )
    return RedirectResponse(f"/a/{slug}/vote", status_code=303)


def _routing_inputs(request: Request, s, assembly) -> dict:
    """What the assembly's routing policy weighs from the latest opinion groups (refreshed in
    the background; nothing while too few votes could form groups): the statements'
    separation (priority) or the groups' model (gain)."""
    policy = (assembly.settings or {}).get("routing", routing.DEFAULT_POLICY)
    if policy == routing.RANDOM:
        return {}
    _statements, counts = votes.STATEMENTS.get(s, assembly.id)
    needed = _min_votes(assembly)
    if sum(map(sum, counts.values())) < 4 * needed:  # too few votes for two groups of two
        return {}
    hit = results_mod.routing_results(_store(request), assembly.slug, min_votes=needed)
    if hit is None:
        return {}
    if policy == routing.GAIN:
        return {"model": hit.routing_model}
    return {"separation": hit.separation}


def _card_context(request: Request, s, assembly, participant, flash: str | None = None) -> dict:
    settings = assembly.settings or {}
    nxt = service.next_statement(
        s,
        assembly.id,
        participant.id,
        policy=settings.get("routing", routing.DEFAULT_POLICY),
        seed_first=bool(settings.get("seed_first", False)),
        **_routing_inputs(request, s, assembly),
    )
    shown = None
    if nxt is not None:  # the text in the participant's language; the form keeps the number
        original = s.scalar(
            select(Statement).where(
                Statement.assembly_id == assembly.id, Statement.number == nxt.number
            )
        )
        shown = translate.shown_text(s, original, participant.language, translator(request))
    return {
        "assembly": assembly,
        "statement": nxt,
        "shown": shown,
        "request_id": uuid.uuid4().hex,
        "open": service.is_open(assembly),
        "flash": flash,
        "voted": service.participant_vote_count(s, participant.id),
        "min_votes": _min_votes(assembly),
    }


@router.get("/vote", dependencies=JOINED)
def vote_page(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        if service.needs_demographics(assembly, participant):
            raise Redirect(f"/a/{slug}/about-you")
        return render(
            request, "participant/vote.html", _card_context(request, s, assembly, participant)
        )


async def _vote_form(request: Request) -> tuple[int, int, str]:
    """The vote fields, parsed by hand: this is the hottest route, and FastAPI's per-field
    validation costs more CPU than the rest of the request."""
    form = await url_form(request)  # parsed once: the CSRF check may have read it already
    if not form and "multipart/form-data" in request.headers.get("content-type", ""):
        form = await request.form()
    try:
        return int(form["statement"]), int(form["value"]), str(form["request_id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(
            N_("a vote needs whole numbers 'statement' and 'value' and a 'request_id'"),
            where=N_("vote form"),
        ) from exc


@router.post("/vote", dependencies=JOINED)
async def vote(request: Request, slug: str):
    """Record a vote. Retrying with the same ``request_id`` never counts twice. Answers with the
    next statement card (htmx), JSON (``Accept: application/json``) or a redirect.

    The hot path: validation from per-process caches (the database only on a miss, in the
    thread pool), then the vote goes to the app's :class:`~pluralign.web.votes.VoteWriter`
    (group commit); the answer is sent after the vote's transaction committed.
    """
    statement, value, request_id = await _vote_form(request)
    store = _store(request)
    key = participant_key(request, slug)
    args = (store, slug, key, statement, value, request_id)
    try:
        try:
            prepared = votes.prepare_vote(*args, allow_db=False)
        except votes.CacheMiss:
            prepared = await run_in_threadpool(
                functools.partial(votes.prepare_vote, *args, allow_db=True)
            )
    except LookupError:
        raise Redirect(f"/a/{slug}") from None
    except votes.NeedsAnswers:
        raise Redirect(f"/a/{slug}/about-you") from None
    _limit(request, prepared.values["participant_id"])
    try:
        vote_id, statement_id, stored_value, replayed = await request.app.state.writer.submit(
            prepared
        )
    except IntegrityError:  # the participant withdrew (in another tab or worker) meanwhile
        votes.forget_voter(str(store.engine.url), slug, key)
        raise Redirect(f"/a/{slug}") from None
    if "application/json" in request.headers.get("accept", ""):
        number = statement if statement_id == prepared.statement_id else None
        return JSONResponse(
            {"vote_id": vote_id, "statement": number, "value": stored_value, "replayed": replayed}
        )
    if request.headers.get("hx-request") == "true":
        return await run_in_threadpool(_next_card, request, slug)
    return RedirectResponse(f"/a/{slug}/vote", status_code=303)


def _next_card(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        return render(
            request, "participant/_card.html", _card_context(request, s, assembly, participant)
        )


@router.get("/propose", dependencies=JOINED)
def propose_page(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, _participant = current_participant(request, s, slug)
        return render(
            request,
            "participant/propose.html",
            {"assembly": assembly, "max_chars": service.max_statement_chars(assembly)},
        )


@router.post("/propose", dependencies=JOINED)
def propose(request: Request, slug: str, text: str = Form("")):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        _limit(request, participant.id)
        proposed = service.propose(s, assembly, participant, text)
        proposed.language = participant.language  # written in the proposer's page language
        return render(
            request,
            "participant/propose.html",
            {
                "assembly": assembly,
                "max_chars": service.max_statement_chars(assembly),
                "sent": True,
            },
        )


def map_points(res: results_mod.Results, me: int | None, size: int = 300) -> list[dict]:
    """Participants' 2-D positions scaled into an SVG box, with group colour and 'you'."""
    if not res.coords:
        return []
    xs = [c[0] for c in res.coords]
    ys = [c[1] for c in res.coords]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    pad = 14
    points = []
    for number, (x, y), g in zip(res.participants, res.coords, res.labels, strict=True):
        points.append(
            {
                "x": round(pad + (x - min(xs)) / span_x * (size - 2 * pad), 1),
                "y": round(pad + (y - min(ys)) / span_y * (size - 2 * pad), 1),
                "group": g,
                "color": PALETTE[g % len(PALETTE)],
                "me": number == me,
            }
        )
    points.sort(key=lambda p: p["me"])  # draw "you" last, on top
    return points


@router.get("/map", dependencies=JOINED)
def opinion_map(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        voted = service.participant_vote_count(s, participant.id)
        number = participant.number
    needed = _min_votes(assembly)
    ctx = {"assembly": assembly, "voted": voted, "needed": needed, "res": None}
    if voted >= needed:
        res = results_mod.opinion_groups(_store(request), slug, min_votes=needed)
        ctx.update(
            res=res, points=map_points(res, number), my_group=res.group_of(number), palette=PALETTE
        )
    return render(request, "participant/map.html", ctx)


@router.get("/withdraw", dependencies=JOINED)
def withdraw_page(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        return render(
            request,
            "participant/withdraw.html",
            {"assembly": assembly, "voted": service.participant_vote_count(s, participant.id)},
        )


@router.post("/withdraw", dependencies=JOINED)
def withdraw(request: Request, slug: str, confirm: str = Form("")):
    if confirm != "yes":
        raise HTTPException(400, N_("tick the box to confirm that you want to delete your data"))
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        deleted = service.withdraw(s, participant)
        votes.forget_voter(str(_store(request).engine.url), slug, participant.key)
        remember_participant(request, slug, None)
        return render(
            request, "participant/withdrawn.html", {"assembly": assembly, "deleted": deleted}
        )
