"""Settings of the constitution stage (:func:`pluralign.constitution.draft_constitution`)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.aggregate.consensus import ConsensusRule
from pluralign.errors import InputError


@dataclass(frozen=True)
class DraftSettings:
    """Thresholds of :func:`draft_constitution` (see the module docstring for the rules)."""

    min_gac: float | None = ConsensusRule.min_gac
    """GAC a statement needs; None means 0.5 ** n_groups."""
    min_group_agreement: float = ConsensusRule.min_group_agreement
    """Lower Wilson bound of the agree share every opinion group must reach."""
    min_group_votes: int = ConsensusRule.min_group_votes
    """Votes every opinion group must have cast on a statement."""
    interval_z: float = ConsensusRule.interval_z
    """Standard errors of the Wilson intervals (0: point estimates)."""
    min_subgroup_agreement: float | None = ConsensusRule.min_subgroup_agreement
    """A half of an opinion group whose upper bound of the agree share is below this vetoes
    (None or 0: halves are not checked)."""
    merge_threshold: float | None = None
    """Cosine similarity for near-duplicates; None uses the embedder's default (0.80 MiniLM,
    0.55 TF-IDF)."""
    embedder: str = "auto"
    max_clauses: int | None = None
    """Keep at most this many clauses (the best-supported: highest GAC of their lead)."""
    style: str = "choose"
    """How clauses are worded: choose ("Choose the response that …"), should ("The AI should
    …") or verbatim (the best-supported statement, cleaned)."""
    attempts: int = 3
    """LLM drafts per clause: greedy, then samples while every draft so far was flagged."""
    keep_flagged: bool = False
    """When every draft is flagged, keep the first (flagged) instead of the cleaned statement."""
    ask_merge: bool | None = None
    """Ask the LLM whether statements in the similarity band make the same point (None: yes,
    except with the embedded SmolLM2, which answers worse than chance)."""
    check_entailment: bool | None = None
    """Ask the LLM whether each principle says only what its statements say (None: as
    ``ask_merge``)."""
    max_topics: int = 15
    """Most top-level topics (:mod:`pluralign.sensemaking.topics`)."""

    def __post_init__(self) -> None:
        self.rule  # noqa: B018 (validates the thresholds)
        if self.merge_threshold is not None and not -1 <= self.merge_threshold <= 1:
            raise InputError("merge_threshold must be a cosine in [-1, 1]", where="merge_threshold")
        if self.max_clauses is not None and self.max_clauses < 1:
            raise InputError("max_clauses must be at least 1", where="max_clauses")
        if self.style not in ("choose", "should", "verbatim"):
            raise InputError(
                f"unknown style {self.style!r}", where="style", hint="choose, should or verbatim"
            )
        if self.attempts < 1:
            raise InputError("attempts must be at least 1", where="attempts")
        if self.max_topics < 1:
            raise InputError("max_topics must be at least 1", where="max_topics")

    @property
    def rule(self) -> ConsensusRule:
        """The cross-group consensus rule these thresholds make."""
        return ConsensusRule(
            self.min_group_agreement,
            self.min_group_votes,
            self.min_gac,
            self.interval_z,
            self.min_subgroup_agreement,
        )
