"""Plain-language explanations of the words the report uses (its "Glossary" section), and the
readable names of subsets of prompts and of groupings.

Tables link their headers to these entries (``#g-<term>``), and the per-group tables name each
subset and grouping with :func:`subset_label` / :func:`grouping_label`."""

from __future__ import annotations

TERMS: dict[str, tuple[str, str]] = {
    "opinion-group": (
        "opinion group",
        "Participants who voted alike, found by clustering the vote matrix (as Polis does). "
        "Groups are numbered 0, 1, 2 ...; the numbers carry no order.",
    ),
    "unclustered": (
        "unclustered / not clustered",
        "Participants who cast too few votes to be placed in an opinion group. Their pairs are "
        "kept and scored as a group of their own.",
    ),
    "latent": (
        "latent group",
        "Simulated runs only: the group the simulator drew each participant's opinions from "
        "(the ground truth that the opinion groups try to recover). Real deliberations have no "
        "latent groups.",
    ),
    "demographic": (
        "demographic group",
        "Participants sharing one value of a pool feature (age band, gender, region ...).",
    ),
    "clause": (
        "clause (grouping)",
        "Synthesised pairs grouped by the constitution clause they test: which principles "
        "training served and which it did not.",
    ),
    "consensus": (
        "consensus prompts",
        "Prompts on a statement that every group broadly agreed with.",
    ),
    "consensus-against": (
        "consensus-against prompts",
        "Prompts on a statement that every group broadly rejected; the preferred response is "
        "the one that declines it.",
    ),
    "divisive": (
        "divisive prompts",
        "Prompts on a statement some group supported and another opposed. Training cannot "
        "please everyone here, so each group's accuracy is shown, never averaged away.",
    ),
    "mixed": (
        "mixed prompts",
        "Prompts on a statement that is neither a consensus nor divisive: groups lean "
        "differently but no group strongly opposes another.",
    ),
    "new-wording": (
        "new wordings of trained statements",
        "Held-out prompts about a statement the model was trained on under another prompt: "
        "does the panel's view carry over to a new wording of the same question?",
    ),
    "unseen-statement": (
        "statements never trained on",
        "Held-out prompts about a statement no training prompt asks about (a share of the "
        "statements is held back whole, data.unseen_fraction): does training generalise to "
        "a question the model has not seen the panel's view on?",
    ),
    "accuracy": (
        "preference accuracy",
        "On held-out pairs (prompts never trained on): the weighted share of pairs where the "
        "model favours the response the person chose. 0.5 is no preference; 1 always agrees "
        "with people; 0 always disagrees.",
    ),
    "implicit": (
        "implicit reward margin",
        "How much more training raised the chosen response's log-probability than the rejected "
        "one's, relative to the untrained (reference) model (DPO, Rafailov et al. 2023, eq. 5): "
        "what training changed. The untrained model against itself scores exactly 0, a tie, so "
        "a 'before' under this margin is 0.5 by construction, not a measurement.",
    ),
    "likelihood": (
        "likelihood margin",
        "The model's own log-probability of the chosen response minus the rejected one's "
        "(over the completion tokens): a measurement of what a model prefers as it stands, "
        "before or after training.",
    ),
    "interval": (
        "95% interval",
        "Percentile bootstrap over participants: all of one person's pairs are resampled "
        "together, since one person's choices are not independent. A group with one "
        "participant has no interval (every resample is the same person); with few "
        "participants the interval is coarse.",
    ),
    "gap": (
        "worst-group gap",
        "The best group's accuracy minus the worst group's, within one subset of prompts.",
    ),
    "gac": (
        "gac (group-aware consensus)",
        "The product over opinion groups of (agrees + 1) / (votes + 2): high only when every "
        "group agrees (Polis's group-informed consensus).",
    ),
    "bridging": (
        "bridging",
        "How much a statement is agreed with beyond what each voter's position on the opinion "
        "axes predicts: agreement across the divide (the statement intercept of a matrix "
        "factorisation, as in Community Notes).",
    ),
    "pagerank": (
        "PageRank",
        "Moral graph: a value's weight after following the upgrades participants judged wiser "
        "(random-walk stationary share); higher means more people's paths lead to it.",
    ),
    "wiser": (
        "wiser likelihood",
        "For an upgrade from one value to another: (judged wiser − judged less wise) / all who "
        "judged it. 1 when everyone who judged it found the second value wiser.",
    ),
    "leximin": (
        "leximin",
        "A sortition lottery that maximises the smallest selection probability, then the "
        "next smallest, and so on, while meeting the quotas (Flanigan et al. 2021).",
    ),
    "selection-probability": (
        "selection probability",
        "The chance that the lottery puts a pool member on the panel; their sum is the panel size.",
    ),
    "gini": (
        "Gini coefficient",
        "Inequality of the selection probabilities: 0 when everyone's chance is equal.",
    ),
    "weights": (
        "soft weights",
        "Per-member weights (inverse selection probability, raked to the population's "
        "margins) that let the panel count as the population would; pairs carry them into "
        "training and evaluation.",
    ),
}
"""term id → (name, explanation)."""

SUBSET_LABELS = {
    "all": "all prompts",
    "consensus": "consensus prompts",
    "consensus-against": "consensus-against prompts",
    "divisive": "divisive prompts",
    "mixed": "mixed prompts",
}


PART_LABELS = {
    "new-wording": "new wordings of trained statements",
    "unseen-statement": "statements never trained on",
}
"""The held-out parts (``provenance.heldout_part``, docs/preferences.md)."""


def subset_label(subset: str) -> str:
    """``consensus`` → consensus prompts; ``consensus/unseen-statement`` → consensus prompts:
    statements never trained on."""
    if subset in PART_LABELS:
        return f"held-out {PART_LABELS[subset]}"
    kind, _, part = subset.partition("/")
    if part:
        return f"{subset_label(kind)}: {PART_LABELS.get(part, part)}"
    return SUBSET_LABELS.get(subset, f"{subset} prompts")


def subset_term(subset: str) -> str:
    """The glossary anchor of a subset ('' when it has none; a kind's part: the part's)."""
    part = subset.partition("/")[2]
    if part:
        return part if part in TERMS else ""
    return subset if subset in TERMS else ""


def grouping_label(grouping: str) -> str:
    """``group`` → opinion group, ``latent`` → latent group, ``demographic:age_band`` → age band."""
    if grouping in ("group", "opinion"):
        return "opinion group"
    if grouping == "latent":
        return "latent group"
    if grouping == "clause":
        return "clause"
    if grouping.startswith("demographic:"):
        return grouping.split(":", 1)[1].replace("_", " ")
    return grouping


def grouping_term(grouping: str) -> str:
    if grouping in ("group", "opinion"):
        return "opinion-group"
    if grouping in ("latent", "clause"):
        return grouping
    if grouping.startswith("demographic:"):
        return "demographic"
    return ""


def group_label(grouping: str, group: str) -> str:
    """A group's name as shown: opinion groups read ``group 0``; others keep their value."""
    if grouping in ("group", "opinion") and group.isdigit():
        return f"group {group}"
    return group
