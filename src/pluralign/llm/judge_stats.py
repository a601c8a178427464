"""Win rates of a pairwise judge with percentile-bootstrap confidence intervals.

Each item's verdict is ``"b"`` (model B wins), ``"a"``, ``"tie"`` or ``"failure"``. Failures are
reported and excluded; the win rate of B counts a tie as half a win:

    win_rate_B = (wins_B + ties / 2) / (wins_A + wins_B + ties)

The interval resamples items with replacement ``n_boot`` times (Efron & Tibshirani 1993,
*An Introduction to the Bootstrap*, ch. 13, percentile method) with an explicit seed; the
number of resamples and the confidence level default to :mod:`pluralign.bootstrap`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from pluralign.bootstrap import ALPHA, N_BOOT

VERDICTS = ("a", "b", "tie", "failure")


@dataclass(frozen=True)
class WinRate:
    n: int
    wins_a: int
    wins_b: int
    ties: int
    failures: int
    win_rate_b: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float

    def to_json(self) -> dict:
        return asdict(self)


def combine_orders(first: str | None, second: str | None) -> str:
    """Combine the verdicts of the two presentation orders into one item verdict.

    ``first`` is the winner when A is shown as response 1, ``second`` when B is shown as
    response 1, both already mapped back to ``"a"``/``"b"``/``"tie"`` (``None`` = unparseable).
    A model wins only when both orders pick it; any disagreement is a tie.
    """
    if first is None or second is None:
        return "failure"
    if first == second and first in ("a", "b"):
        return first
    return "tie"


def win_rate(
    verdicts: Sequence[str], n_boot: int = N_BOOT, confidence: float = 1 - ALPHA, seed: int = 0
) -> WinRate:
    """Win rate of B over A with a percentile-bootstrap interval over items."""
    bad = set(verdicts) - set(VERDICTS)
    if bad:
        raise ValueError(f"unknown verdicts {sorted(bad)}")
    v = np.asarray([x for x in verdicts if x != "failure"])
    failures = len(verdicts) - len(v)
    wins_a, wins_b, ties = int((v == "a").sum()), int((v == "b").sum()), int((v == "tie").sum())
    n = len(v)
    if n == 0:
        return WinRate(0, 0, 0, 0, failures, None, None, None, confidence)
    score = np.where(v == "b", 1.0, np.where(v == "tie", 0.5, 0.0))
    rate = float(score.mean())
    rng = np.random.default_rng(seed)
    boots = score[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return WinRate(n, wins_a, wins_b, ties, failures, rate, float(lo), float(hi), confidence)
