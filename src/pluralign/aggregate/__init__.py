"""Aggregation: opinion groups, representative statements, consensus and bridging.

Public API::

    from pluralign.aggregate import read_polis, aggregate
    result = aggregate(read_polis("conversation/"), seed=0)
    result.groups_frame(); result.statement_table(); result.summary()

See ``docs/algorithms.md`` for every formula and its reference.
"""

from pluralign.aggregate.bridging import BridgingModel
from pluralign.aggregate.clusters import KState, PolisClusterer
from pluralign.aggregate.matrix import (
    VoteMatrix,
    from_store,
    from_votes,
    in_conversation,
    read_polis,
)
from pluralign.aggregate.pca import PolisPCA
from pluralign.aggregate.pipeline import (
    NO_GROUP,
    AggregateResult,
    AggregateSettings,
    aggregate,
)
from pluralign.aggregate.stats import RepStatement

__all__ = [
    "NO_GROUP",
    "AggregateResult",
    "AggregateSettings",
    "BridgingModel",
    "KState",
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


def write_outputs(result, out, title: str = ""):
    """Write groups.csv, statements.csv, summary.json and opinion_map.png (see ``outputs``)."""
    from pluralign.aggregate.outputs import write_outputs as _write

    return _write(result, out, title)
