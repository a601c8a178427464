"""The moral graph's web pages as a feature, through the hooks of :mod:`pluralign.plugins` (its
CLI group and tables are the stage's, :mod:`pluralign.moralgraph.plugin`)."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def web_routers():
    from pluralign.moralgraphweb.pages import router

    return [router]
