"""One assembly's organiser pages (``/admin/a/<slug>``): dashboard with live counts, settings,
seed statements, invitations, moderation, results, exports, open/close.

Moderators may view the dashboard and results and moderate; everything that changes the set-up,
opens/closes or exports needs an admin.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from pluralign.errors import N_, InputError
from pluralign.store.models import PENDING, Statement
from pluralign.store.queries import get_assembly
from pluralign.web import i18n, routing, service
from pluralign.web import results as results_mod
from pluralign.web.deps import AssemblyFields, render, require_admin, require_moderator
from pluralign.web.models import AdminUser
from pluralign.web.routers.participant import PALETTE, map_points

router = APIRouter(prefix="/admin/a/{slug}", tags=["admin"])


def _store(request: Request):
    return request.app.state.store


def _dashboard(
    request: Request,
    slug: str,
    *,
    error: str | None = None,
    invites: list[str] | None = None,
    notice: str | None = None,
    status: int = 200,
):
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        ctx = {
            "assembly": assembly,
            "counts": service.counts(s, assembly.id),
            "is_open": service.is_open(assembly),
            "error": error,
            "notice": notice,
            "invites": invites or [],
            # the configured public address (--public-url), never the request's Host header
            "base_url": request.app.state.settings.public_url,
            "form": {
                "topic": assembly.topic,
                "description": assembly.description,
                "invite_only": assembly.invite_only,
                "closes_at": assembly.closes_at.strftime("%Y-%m-%dT%H:%M")
                if assembly.closes_at
                else "",
                "questions": service.questions_text((assembly.settings or {}).get("questions", [])),
                "min_votes": (assembly.settings or {}).get("min_votes", service.DEFAULT_MIN_VOTES),
                "max_statement_chars": service.max_statement_chars(assembly),
                "seed_first": (assembly.settings or {}).get("seed_first", False),
                "routing": (assembly.settings or {}).get("routing", routing.DEFAULT_POLICY),
            },
        }
    return render(request, "admin/dashboard.html", ctx, status=status)


def _refused(request: Request, slug: str, exc: InputError):
    """The dashboard again with the reason a form was refused, in the reader's language."""
    return _dashboard(
        request, slug, error=i18n.error_text(exc, i18n.request_language(request)), status=400
    )


@router.get("")
def dashboard(request: Request, slug: str, user: AdminUser = Depends(require_moderator)):
    return _dashboard(request, slug)


@router.get("/counts")
def live_counts(request: Request, slug: str, user: AdminUser = Depends(require_moderator)):
    """The counts fragment the dashboard polls every few seconds (htmx)."""
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        return render(request, "admin/_counts.html", {"counts": service.counts(s, assembly.id)})


@router.post("/settings")
def save_settings(
    request: Request,
    slug: str,
    fields: Annotated[AssemblyFields, Form()],
    user: AdminUser = Depends(require_admin),
):
    try:
        form = fields.parse()
        with _store(request).session() as s:
            service.configure_assembly(get_assembly(s, slug), form)
    except InputError as exc:
        return _refused(request, slug, exc)
    return _dashboard(
        request, slug, notice=i18n.gettext("settings saved", i18n.request_language(request))
    )


@router.post("/seed")
async def upload_seed(
    request: Request,
    slug: str,
    user: AdminUser = Depends(require_admin),
    file: UploadFile = File(...),
    language: str = Form("en"),
):
    data = await file.read()
    try:
        with _store(request).session() as s:
            assembly = get_assembly(s, slug)
            texts = service.parse_seed_csv(
                data, file.filename or "seed.csv", service.max_statement_chars(assembly)
            )
            added = service.add_seed_statements(
                s, assembly, texts, language=service.language_code(language)
            )
    except InputError as exc:
        return _refused(request, slug, exc)
    return _dashboard(
        request,
        slug,
        notice=i18n.ngettext(
            "%(n)s seed statement added",
            "%(n)s seed statements added",
            added,
            i18n.request_language(request),
        ),
    )


@router.post("/invites")
def invites(
    request: Request, slug: str, user: AdminUser = Depends(require_admin), count: int = Form(10)
):
    try:
        with _store(request).session() as s:
            tokens = service.create_invites(s, get_assembly(s, slug), count)
    except InputError as exc:
        return _refused(request, slug, exc)
    return _dashboard(
        request,
        slug,
        invites=tokens,
        notice=i18n.ngettext(
            "%(n)s invitation created: copy the link now, it is shown only once",
            "%(n)s invitations created: copy the links now, they are shown only once",
            len(tokens),
            i18n.request_language(request),
        ),
    )


@router.post("/state")
def set_state(
    request: Request, slug: str, user: AdminUser = Depends(require_admin), state: str = Form("")
):
    with _store(request).session() as s:
        service.set_state(get_assembly(s, slug), state)
    return RedirectResponse(f"/admin/a/{slug}", status_code=303)


@router.get("/moderation")
def moderation(request: Request, slug: str, user: AdminUser = Depends(require_moderator)):
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        pending = s.scalars(
            select(Statement)
            .where(Statement.assembly_id == assembly.id, Statement.moderation == PENDING)
            .order_by(Statement.number)
        ).all()
        recent = s.scalars(
            select(Statement)
            .where(Statement.assembly_id == assembly.id, Statement.moderation != PENDING)
            .order_by(Statement.number.desc())
            .limit(50)
        ).all()
        decided = service.last_decisions(s, assembly.id, [st.id for st in recent])
        return render(
            request,
            "admin/moderation.html",
            {"assembly": assembly, "pending": pending, "recent": recent, "decided": decided},
        )


@router.post("/statements/{number}/moderate")
def moderate(
    request: Request,
    slug: str,
    number: int,
    user: AdminUser = Depends(require_moderator),
    decision: str = Form(""),
):
    with _store(request).session() as s:
        st = service.moderate(s, get_assembly(s, slug), number, decision, user=user)
        if request.headers.get("hx-request") == "true":
            return render(request, "admin/_moderated.html", {"st": st})
    return RedirectResponse(f"/admin/a/{slug}/moderation", status_code=303)


@router.get("/moderation/log.csv")
def moderation_log(request: Request, slug: str, user: AdminUser = Depends(require_admin)):
    """Every moderation decision: when, which statement, who, the decision and the one
    before (CSV, oldest first)."""
    with _store(request).session() as s:
        body = service.moderation_log_csv(s, get_assembly(s, slug))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{slug}-moderation-log.csv"'},
    )


@router.get("/results")
def results(request: Request, slug: str, user: AdminUser = Depends(require_moderator)):
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
    min_votes = int((assembly.settings or {}).get("min_votes", service.DEFAULT_MIN_VOTES))
    res = results_mod.opinion_groups(_store(request), slug, min_votes=min_votes)
    return render(
        request,
        "admin/results.html",
        {"assembly": assembly, "res": res, "points": map_points(res, None), "palette": PALETTE},
    )


@router.get("/export/polis.zip")
def export_polis(request: Request, slug: str, user: AdminUser = Depends(require_admin)):
    """The Polis export CSVs (pseudonymous participant numbers only) in one zip."""
    with _store(request).session() as s:
        get_assembly(s, slug)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        files = results_mod.export_polis(_store(request), slug, Path(tmp))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, arcname=f"{slug}/{Path(f).name}")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{slug}-polis.zip"'},
    )


@router.get("/export/constitution.{fmt}")
def export_constitution(
    request: Request, slug: str, fmt: str, user: AdminUser = Depends(require_admin)
):
    """The draft constitution as Markdown (to read) or YAML (with provenance, for the next
    stages: ``pluralign constitution``, preference data)."""
    if fmt not in ("md", "yaml"):
        raise HTTPException(404, N_("the constitution exports are .md and .yaml"))
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
    min_votes = int((assembly.settings or {}).get("min_votes", service.DEFAULT_MIN_VOTES))
    text = results_mod.draft_constitution(
        _store(request),
        slug,
        min_votes=min_votes,
        fmt=fmt,
        embedder=request.app.state.settings.constitution_embedder,
    )
    media = "text/markdown" if fmt == "md" else "application/yaml"
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{slug}-constitution.{fmt}"'},
    )
