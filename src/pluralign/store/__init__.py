"""The assembly store: SQLAlchemy models, sessions, alembic migrations, shared queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "ACCEPTED": "pluralign.store.models",
    "AGREE": "pluralign.store.models",
    "Assembly": "pluralign.store.models",
    "Base": "pluralign.store.models",
    "CLOSED": "pluralign.store.models",
    "DISAGREE": "pluralign.store.models",
    "DRAFT": "pluralign.store.models",
    "OPEN": "pluralign.store.models",
    "PASS": "pluralign.store.models",
    "PENDING": "pluralign.store.models",
    "Panel": "pluralign.store.models",
    "PanelMember": "pluralign.store.models",
    "Participant": "pluralign.store.models",
    "REJECTED": "pluralign.store.models",
    "Statement": "pluralign.store.models",
    "Store": "pluralign.store.session",
    "Vote": "pluralign.store.models",
    "open_store": "pluralign.store.session",
    "resolve_url": "pluralign.store.session",
}
__all__ = [
    "ACCEPTED",
    "AGREE",
    "Assembly",
    "Base",
    "CLOSED",
    "DISAGREE",
    "DRAFT",
    "OPEN",
    "PASS",
    "PENDING",
    "Panel",
    "PanelMember",
    "Participant",
    "REJECTED",
    "Statement",
    "Store",
    "Vote",
    "open_store",
    "resolve_url",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.store.models import (
        ACCEPTED,
        AGREE,
        CLOSED,
        DISAGREE,
        DRAFT,
        OPEN,
        PASS,
        PENDING,
        REJECTED,
        Assembly,
        Base,
        Panel,
        PanelMember,
        Participant,
        Statement,
        Vote,
    )
    from pluralign.store.session import Store, open_store, resolve_url
