"""Public evaluation as a feature: ``pluralign eval-public``, its web pages, its participant-menu
link and its tables, through the hooks of :mod:`pluralign.plugins`."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def register_commands(app):
    from pluralign.publiceval.cli import register

    register(app)


@hookimpl
def web_routers():
    from pluralign.publiceval.web import router

    return [router]


@hookimpl
def store_tables():
    import pluralign.publiceval.models

    return [pluralign.publiceval.models]


def _is_open(session, assembly_id: int) -> bool:
    from sqlalchemy import func, select

    from pluralign.publiceval.models import OPEN, PublicEval

    count = session.scalar(
        select(func.count())
        .select_from(PublicEval)
        .where(PublicEval.assembly_id == assembly_id, PublicEval.state == OPEN)
    )
    return bool(count)


@hookimpl
def participant_menu():
    """The menu's "Rate answers", while a public evaluation of the assembly is open."""
    from pluralign.errors import N_
    from pluralign.web.menu import MenuFeature, MenuLink

    return [MenuFeature("rating", (MenuLink("rate", "rate", N_("Rate answers")),), _is_open)]
