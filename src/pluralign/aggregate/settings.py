"""Settings of the aggregation stage (:func:`pluralign.aggregate.aggregate`), every default here.

Polis's constants (docs/algorithms.md §1–§3) and Community Notes' bridging constants (§4). The CLI
(``pluralign aggregate``) and ``pipeline.yaml``'s ``aggregate:`` section take theirs from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.aggregate.consensus import ConsensusRule
from pluralign.contract import Settings, setting
from pluralign.errors import InputError

IN_CONV_MODES = ("auto", "votes", "export")
LAMBDA_INTERCEPT = 0.15
"""Community Notes' regularisation of the intercepts (the bridging scores)."""
LAMBDA_FACTOR = 0.03
"""Community Notes' regularisation of the factors."""


@dataclass(frozen=True)
class AggregateSettings(Settings):
    """Every constant of the aggregation, with Polis's / Community Notes' defaults."""

    section = "aggregate"

    n_components: int = setting(2, "Principal components of the opinion map (Polis: 2).", ge=1)
    in_conv: str = setting(
        "auto", "Who is clustered: 'votes' (at least min_votes votes), 'export' (whom the Polis "
        "export records as clustered: non-empty group-id in participants-votes.csv; membership "
        "only, never the labels), 'auto' (the export's record when present, else the votes "
        "rule).", choices=IN_CONV_MODES)
    min_votes: int = setting(
        7, "Votes a participant needs (or all statements, if fewer) to be clustered (Polis: 7).",
        ge=1)
    greedy_n: int = setting(
        15, "If fewer participants qualify, the most active are added up to this many "
        "(Polis: 15).", ge=0)
    base_k: int = setting(100, "Base clusters of the k-means below the groups (Polis: 100).",
                          ge=1)
    min_groups: int = setting(2, "Fewest opinion groups tried (Polis: 2).", ge=1)
    max_groups: int = setting(5, "Most opinion groups tried (Polis: 5).", ge=2)
    n_init: int = setting(
        16, "k-means++ starts of each group k-means; the lowest-inertia one is kept.", ge=1)
    silhouette_fits: int = setting(
        6, "Base clusterings Polis's silhouette is averaged over.", ge=1)
    k_margin: float = setting(
        0.03, "Silhouette a group count other than min_groups must gain over it to be used "
        "(stands in for Polis's group-count smoother; chosen by leave-one-conversation-out, "
        "docs/algorithms.md §3).", ge=0)
    direct_max: int = setting(
        10_000, "Most distinct participant positions the groups are fitted on directly; above "
        "it they are fitted on the centres of one base clustering, as Polis does.", ge=1)
    max_repness: int = setting(5, "Representative statements listed per group (Polis: 5).",
                               ge=0)
    top_consensus: int = setting(
        5, "Consensus statements listed: the top ones by GAC among those that are cross-group "
        "consensus under `consensus` (the rule the constitution drafts from).", ge=0)
    consensus: ConsensusRule = setting(
        factory=ConsensusRule, help="What cross-group consensus is "
        "(pluralign.aggregate.consensus); a run takes it from the constitution's thresholds.",
        cli=False)
    bridging_factors: int = setting(1, "Factors of the bridging matrix factorisation.",
                                    choices=(1, 2))
    lambda_intercept: float = setting(
        LAMBDA_INTERCEPT, "Regularisation of the intercepts (Community Notes: 0.15).", ge=0)
    lambda_factor: float = setting(
        LAMBDA_FACTOR, "Regularisation of the factors (Community Notes: 0.03).", ge=0)
    bridging_iter: int = setting(15, "Alternating least-squares sweeps of the bridging fit.",
                                 ge=1)

    def __post_init__(self) -> None:
        if self.in_conv not in IN_CONV_MODES:  # the message names the setting's values
            raise InputError(
                f"in_conv must be one of {', '.join(IN_CONV_MODES)}, got {self.in_conv!r}",
                where="aggregate settings",
            )
        super().__post_init__()
        if not self.min_groups <= self.max_groups:
            raise InputError(
                f"need 1 ≤ min_groups ≤ max_groups, got {self.min_groups}, {self.max_groups}",
                where="aggregate settings",
            )
        if self.base_k < self.max_groups:
            raise InputError("base_k must be at least max_groups", where="aggregate settings")
        if isinstance(self.consensus, dict):  # from pipeline.yaml or to_dict()
            data = dict(self.consensus)
            if "interval_z" in data and "method" not in data:
                data["method"] = "interval"  # written before the posterior rule, with its rule
            if ("check_halves" in data or "interval_z" in data) and (
                    "min_group_coverage" not in data):
                data["min_group_coverage"] = 0.0  # written before small groups stopped vetoing
            object.__setattr__(self, "consensus", ConsensusRule(**data))
