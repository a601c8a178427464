"""Public evaluation as a feature: ``pluralign eval-public``, its web pages and its tables,
through the hooks of :mod:`pluralign.plugins`."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def register_commands(app):
    from pluralign.evaluate.public_cli import register

    register(app)


@hookimpl
def web_routers():
    from pluralign.evaluate.public_web import router

    return [router]


@hookimpl
def store_tables():
    import pluralign.evaluate.public_models

    return [pluralign.evaluate.public_models]
