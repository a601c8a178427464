"""The assembly store: SQLAlchemy models, sessions, alembic migrations, shared queries."""

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

__all__ = [
    "ACCEPTED",
    "AGREE",
    "CLOSED",
    "DISAGREE",
    "DRAFT",
    "OPEN",
    "PASS",
    "PENDING",
    "REJECTED",
    "Assembly",
    "Base",
    "Panel",
    "PanelMember",
    "Participant",
    "Statement",
    "Store",
    "Vote",
    "open_store",
    "resolve_url",
]
