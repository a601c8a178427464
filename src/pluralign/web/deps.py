"""Request helpers shared by all routers: the store, templates, CSRF, who is asking.

A new router (e.g. the moral-graph pages) needs only these: ``render`` for pages, ``require_role``
or ``current_participant`` for authorisation, and forms that include ``{{ csrf_input() }}`` — the
CSRF check itself runs for every unsafe request of every router (an app-wide dependency).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from pydantic import BaseModel
from sqlalchemy import select

from pluralign.errors import N_
from pluralign.store.models import Assembly, Participant
from pluralign.web import i18n, menu
from pluralign.web.models import ADMIN, MODERATOR, AdminUser
from pluralign.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    admin_session_user,
    csrf_token,
    csrf_valid,
)

TEMPLATES = Path(__file__).parent / "templates"


class Redirect(Exception):  # noqa: N818  (control flow, turned into a 303 by the app)
    """Stop handling and send the browser elsewhere (303, or ``HX-Redirect`` for htmx)."""

    def __init__(self, url: str):
        self.url = url


def make_templates(lang: str = i18n.DEFAULT):
    """The Jinja environment of one language (gettext installed once; see ``web/i18n.py``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its extension
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.globals["lang"] = lang
    return env


def templates_for(app, lang: str):
    """The app's environment for ``lang`` (``app.state.templates`` is the English one)."""
    if lang == i18n.DEFAULT:
        return app.state.templates
    envs = getattr(app.state, "templates_by_lang", None)
    if envs is None:
        envs = app.state.templates_by_lang = {}
    env = envs.get(lang)
    if env is None:  # built once per language (a race only builds it twice)
        env = envs[lang] = make_templates(lang)
    return env


def store(request: Request):
    return request.app.state.store


def render(
    request: Request,
    name: str,
    context: dict | None = None,
    status: int = 200,
    headers: dict | None = None,
) -> HTMLResponse:
    """Render ``templates/<name>`` with the request, the CSRF helpers and the signed-in user."""
    token = csrf_token(request.session)
    ctx = {
        "request": request,
        "csrf_token": token,
        "csrf_input": lambda: Markup(
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'
        ),
        "user": getattr(request.state, "user", None),
        "htmx": request.headers.get("hx-request") == "true",
        "participant_menu": lambda assembly: menu.participant_menu(
            request.app.state.store, assembly, request.url.path
        ),
    }
    ctx.update(context or {})
    lang = i18n.request_language(request)
    html = templates_for(request.app, lang).get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status, headers=headers)


_FORM_KEY = "pluralign.url_form"
URLENCODED = "application/x-www-form-urlencoded"


async def url_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded request body (the last value of a repeated name, as
    Starlette's ``FormData.get``), parsed once per request with :func:`urllib.parse.parse_qsl`.

    Starlette's form parser (python-multipart, a callback per field event) costs more CPU than
    the rest of a vote; this is the vote path's reader. The body stays readable: a later
    ``await request.form()`` parses the same cached bytes. Empty for other content types.
    """
    cached = request.scope.get(_FORM_KEY)
    if cached is None:
        cached = {}
        if request.headers.get("content-type", "").startswith(URLENCODED):
            try:
                body = await request.body()
            except RuntimeError:  # FastAPI parsed it already (a route with Form() parameters)
                form = await request.form()
                cached = {k: v for k, v in form.items() if isinstance(v, str)}
            else:
                pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                cached = dict(pairs)
        request.scope[_FORM_KEY] = cached
    return cached


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: unsafe methods must carry this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(URLENCODED):
            sent = (await url_form(request)).get(CSRF_FIELD)
        elif ctype.startswith("multipart/form-data"):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not csrf_valid(request.session, sent):
        raise HTTPException(403, N_("missing or wrong CSRF token: reload the page and try again"))


# ------------------------------------------------------------------ organisers

ROLE_RANK = {MODERATOR: 1, ADMIN: 2}


def current_user(request: Request) -> AdminUser | None:
    uid = request.session.get("uid")
    if uid is None:
        return None
    max_age = request.app.state.settings.admin_session_hours * 3600
    if time.time() - request.session.get("uat", 0) > max_age:
        request.session.pop("uid", None)
        return None
    with request.app.state.store.session() as s:
        user = s.get(AdminUser, uid)
        live = admin_session_user(s, request.session.get("sid"))
    if (
        user is None
        or not user.active
        or live != user.id  # signed out (the server forgot the session) or never signed in
        or request.session.get("uver") != user.password_hash[-16:]
    ):
        request.session.pop("uid", None)
        return None
    request.state.user = user
    return user


def require_role(role: str):
    """Dependency factory: the signed-in organiser must have ``role`` (admin ⊃ moderator).

    Anonymous visitors (and participants) are sent to the login page; a moderator asking for an
    admin page gets 403.
    """

    def dependency(request: Request) -> AdminUser:
        user = current_user(request)
        if user is None:
            raise Redirect(f"/admin/login?next={request.url.path}")
        if ROLE_RANK.get(user.role, 0) < ROLE_RANK[role]:
            raise HTTPException(403, N_("this page needs the '%(role)s' role", role=role))
        return user

    dependency.required_role = role  # read by the route-walking test
    return dependency


require_moderator = require_role(MODERATOR)
require_admin = require_role(ADMIN)


# ------------------------------------------------------------------ participants


def participant_key(request: Request, slug: str) -> str | None:
    return (request.session.get("p") or {}).get(slug)


def remember_participant(request: Request, slug: str, key: str | None) -> None:
    joined = dict(request.session.get("p") or {})
    if key is None:
        joined.pop(slug, None)
    else:
        joined[slug] = key
    request.session["p"] = joined


async def joined(request: Request, slug: str) -> None:
    """Cheap check before any form parsing: this browser joined the assembly (the handler then
    loads the participant and sends stale cookies back to the consent page)."""
    if not participant_key(request, slug):
        raise Redirect(f"/a/{slug}")


JOINED = [Depends(joined)]
"""The dependency of every participant page after joining (the assembly's own and features')."""


def current_participant(request: Request, session, slug: str) -> tuple[Assembly, Participant]:
    """The assembly and this browser's participant in it, or a redirect to its consent page."""
    assembly = session.scalar(select(Assembly).where(Assembly.slug == slug))
    if assembly is None:
        raise HTTPException(404, N_("no assembly '%(slug)s'", slug=slug))
    key = participant_key(request, slug)
    participant = None
    if key:
        participant = session.scalar(
            select(Participant).where(
                Participant.assembly_id == assembly.id, Participant.key == key
            )
        )
    if participant is None:
        raise Redirect(f"/a/{slug}")
    request.state.language = participant.language  # pages answer in the participant's language
    return assembly, participant


class AssemblyFields(BaseModel):
    """The assembly settings form as posted, the same on the new-assembly page and the
    dashboard (a route takes it as ``Annotated[AssemblyFields, Form()]``). Text as typed:
    :meth:`parse` checks it."""

    topic: str = ""
    description: str = ""
    invite_only: str = ""
    closes_at: str = ""
    questions: str = ""
    min_votes: str = "7"
    max_statement_chars: str = ""
    seed_first: str = ""
    routing: str = ""

    def parse(self):
        """The checked settings (:func:`pluralign.web.setup.parse_assembly_form`); an
        :class:`~pluralign.errors.InputError` names the field at fault."""
        from pluralign.web.setup import parse_assembly_form

        return parse_assembly_form(
            self.topic,
            self.description,
            self.invite_only == "yes",
            self.closes_at,
            self.questions,
            self.min_votes,
            max_statement_chars=self.max_statement_chars,
            seed_first=self.seed_first == "yes",
            routing=self.routing,
        )


class NewAssemblyFields(AssemblyFields):
    """The new-assembly form: the settings and the assembly's slug."""

    slug: str = ""

