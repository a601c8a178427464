"""Settings of the moral-graph stage (a simulated values assembly, summarised and drawn):
``pipeline.yaml``'s ``moral_graph:`` section and ``pluralign moralgraph simulate``'s options take
theirs from :class:`MoralGraphSettings`. The demo runs a smaller assembly (``run/demo.py``).
The summary's edge thresholds and PageRank are :class:`GraphSummarySettings` (``pluralign
moralgraph summarize`` / ``check`` take their options' defaults from it)."""

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


@dataclass(frozen=True)
class GraphSummarySettings(Settings):
    """Thresholds and PageRank settings of the moral-graph summary
    (:func:`pluralign.moralgraph.summarize`); the defaults are Democratic Fine-Tuning's."""

    min_wiser_likelihood: float = setting(
        0.33, "An edge needs wiserLikelihood >= this.")
    max_entropy: float = setting(1.69, "An edge needs entropy <= this (bits).", ge=0)
    min_marked_wiser: int = setting(
        2, "An edge needs at least this many upgrade votes (and always at least one).")
    damping: float = setting(0.85, "PageRank damping factor d.", ge=0, le=1)
    iterations: int = setting(100, "PageRank iterations (a fixed count, as published).", ge=0)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "minWiserLikelihood": self.min_wiser_likelihood,
            "maxEntropy": self.max_entropy,
            "minMarkedWiser": self.min_marked_wiser,
            "damping": self.damping,
            "iterations": self.iterations,
        }
