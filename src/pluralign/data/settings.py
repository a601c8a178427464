"""Settings of the preference-data stage, every default here: ``pipeline.yaml``'s ``data:``
section and ``pluralign data prefs`` / ``data weight`` take theirs from :class:`DataSettings`.

``weighting`` is ``auto`` everywhere (the pipeline had ``soft``, the commands ``hard``): soft
when the panel carries person weights (a panel drawn with population shares does), else hard.
"""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting

WEIGHTINGS = ("auto", "hard", "soft", "representative")
TEMPLATES = ("all", "missing", "none")
UNSEEN = ("none", "divisive", "all")
GROUP_SOURCES = ("votes", "votes+choices")
BALANCE_UNITS = ("pair", "prompt")


@dataclass(frozen=True)
class RoundDataSettings(Settings):
    """A later round's training pairs (docs/rounds.md); ``pipeline.yaml``'s
    ``rounds.keep_people`` takes its default from here."""

    section = "rounds"

    round: int = setting(2, "The round the pairs train (2, 3, ...).", ge=2, cli=False)
    keep_people: bool = setting(
        True, "Rounds after the first also train on the run's pairs from people (round 1's "
        "training pairs that were not synthesised: the panel's, inputs.preferences)", cli=False)


@dataclass(frozen=True)
class DataSettings(Settings):
    """How preference pairs are made, weighted and held out."""

    section = "data"

    weighting: str = setting(
        "auto", "auto (soft when the panel carries person weights, else hard) | hard (panel "
        "members only, weight 1) | soft (person weights from sortition) | representative "
        "(quota-matching subset).", choices=WEIGHTINGS)
    heldout_fraction: float = setting(
        0.3, "Share of prompts (per kind) held out for evaluation.", gt=0, lt=1)
    unseen_fraction: float = setting(
        0.1, "Share of statements (per kind; clauses for synthesised pairs) held out whole, "
        "with every prompt about them, so the held-out set has new wordings of trained "
        "statements and unseen statements (docs/preferences.md).", ge=0, lt=1)
    templates: str = setting(
        "all", "Template prompts for: all statements | missing ones (statements without a bank "
        "prompt) | none.", choices=TEMPLATES)
    prompts_per_member: int | None = setting(
        None, "Random prompts each member answers (null: all).", ge=1)
    heldout_unseen: str = setting(
        "none", "Simulated input: also hold out the simulator bank's statements the conversation "
        "did not include, of this kind (divisive | all | none), as prompts of kind "
        "unseen-<kind> (docs/preferences.md); training is unchanged.", choices=UNSEEN, cli=False)
    balance: bool = setting(
        True, "Reweight simulated training pairs so the agreeing and disagreeing responses win "
        "with equal total weight (docs/preferences.md).", cli=False)
    balance_unit: str = setting(
        "pair", "What the balance weighs equal: pair (pairs choosing each response) | prompt "
        "(prompts whose majority agrees and prompts whose majority disagrees, each keeping its "
        "own split, so no prompt's majority is overturned; docs/preferences.md).",
        choices=BALANCE_UNITS, cli=False)
    group_source: str = setting(
        "votes", "Simulated input: the pairs' group column (what group-robust training takes as "
        "groups) is the aggregation's opinion groups, from the panel's votes (votes), or the "
        "panel clustered on their votes and their training choices together (votes+choices; "
        "docs/preferences.md).", choices=GROUP_SOURCES, cli=False)
