"""The moral graph as a feature: its CLI group and its tables, through the hooks of
:mod:`pluralign.plugins` (its web pages are :mod:`pluralign.moralgraphweb`, outside the stage)."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def register_commands(app):
    from pluralign.moralgraph.cli import register

    register(app)


@hookimpl
def store_tables():
    import pluralign.moralgraph.models

    return [pluralign.moralgraph.models]
