"""Providers: :func:`open_provider` opens the backend a :class:`ProviderSettings` describes.

The base class :class:`Provider` (cache, usage, concurrency, structured output) lives in
:mod:`pluralign.llm.base`, which the backends import; it is re-exported here so callers have one
place to import from: ``from pluralign.llm.provider import Provider, open_provider``.
"""

from __future__ import annotations

from pluralign.llm.base import Provider, StructuredResult
from pluralign.llm.config import ProviderSettings

__all__ = ["Provider", "StructuredResult", "open_provider"]


def open_provider(config: ProviderSettings) -> Provider:
    """The provider a config describes: HTTP for ``base_url``, local for ``checkpoint``."""
    if config.kind == "http":
        from pluralign.llm.http import HTTPProvider

        return HTTPProvider(config)
    from pluralign.llm.local import LocalProvider

    return LocalProvider(config)
