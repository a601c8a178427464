"""Statistics of the public evaluation: people compare two models' answers against a clause.

Each rating says which of two anonymised answers better follows a clause: model ``a``, model
``b`` or ``neither``. It is scored like a pairwise judge's verdict
(:mod:`pluralign.llm.judge_stats`): B's *win rate* counts a win as 1, ``neither`` as 1/2 (a
tie) and a loss as 0,

    win_rate_B = (wins_B + neither / 2) / (wins_A + wins_B + neither).

Intervals are percentile-bootstrap intervals from
:func:`pluralign.evaluate.metrics.bootstrap_accuracy` (the same helper as the per-group
accuracy; a rating maps to the margin +1 / 0 / -1), resampling whole participants (a cluster
bootstrap, Davison & Hinkley 1997, §3.8): one person's ratings are not
independent. Results are given overall, per clause and per opinion group.

Agreement with the automatic judge is computed per prompt. The people's verdict on a prompt is
the sign of (B votes − A votes) over all its ratings (``"tie"`` when equal); the judge's verdict
is its ``verdict`` in ``judge_items.jsonl``. The share of prompts where both pick the same and
Cohen's kappa are computed by :mod:`pluralign.evaluate.agreement` (statistics over ratings that
the report uses too, so they live below both; re-exported here).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from pluralign.bootstrap import ALPHA, N_BOOT
from pluralign.evaluate.agreement import (  # agreement with the judge lives below the features
    VERDICTS,
    Agreement,
    agreement,
    cohens_kappa,
    judge_verdicts,
)

__all__ = [
    "CHOICES",
    "MARGIN",
    "VERDICTS",
    "Agreement",
    "Rating",
    "Score",
    "agreement",
    "cohens_kappa",
    "judge_verdicts",
    "people_verdicts",
    "score",
    "summarise",
]

CHOICES = ("a", "b", "neither")
MARGIN = {"b": 1.0, "neither": 0.0, "a": -1.0}


@dataclass(frozen=True)
class Rating:
    """One participant's choice on one (prompt, clause) item."""

    prompt: str
    """The prompt's text (also the key agreement with the judge is computed on)."""
    clause: str
    """The clause's id."""
    participant: str
    group: str
    """The participant's opinion group (``g0``, ``g1`` ...) or ``""`` when not placed."""
    choice: str


@dataclass(frozen=True)
class Score:
    """B's win rate over A on a set of ratings, with its bootstrap interval."""

    n: int
    participants: int
    wins_a: int
    wins_b: int
    neither: int
    win_rate_b: float | None
    ci_low: float | None
    ci_high: float | None

    def to_json(self) -> dict:
        return asdict(self)


def _check(ratings: Sequence[Rating]) -> None:
    bad = {r.choice for r in ratings} - set(CHOICES)
    if bad:
        raise ValueError(f"unknown choices {sorted(bad)}; expected one of {CHOICES}")


def score(
    ratings: Sequence[Rating],
    *,
    n_boot: int = N_BOOT,
    alpha: float = ALPHA,
    seed: int = 0,
    key: str = "",
) -> Score:
    """Win rate of B with a participant-cluster bootstrap interval (``None`` for no ratings)."""
    from pluralign.evaluate.metrics import bootstrap_accuracy

    _check(ratings)
    counts = Counter(r.choice for r in ratings)
    people = len({r.participant for r in ratings})
    if not ratings:
        return Score(0, 0, 0, 0, 0, None, None, None)
    iv = bootstrap_accuracy(
        [MARGIN[r.choice] for r in ratings],
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
        key=key,
        clusters=[r.participant for r in ratings],
    )
    return Score(
        len(ratings),
        people,
        counts["a"],
        counts["b"],
        counts["neither"],
        iv.estimate,
        _finite(iv.low),
        _finite(iv.high),
    )


def _finite(x: float) -> float | None:
    return None if x != x else float(x)  # NaN -> None (JSON has no NaN)


def summarise(
    ratings: Sequence[Rating], *, n_boot: int = N_BOOT, alpha: float = ALPHA, seed: int = 0
) -> dict:
    """Overall, per-clause and per-group scores as a JSON-ready dict.

    Each score's resampling is seeded from ``(seed, key)`` so a group's interval does not
    depend on which other groups exist.
    """
    by_clause: dict[str, list[Rating]] = defaultdict(list)
    by_group: dict[str, list[Rating]] = defaultdict(list)
    for r in ratings:
        by_clause[r.clause].append(r)
        by_group[r.group or "(none)"].append(r)
    kw = {"n_boot": n_boot, "alpha": alpha, "seed": seed}
    return {
        "overall": score(ratings, key="overall", **kw).to_json(),
        "per_clause": {
            c: score(rs, key=f"clause:{c}", **kw).to_json() for c, rs in sorted(by_clause.items())
        },
        "per_group": {
            g: score(rs, key=f"group:{g}", **kw).to_json() for g, rs in sorted(by_group.items())
        },
    }


def people_verdicts(ratings: Iterable[Rating]) -> dict[str, str]:
    """Per prompt: ``"b"`` when more people chose B than A, ``"a"`` when fewer, else ``"tie"``
    (``neither`` counts for neither side)."""
    net: dict[str, float] = defaultdict(float)
    for r in ratings:
        net[r.prompt] += MARGIN[r.choice]
    return {p: "b" if v > 0 else "a" if v < 0 else "tie" for p, v in net.items()}
