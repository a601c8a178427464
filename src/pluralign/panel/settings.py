"""Settings of the panel stage (sortition), every default here: ``pipeline.yaml``'s ``panel:``
section and ``pluralign panel select`` / ``panel quotas`` take theirs from :class:`PanelSettings`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting

METHODS = ("leximin", "maximin", "nash", "legacy")
"""Selection algorithms (docs/sortition.md): LEXIMIN, maximin, Nash welfare, legacy (greedy)."""


@dataclass(frozen=True)
class PanelSettings(Settings):
    """How the panel is drawn from the volunteer pool."""

    section = "panel"

    size: int = setting(40, "Panel size k.", ge=1)
    method: str = setting(
        "leximin", "Selection algorithm: leximin (the most equal selection probabilities, "
        "lexicographically), maximin (the least probability as large as possible), nash "
        "(Nash welfare), legacy (the greedy draw most organisations used before 2021).",
        choices=METHODS)
    slack: float = setting(
        0.1, "Relative slack around share x k when quotas are made from population shares.",
        ge=0)
    gap: float = setting(
        1e-6, "Proven optimality gap at which each column-generation level stops.", gt=0)
    samples: int = setting(1000, "legacy: runs used to estimate probabilities.", ge=1)
    time_limit: float | None = setting(
        None, "Stop the solver after this many seconds (gap reported); null: no limit.", gt=0)
    households: str | None = setting(
        None, "Pool column naming each person's household: at most one per household on a "
        "panel (null: no household rule).")
    relax: bool = setting(
        False, "If the quotas admit no panel, apply the smallest relaxation (reported) first.")
    uniform: int | None = setting(
        None, "Round the lottery to this many equally likely panels (lottery.csv: ticket,ids) "
        "that can be drawn in public; the panel is the ticket seed_text (or the seed) picks "
        "(null: draw from the exact lottery).", ge=1)
    seed_text: str | None = setting(
        None, "Public seed (e.g. a random beacon value): ticket = 1 + sha256(TEXT) mod M; "
        "without uniform it seeds the draw.")
    alternates: int = setting(0, "Also draw a ranked reserve list of this many alternates.",
                              ge=0)
