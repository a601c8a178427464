"""The percentile bootstrap's defaults, one home for every interval pluralign computes: the
evaluation's (:class:`pluralign.evaluate.settings.EvaluateSettings`, public evaluation's
results) and the pairwise judge's win rates (:mod:`pluralign.llm.judge`, ``pluralign judge``).

It sits in the foundation layer because the evaluation imports the LLM layer (its gates) and
both take these defaults: neither can import the other's settings.

``n_boot`` is 1000: percentile-bootstrap intervals want at least about a thousand resamples
(Efron & Tibshirani 1993, §13.3), and the resampling is cheap next to scoring with models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pluralign.contract import Settings, setting

N_BOOT = 1000
"""Bootstrap resamples of every interval."""
ALPHA = 0.05
"""1 - the confidence level of every interval (95 % intervals)."""


def n_boot_setting() -> Any:
    """The ``n_boot`` field of a settings class (default, help and bound: the same everywhere)."""
    return setting(N_BOOT, "Bootstrap resamples of every interval.", ge=1)


def alpha_setting() -> Any:
    """The ``alpha`` field of a settings class."""
    return setting(ALPHA, "1 - confidence level of the intervals.", gt=0, lt=1)


@dataclass(frozen=True)
class BootstrapSettings(Settings):
    """The intervals of a command that computes no other stage's settings (``pluralign
    judge``); the evaluation's settings declare the same two fields."""

    n_boot: int = n_boot_setting()
    alpha: float = alpha_setting()
