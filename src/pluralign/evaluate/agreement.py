"""Agreement between two raters' per-prompt verdicts (people and a pairwise judge).

A verdict on a prompt is ``"a"``, ``"b"`` or ``"tie"``. A judge's verdict on a prompt comes from
its rows in ``judge_items.jsonl`` (``a``/``b``/``tie``; ``failure`` excluded; a prompt judged
against several clauses takes the sign of its B wins minus A wins). We report the share of
prompts where both raters pick the same (a, b or tie) and Cohen's kappa over the three
categories (Cohen 1960, *Educ. Psychol. Meas.* 20(1):37–46):

    κ = (p_o − p_e) / (1 − p_e),   p_e = Σ_k p_x(k) · p_y(k),

undefined (``None``) when p_e = 1 (both always give the same single category).

These are statistics over ratings, below any feature: the public evaluation
(:mod:`pluralign.publiceval.stats`) computes them when it writes its results, and the report
(:mod:`pluralign.report.public_section`) when those results lack them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

VERDICTS = ("a", "b", "tie")


@dataclass(frozen=True)
class Agreement:
    """How often the people's majority and the judge pick the same model, per prompt."""

    n: int
    agree: float | None
    kappa: float | None
    confusion: dict[str, dict[str, int]]
    """``confusion[people][judge]`` counts of prompts."""

    def to_json(self) -> dict:
        return asdict(self)


def cohens_kappa(
    x: Sequence[str], y: Sequence[str], categories: Sequence[str] = VERDICTS
) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; ``None`` when undefined."""
    if len(x) != len(y):
        raise ValueError("both raters must label the same items")
    n = len(x)
    if n == 0:
        return None
    p_o = sum(a == b for a, b in zip(x, y, strict=True)) / n
    cx, cy = Counter(x), Counter(y)
    p_e = sum(cx[k] * cy[k] for k in categories) / (n * n)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1 - p_e)


def agreement(people: Mapping[str, str], judge: Mapping[str, str]) -> Agreement:
    """Agreement on the prompts both the people and the judge gave a verdict on."""
    keys = sorted(k for k in people if judge.get(k) in VERDICTS and people[k] in VERDICTS)
    confusion = {p: {j: 0 for j in VERDICTS} for p in VERDICTS}
    for k in keys:
        confusion[people[k]][judge[k]] += 1
    if not keys:
        return Agreement(0, None, None, confusion)
    xs, ys = [people[k] for k in keys], [judge[k] for k in keys]
    share = sum(a == b for a, b in zip(xs, ys, strict=True)) / len(keys)
    return Agreement(len(keys), share, cohens_kappa(xs, ys), confusion)


def judge_verdicts(items: Iterable[Mapping]) -> dict[str, str]:
    """Per prompt text, the judge's verdict from ``judge_items.jsonl`` rows (a prompt judged
    against several clauses: the sign of its B wins minus A wins, like the people's)."""
    net: dict[str, float] = defaultdict(float)
    seen: set[str] = set()
    for it in items:
        v = it.get("verdict")
        if v not in VERDICTS:
            continue
        p = str(it.get("prompt", "")).strip()
        seen.add(p)
        net[p] += {"b": 1.0, "tie": 0.0, "a": -1.0}[v]
    return {p: "b" if net[p] > 0 else "a" if net[p] < 0 else "tie" for p in seen}
