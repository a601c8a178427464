"""Public evaluation as a feature: ``pluralign eval-public``, its web pages and its tables,
through the hooks of :mod:`pluralign.plugins`."""

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
