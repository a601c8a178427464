"""Settings of the constitution stage (:func:`pluralign.constitution.draft_constitution`)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.aggregate.consensus import ConsensusRule
from pluralign.contract import Settings, setting

EMBEDDERS = ("auto", "minilm", "tfidf")
"""Sentence vectors (:data:`pluralign.constitution.embed.METHODS`)."""
STYLES = ("choose", "should", "verbatim")
"""How clauses are worded."""


@dataclass(frozen=True)
class ConstitutionSettings(Settings):
    """Thresholds and wording of :func:`draft_constitution` (see the module docstring for the
    rules)."""

    section = "constitution"

    title: str = setting("Constitution", "Title of the constitution.")
    min_gac: float | None = setting(
        ConsensusRule.min_gac, "Group-aware consensus a statement needs (null: 0.5 ** number of "
        "opinion groups).", ge=0, le=1)
    min_group_agreement: float = setting(
        ConsensusRule.min_group_agreement, "Lower Wilson bound of the agree share every opinion "
        "group must reach.", gt=0, le=1)
    min_group_votes: int = setting(
        ConsensusRule.min_group_votes, "Votes every opinion group must have cast on a "
        "statement.", ge=1)
    interval_z: float = setting(
        ConsensusRule.interval_z, "Standard errors of the Wilson intervals (0: point "
        "estimates).", ge=0, le=10)
    min_subgroup_agreement: float | None = setting(
        ConsensusRule.min_subgroup_agreement, "A half of an opinion group whose upper bound of "
        "the agree share is below this vetoes a statement (null or 0: halves are not checked; "
        "docs/sensemaking.md §6).", ge=0, le=1)
    merge_threshold: float | None = setting(
        None, "Cosine similarity at which statements merge on wording alone (null: the "
        "embedder's default, 0.80 MiniLM, 0.55 TF-IDF).", ge=-1, le=1)
    embedder: str = setting(
        "auto", "Sentence vectors: auto (MiniLM when installed, else TF-IDF), minilm or tfidf.",
        choices=EMBEDDERS)
    max_clauses: int | None = setting(
        None, "Keep at most this many clauses (the best-supported: highest GAC of their lead).",
        ge=1)
    style: str = setting(
        "choose", 'How clauses are worded: choose ("Choose the response that …"), should ("The '
        'AI should …") or verbatim (the best-supported statement, cleaned).',
        choices=STYLES)
    attempts: int = setting(
        3, "LLM drafts per clause: greedy, then samples while every draft so far was flagged.",
        ge=1)
    keep_flagged: bool = setting(
        False, "When every LLM draft is flagged, keep the first (flagged) instead of the "
        "cleaned statement.")
    ask_merge: bool | None = setting(
        None, "Ask the LLM whether statements in the similarity band make the same point "
        "(null: yes, except with the embedded SmolLM2, which answers worse than chance).",
        cli=False)
    check_entailment: bool | None = setting(
        None, "Ask the LLM whether each principle says only what its statements say (null: as "
        "ask_merge).", cli=False)
    max_topics: int = setting(15, "Most top-level topics (pluralign.sensemaking.topics).", ge=1,
                              cli=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rule  # noqa: B018 (validates the thresholds together)

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
