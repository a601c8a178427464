"""Settings of the evaluation stage, every default here: ``pipeline.yaml``'s ``evaluate:``
section and ``pluralign evaluate``'s options take theirs from :class:`EvaluateSettings`.

``n_boot`` and ``alpha`` are the bootstrap's, :mod:`pluralign.bootstrap` (one default for the
evaluation, public evaluation and the pairwise judge).
"""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.bootstrap import alpha_setting, n_boot_setting
from pluralign.contract import Settings, setting

MARGINS = ("likelihood", "implicit")


@dataclass(frozen=True)
class EvaluateSettings(Settings):
    """How held-out preference accuracy is measured and its intervals computed."""

    section = "evaluate"

    margin: str = setting(
        "likelihood", "likelihood: before = the base model's own preference (summed reply "
        "log-probabilities), after = the trained model's, the implicit reward beside; implicit: "
        "the DPO implicit reward of the trained model against the base model, before = 0.5 by "
        "construction.", choices=MARGINS)
    beta: float = setting(0.1, "DPO beta of the implicit-reward margin.", gt=0)
    n_boot: int = n_boot_setting()
    alpha: float = alpha_setting()
    min_group_size: int = setting(
        1, "Leave groups with fewer pairs out of the per-group tables.", ge=1)
    cluster: str | None = setting(
        "participant", "Provenance key whose pairs are resampled together (null: single "
        "pairs).")
    generations: int = setting(
        24, "Held-out prompts answered greedily by both models (generations.jsonl).", ge=0,
        cli=False)
    max_new_tokens: int = setting(64, "Most tokens per generated answer.", ge=1, cli=False)
