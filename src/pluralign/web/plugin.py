"""The web app's own tables (accounts, sessions, moderation, ...) through the feature hooks, so
the store's migrations find them without importing the web app."""

from __future__ import annotations

from pluralign.plugins import hookimpl


@hookimpl
def store_tables():
    import pluralign.web.models

    return [pluralign.web.models]
