"""The aggregation as a run stage: ``run(inputs, settings, seed) -> AggregateResult``.

The run engine hands it the vote matrix of the run (a Polis folder, the store's assembly, or the
simulated conversation restricted to the panel: :func:`pluralign.simulate.panel_conversation`);
its result's files are ``groups.csv``, ``statements.csv``, ``summary.json``, ``opinion_map.png``
and ``result.npz`` (what :meth:`AggregateResult.read` reads back, so a resumed run drafts the
constitution from the stored aggregation instead of computing it again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pluralign.aggregate.matrix import VoteMatrix
from pluralign.aggregate.pipeline import AggregateResult, aggregate
from pluralign.aggregate.settings import AggregateSettings
from pluralign.contract import StageSpec


@dataclass(frozen=True)
class AggregateInputs:
    """The votes to aggregate and what they are called (the opinion map's title)."""

    matrix: VoteMatrix
    title: str = ""


def run(inputs: AggregateInputs, settings: AggregateSettings, seed: int) -> AggregateResult:
    """Opinion groups, consensus and bridging (groups.csv, statements.csv, summary.json,
    opinion_map.png)."""
    return replace(aggregate(inputs.matrix, seed=seed, settings=settings), title=inputs.title)


STAGE = StageSpec("aggregate", AggregateSettings, run, AggregateResult)
