"""Aggregation: opinion groups, representative statements, consensus and bridging.

Public API::

    from pluralign.aggregate import read_polis, aggregate
    result = aggregate(read_polis("conversation/"), seed=0)
    result.groups_frame(); result.statement_table(); result.summary()

See ``docs/algorithms.md`` for every formula and its reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "AggregateResult": "pluralign.aggregate.pipeline",
    "AggregateSettings": "pluralign.aggregate.settings",
    "BridgingModel": "pluralign.aggregate.bridging",
    "ConsensusRule": "pluralign.aggregate.consensus",
    "NO_GROUP": "pluralign.aggregate.pipeline",
    "PolisClusterer": "pluralign.aggregate.clusters",
    "PolisPCA": "pluralign.aggregate.pca",
    "RepStatement": "pluralign.aggregate.stats",
    "VoteMatrix": "pluralign.aggregate.matrix",
    "aggregate": "pluralign.aggregate.pipeline",
    "from_store": "pluralign.aggregate.matrix",
    "from_votes": "pluralign.aggregate.matrix",
    "in_conversation": "pluralign.aggregate.matrix",
    "read_polis": "pluralign.aggregate.matrix",
}
__all__ = [
    "AggregateResult",
    "AggregateSettings",
    "BridgingModel",
    "ConsensusRule",
    "NO_GROUP",
    "PolisClusterer",
    "PolisPCA",
    "RepStatement",
    "VoteMatrix",
    "aggregate",
    "from_store",
    "from_votes",
    "in_conversation",
    "read_polis",
    "write_outputs",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.aggregate.bridging import BridgingModel
    from pluralign.aggregate.clusters import PolisClusterer
    from pluralign.aggregate.consensus import ConsensusRule
    from pluralign.aggregate.matrix import (
        VoteMatrix,
        from_store,
        from_votes,
        in_conversation,
        read_polis,
    )
    from pluralign.aggregate.pca import PolisPCA
    from pluralign.aggregate.pipeline import NO_GROUP, AggregateResult, aggregate
    from pluralign.aggregate.settings import AggregateSettings
    from pluralign.aggregate.stats import RepStatement


def write_outputs(result, out, title: str = ""):
    """Write groups.csv, statements.csv, summary.json and opinion_map.png (see ``outputs``)."""
    from pluralign.aggregate.outputs import write_outputs as _write

    return _write(result, out, title)
