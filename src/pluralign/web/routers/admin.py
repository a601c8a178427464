"""Organiser sign-in and the list of assemblies (``/admin``)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from pluralign.errors import N_, InputError
from pluralign.store.models import Assembly
from pluralign.web import i18n, security, service
from pluralign.web.deps import (
    NewAssemblyFields,
    current_user,
    render,
    require_admin,
    require_moderator,
)
from pluralign.web.models import AdminUser
from pluralign.web.security import hash_password, new_token, verify_password

router = APIRouter(prefix="/admin", tags=["admin"])
_DUMMY_HASH = None


def _safe_next(target: str) -> str:
    return target if target.startswith("/admin") and not target.startswith("//") else "/admin"


@router.get("/login")
def login_page(request: Request, next: str = "/admin"):  # noqa: A002
    return render(request, "admin/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/admin")
):  # noqa: A002
    global _DUMMY_HASH
    client = request.client.host if request.client else "?"
    if not request.app.state.login_limiter.allow(client):
        raise HTTPException(429, N_("too many sign-in attempts: wait a minute"))
    store = request.app.state.store
    with store.session() as s:
        blocked = security.login_blocked(s, username)
        user = s.scalar(select(AdminUser).where(AdminUser.username == username))
    if blocked:  # per account, in the database: other addresses or workers do not reset it
        raise HTTPException(
            429,
            N_(
                "too many failed sign-ins for this account: wait %(minutes)s minutes",
                minutes=int(security.LOGIN_WINDOW.total_seconds() // 60),
            ),
        )
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(new_token())
        verify_password(_DUMMY_HASH, password)  # same time whether or not the user exists
    if user is None or not user.active or not verify_password(user.password_hash, password):
        with store.session() as s:
            security.record_login_failure(s, username)
        return render(
            request,
            "admin/login.html",
            {
                "next": _safe_next(next),
                "error": i18n.text(
                    N_("wrong username or password"), i18n.request_language(request)
                ),
            },
            status=401,
        )
    hours = request.app.state.settings.admin_session_hours
    with store.session() as s:
        sid = security.start_admin_session(s, user, dt.timedelta(hours=hours))
    request.session.update(
        uid=user.id,
        uat=int(time.time()),
        uver=user.password_hash[-16:],
        sid=sid,
        csrf=new_token(18),  # new CSRF token after sign-in
    )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request):
    """Sign out: the server forgets the session, so a copy of the cookie is worthless too."""
    with request.app.state.store.session() as s:
        security.end_admin_session(s, request.session.get("sid"))
    for key in ("uid", "uat", "uver", "sid"):
        request.session.pop(key, None)
    return RedirectResponse("/admin/login", status_code=303)


@router.get("")
def assemblies(request: Request, user: AdminUser = Depends(require_moderator)):
    with request.app.state.store.session() as s:
        rows = s.scalars(select(Assembly).order_by(Assembly.created_at.desc())).all()
        listing = [(a, service.counts(s, a.id)) for a in rows]
    return render(request, "admin/assemblies.html", {"listing": listing})


@router.get("/new")
def new_page(request: Request, user: AdminUser = Depends(require_admin)):
    return render(request, "admin/new.html", {"error": None, "form": {}})


@router.post("/new")
def create(
    request: Request,
    fields: Annotated[NewAssemblyFields, Form()],
    user: AdminUser = Depends(require_admin),
):
    raw = {**fields.model_dump(), "seed_first": fields.seed_first == "yes"}
    try:
        form = fields.parse()
        with request.app.state.store.session() as s:
            assembly = service.create_assembly(s, fields.slug, form)
            slug = assembly.slug
    except InputError as exc:
        error = i18n.error_text(exc, i18n.request_language(request))
        return render(request, "admin/new.html", {"error": error, "form": raw}, status=400)
    return RedirectResponse(f"/admin/a/{slug}", status_code=303)


__all__ = ["router", "current_user"]
