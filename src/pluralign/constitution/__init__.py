"""Constitution: clauses drafted from cross-group consensus, each with its provenance.

Public API::

    from pluralign.aggregate import aggregate, read_polis
    from pluralign.constitution import draft_constitution, Constitution
    c = draft_constitution(aggregate(read_polis("conv/"), seed=0))
    Path("constitution.yaml").write_text(c.to_yaml())
    c2 = Constitution.from_yaml(Path("constitution.yaml").read_text(), "constitution.yaml")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "Clause": "pluralign.constitution.document",
    "Constitution": "pluralign.constitution.document",
    "ConstitutionSettings": "pluralign.constitution.draft",
    "Evidence": "pluralign.constitution.document",
    "FORMAT": "pluralign.constitution.document",
    "GroupVotes": "pluralign.constitution.document",
    "candidates": "pluralign.constitution.draft",
    "draft_constitution": "pluralign.constitution.draft",
    "read_clauses": "pluralign.constitution.document",
}
__all__ = [
    "Clause",
    "Constitution",
    "ConstitutionSettings",
    "Evidence",
    "FORMAT",
    "GroupVotes",
    "candidates",
    "draft_constitution",
    "load_constitution",
    "read_clauses",
    "write_constitution",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.constitution.document import (
        FORMAT,
        Clause,
        Constitution,
        Evidence,
        GroupVotes,
        read_clauses,
    )
    from pluralign.constitution.draft import ConstitutionSettings, candidates, draft_constitution


def load_constitution(path):
    """Read and validate a constitution.yaml file."""
    from pathlib import Path

    from pluralign.constitution.document import Constitution  # (the package's names load lazily)
    from pluralign.io import read_text

    return Constitution.from_yaml(read_text(Path(path)), str(path))


def write_constitution(constitution, out):
    """Write OUT/constitution.yaml and OUT/constitution.md atomically; returns both paths."""
    from pathlib import Path

    from pluralign.io import atomic_write_text

    out = Path(out)
    return (
        atomic_write_text(out / "constitution.yaml", constitution.to_yaml()),
        atomic_write_text(out / "constitution.md", constitution.to_markdown()),
    )
