"""Settings of the moral-graph stage (a simulated values assembly, summarised and drawn):
``pipeline.yaml``'s ``moral_graph:`` section and ``pluralign moralgraph simulate``'s options take
theirs from :class:`MoralGraphSettings`. The demo runs a smaller assembly (``run/demo.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting


@dataclass(frozen=True)
class MoralGraphSettings(Settings):
    """The simulated values assembly: its size and how noisy its upgrade votes are."""

    section = "moral_graph"

    participants: int = setting(200, "Simulated participants.", ge=1)
    votes_per_participant: int = setting(6, "Upgrade votes per participant.", ge=1)
    noise: float = setting(0.2, "Probability a vote ignores the truth.", ge=0, le=1)
