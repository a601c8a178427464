"""The moral graph as a feature: its CLI group, its web pages and its tables, through the hooks of
:mod:`pluralign.plugins`."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def register_commands(app):
    from pluralign.moralgraph.cli import register

    register(app)


@hookimpl
def web_routers():
    from pluralign.moralgraph.web import router

    return [router]


@hookimpl
def store_tables():
    import pluralign.moralgraph.models

    return [pluralign.moralgraph.models]
