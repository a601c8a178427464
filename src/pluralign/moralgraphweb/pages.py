"""Moral-graph pages of the assembly web app (a feature: :mod:`pluralign.moralgraphweb`).

Participants (``/a/<slug>/values``): pick a case, articulate a value in a guided chat (when a
language model is configured) or write the card directly, edit and confirm it; then judge upgrade
stories (``/a/<slug>/upgrades``). Organisers (``/admin/a/<slug>/moralgraph``): contexts and cases,
the graph per context (values sized by PageRank, arrows towards wiser values, counts on hover),
winners, and the Democratic Fine-Tuning JSON export.

The chat uses ``app.state.values_chat`` (a ``chat(messages) -> text`` function) when set, else the
provider described by the YAML file in ``$PLURALIGN_WEB_LLM_CONFIG`` (see docs/llm.md); without
either, participants get the card form only. The chat transcript travels in a hidden form field
(no server-side chat state) and is stored with the confirmed card.
"""

from __future__ import annotations

import json
import os

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from pluralign.errors import N_, InputError
from pluralign.moralgraph import service as mg
from pluralign.moralgraph.dialogue import Dialogue, card_from_form
from pluralign.moralgraph.models import MoralCase, MoralContext, ValuesCardRow
from pluralign.web import i18n, menu, service
from pluralign.web.deps import (
    JOINED,
    current_participant,
    render,
    require_admin,
    require_moderator,
)

participant_router = APIRouter(prefix="/a/{slug}", tags=["moral graph"])
admin_router = APIRouter(prefix="/admin/a/{slug}/moralgraph", tags=["moral graph admin"])
MAX_MESSAGES, MAX_CHARS = 40, 4000


def _store(request: Request):
    return request.app.state.store


def values_chat(request: Request):
    """The configured chat function, or ``None`` (form only)."""
    state = request.app.state
    if getattr(state, "values_chat", None) is None and os.environ.get("PLURALIGN_WEB_LLM_CONFIG"):
        from pluralign.llm.config import provider_settings_from_yaml
        from pluralign.llm.provider import open_provider
        from pluralign.moralgraph.dialogue import provider_chat

        path = os.environ["PLURALIGN_WEB_LLM_CONFIG"]
        state.values_chat = provider_chat(open_provider(provider_settings_from_yaml(path)))
    return getattr(state, "values_chat", None)


def _lang(request: Request) -> str:
    """The page language (messages: ``i18n.gettext``, catalogue src/pluralign/web/locale)."""
    return i18n.request_language(request)


def _limit(request: Request, participant_id: int) -> None:
    if not request.app.state.limiter.allow(participant_id):
        raise HTTPException(429, N_("too many requests: slow down a little and try again"))


def _transcript(text: str) -> list[dict[str, str]]:
    """The hidden transcript field, validated (roles, sizes)."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(N_("the chat transcript is damaged"), where="transcript",
                         hint=N_("reload the page and start the chat again")) from exc
    if (not isinstance(data, list) or len(data) > MAX_MESSAGES
            or not all(isinstance(m, dict) and m.get("role") in ("user", "assistant")
                       and isinstance(m.get("content"), str) and len(m["content"]) <= MAX_CHARS
                       for m in data)):
        raise InputError(N_("the chat transcript is damaged or too long"), where="transcript",
                         hint=N_("finish with the card form below"))
    return [{"role": m["role"], "content": m["content"]} for m in data]


def _require_open(assembly) -> None:
    """Cards and judgments are input like votes: refused once the assembly is closed."""
    if not service.is_open(assembly):
        raise InputError(N_("this assembly is closed"), hint=N_("ask the organisers when it opens"))


def _case(s, assembly_id: int, case_id: int) -> MoralCase:
    case = s.get(MoralCase, case_id)
    if case is None or case.assembly_id != assembly_id:
        raise HTTPException(404, N_("no case %(case)s in this assembly", case=case_id))
    return case


# ------------------------------------------------------------------ participants


@participant_router.get("/values", dependencies=JOINED)
def values_home(request: Request, slug: str, saved: int = 0):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        cases = s.scalars(select(MoralCase).where(MoralCase.assembly_id == assembly.id)
                          .order_by(MoralCase.id)).all()
        mine = s.scalars(select(ValuesCardRow).where(ValuesCardRow.author_id == participant.id)
                         .order_by(ValuesCardRow.id)).all()
        return render(request, "moralgraph/values.html", {
            "assembly": assembly, "cases": cases, "mine": mine, "saved": bool(saved),
            "open": service.is_open(assembly)})


def _articulate(request: Request, s, assembly, case, *, transcript=None, card=None,
                error=None, notice=None, status=200):
    return render(request, "moralgraph/articulate.html", {
        "assembly": assembly, "case": case, "contexts": case.contexts,
        "open": service.is_open(assembly),
        "chat_enabled": values_chat(request) is not None,
        "transcript": transcript or [], "transcript_json": json.dumps(transcript or []),
        "card": card, "error": error, "notice": notice}, status=status)


@participant_router.get("/values/case/{case_id}", dependencies=JOINED)
def articulate_page(request: Request, slug: str, case_id: int):
    with _store(request).session() as s:
        assembly, _ = current_participant(request, s, slug)
        return _articulate(request, s, assembly, _case(s, assembly.id, case_id))


@participant_router.post("/values/case/{case_id}/chat", dependencies=JOINED)
async def articulate_chat(request: Request, slug: str, case_id: int):
    form = await request.form()
    chat = values_chat(request)
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        _require_open(assembly)
        _limit(request, participant.id)
        case = _case(s, assembly.id, case_id)
        transcript = _transcript(str(form.get("transcript", "")))
        if chat is None:
            return _articulate(request, s, assembly, case, transcript=transcript,
                               error=i18n.gettext("The guided chat is not available: "
                                                    "write your card below.", _lang(request)))
        dialogue = Dialogue(prompt=case.prompt, context=", ".join(c.description or c.key
                                                                  for c in case.contexts),
                            messages=transcript)
        if str(form.get("action", "")) == "card":
            card = dialogue.propose_card(chat)
            notice = (i18n.gettext("Here is a draft: edit it until it fits, then confirm.",
                                   _lang(request))
                      if card else
                      i18n.gettext("The assistant could not draft a card: please write it.",
                                   _lang(request)))
            return _articulate(request, s, assembly, case, transcript=transcript, card=card,
                               notice=notice)
        try:
            message = service.check_text(str(form.get("message", "")), N_("text"),
                                         multiline=True)
            dialogue.reply(message, chat)
        except InputError as exc:
            return _articulate(request, s, assembly, case, transcript=transcript,
                               error=i18n.text(exc.message, _lang(request)), status=400)
        return _articulate(request, s, assembly, case, transcript=dialogue.messages)


@participant_router.post("/values/case/{case_id}/card", dependencies=JOINED)
async def articulate_card(request: Request, slug: str, case_id: int):
    form = await request.form()
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        _require_open(assembly)
        _limit(request, participant.id)
        case = _case(s, assembly.id, case_id)
        transcript = _transcript(str(form.get("transcript", "")))
        context = str(form.get("context", "")) or (case.contexts[0].key if case.contexts else "")
        if context and context not in {c.key for c in case.contexts}:
            raise InputError(N_("the context %(context)s is not one of this case's",
                                 context=repr(context)), where="context")
        try:
            card = card_from_form(
                service.check_text(str(form.get("title", "")), N_("title")),
                service.check_text(str(form.get("description", "")), N_("description"),
                                   multiline=True),
                service.check_text(str(form.get("policies", "")), N_("policies"),
                                   multiline=True))
        except InputError as exc:
            draft = {"title": form.get("title", ""), "description": form.get("description", ""),
                     "policies": str(form.get("policies", "")).splitlines()}
            return _articulate(request, s, assembly, case, transcript=transcript, card=draft,
                               error=i18n.error_text(exc, _lang(request), with_hint=False),
                               status=400)
        row = mg.submit_card(s, assembly.id, card, participant_id=participant.id,
                             context_key=context or None, case_id=case.id, dialogue=transcript)
        row.language = participant.language  # the card is written in the author's language
    return RedirectResponse(f"/a/{slug}/values?saved=1", status_code=303)


@participant_router.get("/upgrades", dependencies=JOINED)
def upgrades_page(request: Request, slug: str):
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        is_open = service.is_open(assembly)
        story = mg.next_story(s, assembly.id, participant.id) if is_open else None
        return render(request, "moralgraph/upgrades.html", {"assembly": assembly,
                                                           "story": story, "open": is_open})


@participant_router.post("/upgrades", dependencies=JOINED)
async def upgrades_answer(request: Request, slug: str):
    form = await request.form()
    try:
        from_id, to_id = int(form.get("from_id", "")), int(form.get("to_id", ""))
        context_id = int(form.get("context_id", ""))
    except ValueError as exc:
        raise InputError(N_("the story's ids are missing"), where="form",
                         hint=N_("reload the page")) from exc
    with _store(request).session() as s:
        assembly, participant = current_participant(request, s, slug)
        _require_open(assembly)
        _limit(request, participant.id)
        if not mg.was_shown(s, participant.id, from_id, to_id, context_id):
            raise InputError(N_("this story was not shown to you"), where="form",
                             hint=N_("reload the page"))
        # the story text is written here from the stored cards, never taken from the form
        mg.answer_story(s, assembly.id, participant.id, from_id, to_id, context_id,
                        str(form.get("relationship", "")))
    return RedirectResponse(f"/a/{slug}/upgrades", status_code=303)


# ------------------------------------------------------------------ organisers


def _admin_page(request: Request, slug: str, context: str | None = None, error: str | None = None,
                status: int = 200):
    from pluralign.moralgraph.render import context_svg
    from pluralign.store.queries import get_assembly

    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        contexts = s.scalars(select(MoralContext).where(MoralContext.assembly_id == assembly.id)
                             .order_by(MoralContext.id)).all()
        cases = s.scalars(select(MoralCase).where(MoralCase.assembly_id == assembly.id)
                          .order_by(MoralCase.id)).all()
        graph = mg.assembly_graph(s, assembly.id)
        n_cards = len(graph.values)
        from pluralign.store.models import Participant

        cards = s.execute(
            select(ValuesCardRow, MoralContext.key, Participant.number)
            .outerjoin(MoralContext, MoralContext.id == ValuesCardRow.context_id)
            .outerjoin(Participant, Participant.id == ValuesCardRow.author_id)
            .where(ValuesCardRow.assembly_id == assembly.id).order_by(ValuesCardRow.id)).all()
        winners = [(c, graph.values[w].title if w in graph.values else w,
                    graph.context_page_rank[c][w])
                   for c, w in graph.winners.items() if w is not None]
        if context is not None and context not in graph.winners:
            context = None
        return render(request, "moralgraph/admin.html", {
            "assembly": assembly, "contexts": contexts, "cases": cases, "graph": graph,
            "n_cards": n_cards, "winners": winners, "selected": context, "cards": cards,
            "page_rank": graph.page_rank,
            "svg": context_svg(graph, context, width=640,
                               empty=i18n.gettext("No edge passes the thresholds yet.",
                                                  _lang(request))),
            "error": error}, status=status)


@admin_router.get("")
def admin_page(request: Request, slug: str, context: str | None = None,
               _user=Depends(require_moderator)):
    return _admin_page(request, slug, context)


@admin_router.post("/contexts")
async def admin_add_context(request: Request, slug: str, _user=Depends(require_admin)):
    from pluralign.store.queries import get_assembly

    form = await request.form()
    try:
        with _store(request).session() as s:
            mg.add_context(s, get_assembly(s, slug).id, str(form.get("key", "")),
                           str(form.get("description", "")))
    except InputError as exc:
        return _admin_page(request, slug, error=i18n.error_text(exc, _lang(request),
                                                                with_hint=False), status=400)
    return RedirectResponse(f"/admin/a/{slug}/moralgraph", status_code=303)


@admin_router.post("/cases")
async def admin_add_case(request: Request, slug: str, _user=Depends(require_admin)):
    from pluralign.store.queries import get_assembly

    form = await request.form()
    try:
        with _store(request).session() as s:
            mg.add_case(s, get_assembly(s, slug).id, str(form.get("key", "")),
                        str(form.get("title", "")), str(form.get("prompt", "")),
                        [str(v) for v in form.getlist("contexts")])
        menu.forget(_store(request))  # participants now see "Values"
    except InputError as exc:
        return _admin_page(request, slug, error=i18n.error_text(exc, _lang(request),
                                                                with_hint=False), status=400)
    return RedirectResponse(f"/admin/a/{slug}/moralgraph", status_code=303)


@admin_router.get("/graph.json")
def admin_export(request: Request, slug: str, _user=Depends(require_admin)):
    from pluralign import __version__
    from pluralign.moralgraph.dftjson import document_to_json, to_document
    from pluralign.store.queries import get_assembly

    with _store(request).session() as s:
        graph = mg.assembly_graph(s, get_assembly(s, slug).id)
    doc = to_document(graph, all_edges=True, provenance={
        "assembly": slug, "codeVersion": __version__, "settings": graph.config.as_dict()})
    body = json.dumps(document_to_json(doc), indent=1, ensure_ascii=False)
    return Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="{slug}-moral-graph.json"'})


router = APIRouter()
router.include_router(participant_router)
router.include_router(admin_router)
