"""Moral graph (Democratic Fine-Tuning): values cards, wisdom-upgrade votes, and their summary.

Public API: the data model (:mod:`~pluralign.moralgraph.types`), :func:`summarize` with
:class:`GraphSummarySettings` (published definitions, see :mod:`~pluralign.moralgraph.summary`),
the JSON interchange (:mod:`~pluralign.moralgraph.dftjson`), readers
(:mod:`~pluralign.moralgraph.io`), the simulator (:mod:`~pluralign.moralgraph.simulate`),
near-duplicate merging (:mod:`~pluralign.moralgraph.merge`) and clauses
(:mod:`~pluralign.moralgraph.clauses`).

Names load lazily so that mounting the CLI does not import numpy/pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "Case": "pluralign.moralgraph.types",
    "Context": "pluralign.moralgraph.types",
    "Edge": "pluralign.moralgraph.types",
    "Impression": "pluralign.moralgraph.types",
    "NOT_SURE": "pluralign.moralgraph.types",
    "NO_UPGRADE": "pluralign.moralgraph.types",
    "RELATIONSHIPS": "pluralign.moralgraph.types",
    "UPGRADE": "pluralign.moralgraph.types",
    "ValuesCard": "pluralign.moralgraph.types",
    "MoralGraph": "pluralign.moralgraph.summary",
    "GraphSummarySettings": "pluralign.moralgraph.settings",
    "summarize": "pluralign.moralgraph.summary",
}
__all__ = [
    "Case",
    "Context",
    "Edge",
    "Impression",
    "MoralGraph",
    "NOT_SURE",
    "NO_UPGRADE",
    "RELATIONSHIPS",
    "GraphSummarySettings",
    "UPGRADE",
    "ValuesCard",
    "summarize",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.moralgraph.settings import GraphSummarySettings
    from pluralign.moralgraph.summary import MoralGraph, summarize
    from pluralign.moralgraph.types import (
        NO_UPGRADE,
        NOT_SURE,
        RELATIONSHIPS,
        UPGRADE,
        Case,
        Context,
        Edge,
        Impression,
        ValuesCard,
    )
