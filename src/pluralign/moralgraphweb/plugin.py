"""The moral graph's web pages as a feature: its routers and its participant-menu links, through
the hooks of :mod:`pluralign.plugins` (its CLI group and tables are the stage's,
:mod:`pluralign.moralgraph.plugin`)."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def web_routers():
    from pluralign.moralgraphweb.pages import router

    return [router]


def _has_cases(session, assembly_id: int) -> bool:
    from sqlalchemy import func, select

    from pluralign.moralgraph.models import MoralCase

    count = session.scalar(
        select(func.count()).select_from(MoralCase).where(MoralCase.assembly_id == assembly_id)
    )
    return bool(count)


@hookimpl
def participant_menu():
    """The menu's "Values" and "Wisdom upgrades", once the organisers added at least one case."""
    from pluralign.errors import N_
    from pluralign.web.menu import MenuFeature, MenuLink

    links = (MenuLink("values", "values", N_("Values")),
             MenuLink("upgrades", "upgrades", N_("Wisdom upgrades")))
    return [MenuFeature("values", links, _has_cases)]
