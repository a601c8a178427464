"""The workbench as a feature: its web pages and its tables, through the hooks of
:mod:`pluralign.plugins`."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def web_routers():
    from pluralign.workbench.web import router

    return [router]


@hookimpl
def store_tables():
    import pluralign.workbench.models

    return [pluralign.workbench.models]
