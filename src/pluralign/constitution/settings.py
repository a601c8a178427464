"""Settings of the constitution stage (:func:`pluralign.constitution.draft_constitution`)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.aggregate.consensus import METHODS, RULE_FIELDS, ConsensusRule
from pluralign.contract import Settings, setting
from pluralign.models.settings import DEFAULT_EMBEDDER, EMBEDDERS

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
    consensus_method: str = setting(
        ConsensusRule.method, "The consensus rule: posterior (the posterior probability that every "
        "opinion group, and every half of one, agrees) or interval (Wilson bounds, the rule "
        "before; docs/sensemaking.md §6).", choices=METHODS)
    min_posterior: float = setting(
        ConsensusRule.min_posterior, "posterior: the probability that every opinion group (and "
        "every half of one) has agree share >= min_agree_share and disagree share <= "
        "max_disagree_share that a statement needs.", ge=0, le=1)
    min_agree_share: float = setting(
        ConsensusRule.min_agree_share, "posterior: the agree share a group must have.", ge=0,
        le=1)
    max_disagree_share: float = setting(
        ConsensusRule.max_disagree_share, "posterior: the disagree share a group may have at "
        "most.", ge=0, le=1)
    prior_votes: float = setting(
        ConsensusRule.prior_votes, "posterior: weight in votes of each group's prior, centred on "
        "the statement's overall shares.", ge=0, le=10_000)
    check_halves: bool = setting(
        ConsensusRule.check_halves, "posterior: require it of the halves of the opinion groups "
        "too (robustness to merged latent groups).")
    min_group_agreement: float = setting(
        ConsensusRule.min_group_agreement, "interval: lower Wilson bound of the agree share every "
        "opinion group must reach.", gt=0, le=1)
    min_group_votes: int = setting(
        ConsensusRule.min_group_votes, "Votes every opinion group must have cast on a "
        "statement.", ge=1)
    min_group_coverage: float = setting(
        ConsensusRule.min_group_coverage, "A group takes part in the consensus rule when the "
        "share of statements it cast min_group_votes votes on is at least this fraction of the "
        "best-covered group's; one below it (e.g. a group of one person) need not have voted "
        "and cannot veto (0: every group takes part; docs/sensemaking.md §6).", ge=0, le=1)
    interval_z: float = setting(
        ConsensusRule.interval_z, "interval: standard errors of the Wilson intervals (0: point "
        "estimates).", ge=0, le=10)
    min_subgroup_agreement: float | None = setting(
        ConsensusRule.min_subgroup_agreement, "interval: a half of an opinion group whose upper "
        "bound of "
        "the agree share is below this vetoes a statement (null or 0: halves are not checked; "
        "docs/sensemaking.md §6).", ge=0, le=1)
    merge_threshold: float | None = setting(
        None, "Cosine similarity at which statements merge on wording alone (null: the "
        "embedder's default, 0.80 MiniLM, 0.55 TF-IDF).", ge=-1, le=1)
    embedder: str = setting(
        DEFAULT_EMBEDDER,
        "Sentence vectors: auto (MiniLM when installed, else TF-IDF), minilm or tfidf.",
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
        return ConsensusRule(**{
            field: getattr(self, RULE_KEYS.get(field, field)) for field in RULE_FIELDS
        })


RULE_KEYS = {"method": "consensus_method"}
"""The :class:`ConstitutionSettings` field of a rule field, where the names differ."""
RULE_SETTINGS = tuple(RULE_KEYS.get(f, f) for f in RULE_FIELDS)
"""The :class:`ConstitutionSettings` fields that make its consensus rule."""
