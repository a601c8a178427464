"""Panel weighting: which people's preference pairs count, and how much.

Every pair carries the id of the person who made the choice in ``provenance["participant"]``.
Three modes decide each pair's weight; in all of them the final weights are normalised to mean 1
over the kept pairs, so the loss scale (and learning rate) does not change with the mode:

``hard``
    Only panel members' pairs are kept, each with person factor 1. The panel speaks as drawn.
``soft``
    Every person with a weight in the given mapping (person → weight, e.g. the sortition stage's
    inverse-probability weights that re-weight the panel to the population) keeps their pairs,
    each multiplied by that weight. People without a weight are dropped.
``representative``
    A quota-matching subset of the panel: people are visited in a seeded random order and taken
    while no feature value exceeds its target share of the subset size (greedy; targets are
    population shares per feature value). Person factor 1. The achieved shares are reported.

Final weight of pair *i* by person *p*: ``wᵢ = bᵢ · f_p · n / Σⱼ bⱼ f_pⱼ``, ``bᵢ`` being the pair's
incoming weight and ``f_p`` the person factor above; hence ``mean(w) = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError

MODES = ("hard", "soft", "representative")


@dataclass(frozen=True)
class WeightingResult:
    """Weighted pairs, the people kept and what the mode did (for provenance)."""

    pairs: tuple[PreferencePair, ...]
    mode: str
    people: tuple[str, ...]
    details: Mapping[str, Any] = field(default_factory=dict)


def normalise_mean_one(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Scale weights so their mean is 1 (``w · n / Σw``). Raises if all are zero or any is
    negative or not finite."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return w
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("weights must be finite and >= 0")
    total = w.sum()
    if total <= 0:
        raise InputError(
            "all weights are zero: nothing would be learned",
            hint="check the person weights given for the panel",
        )
    return w * (w.size / total)


def _participant(pair: PreferencePair) -> str | None:
    value = pair.provenance.get("participant")
    return None if value is None else str(value)


def representative_subset(
    demographics: Mapping[str, Mapping[str, str]],
    targets: Mapping[str, Mapping[str, float]],
    *,
    seed: int,
    size: int | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Greedy quota-matching subset of people.

    ``demographics``: person → {feature: value}; ``targets``: feature → {value: share} (shares
    of one feature need not sum exactly to 1; they are renormalised). The subset size ``n`` is the
    largest one every target value can fill, ``min over (f, v) of count(f, v) / share(f, v)``
    (or ``size`` if smaller). Caps are ``ceil(share · n)`` people per feature value; people are
    visited in a random order drawn from ``seed`` and taken while all their values are under cap.
    Returns the chosen ids (in pool order) and a report of target vs achieved shares."""
    people = list(demographics)
    if not people:
        raise InputError("no people to choose a representative subset from")
    shares: dict[str, dict[str, float]] = {}
    for feature, values in targets.items():
        total = float(sum(values.values()))
        if total <= 0:
            raise InputError(f"target shares of feature '{feature}' sum to zero")
        shares[feature] = {str(v): float(s) / total for v, s in values.items()}
    for person in people:
        for feature in shares:
            if feature not in demographics[person]:
                raise InputError(
                    f"person '{person}' has no value for target feature '{feature}'",
                    hint="the panel file needs one column per target feature",
                )
    n = len(people) if size is None else min(size, len(people))
    for feature, values in shares.items():
        for value, share in values.items():
            if share <= 0:
                continue
            count = sum(1 for p in people if str(demographics[p][feature]) == value)
            n = min(n, math.floor(count / share + 1e-9))
    if n <= 0:
        raise InputError(
            "no representative subset exists: some target value has nobody",
            hint="lower that value's target share or use --weighting soft",
        )
    caps = {f: {v: math.ceil(s * n - 1e-9) for v, s in vals.items()} for f, vals in shares.items()}
    counts = {f: dict.fromkeys(vals, 0) for f, vals in shares.items()}
    order = np.random.default_rng(seed).permutation(len(people))
    chosen: set[str] = set()
    for index in order:
        if len(chosen) >= n:
            break
        person = people[index]
        values = {f: str(demographics[person][f]) for f in shares}
        if all(counts[f].get(v, 0) < caps[f].get(v, 0) for f, v in values.items()):
            chosen.add(person)
            for f, v in values.items():
                counts[f][v] += 1
    picked = [p for p in people if p in chosen]
    achieved = {
        f: {v: counts[f][v] / max(len(picked), 1) for v in vals} for f, vals in shares.items()
    }
    deviation = max(
        (abs(achieved[f][v] - shares[f][v]) for f in shares for v in shares[f]), default=0.0
    )
    report = {
        "target_size": n,
        "size": len(picked),
        "targets": shares,
        "achieved": achieved,
        "max_abs_deviation": deviation,
    }
    return picked, report


def apply_weighting(
    pairs: Sequence[PreferencePair],
    mode: str,
    *,
    panel: Sequence[str] | None = None,
    person_weights: Mapping[str, float] | None = None,
    demographics: Mapping[str, Mapping[str, str]] | None = None,
    targets: Mapping[str, Mapping[str, float]] | None = None,
    seed: int = 0,
) -> WeightingResult:
    """Weight preference pairs by panel membership (see the module docstring for the modes).

    ``panel``: the panel members' ids (``hard``, ``representative``; default: everyone with
    pairs); ``person_weights``: person → weight (``soft``); ``demographics`` and ``targets``:
    for ``representative``. Pairs without ``provenance["participant"]`` are an error in every
    mode except ``hard`` without a panel (then all pairs keep factor 1)."""
    if mode not in MODES:
        raise InputError(f"unknown weighting mode '{mode}'", hint=f"use one of {', '.join(MODES)}")
    if not pairs:
        raise InputError("no preference pairs to weight")
    ids = [_participant(p) for p in pairs]
    needs_ids = not (mode == "hard" and panel is None)
    if needs_ids and any(i is None for i in ids):
        missing = ids.index(None)
        raise InputError(
            f"pair {missing + 1} has no provenance.participant; weighting mode "
            f"'{mode}' needs to know whose choice each pair is"
        )
    details: dict[str, Any] = {"mode": mode}
    if mode == "hard":
        members = set(panel) if panel is not None else set(filter(None, ids))
        factor = {m: 1.0 for m in members}
    elif mode == "soft":
        if not person_weights:
            raise InputError(
                "weighting 'soft' needs person weights (id → weight)",
                hint="give --weights weights.csv or a panel.csv with a weight column",
            )
        factor = {}
        for person, w in person_weights.items():
            if not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
                raise InputError(
                    f"weight of person '{person}' must be a finite number >= 0 (got {w!r})"
                )
            factor[str(person)] = float(w)
        if panel is not None:
            factor = {p: w for p, w in factor.items() if p in set(panel)}
    else:
        if not targets:
            raise InputError(
                "weighting 'representative' needs target shares per feature",
                hint="give --targets quotas.csv (feature,value,min,max or share)",
            )
        if demographics is None:
            raise InputError("weighting 'representative' needs the panel's demographics")
        pool = [p for p in (panel if panel is not None else demographics) if p in demographics]
        with_pairs = set(filter(None, ids))
        pool = [p for p in pool if p in with_pairs]
        picked, report = representative_subset(
            {p: demographics[p] for p in pool}, targets, seed=seed
        )
        details["representative"] = report
        factor = {p: 1.0 for p in picked}
    kept = [
        (p, factor[i] if i is not None else 1.0)
        for p, i in zip(pairs, ids, strict=True)
        if i is None or i in factor
    ]
    if not kept:
        raise InputError(
            f"weighting '{mode}' kept no pairs: no pair was made by a panel member",
            hint="check that the panel ids match the participant ids of the pairs",
        )
    raw = [p.weight * f for p, f in kept]
    weights = normalise_mean_one(raw)
    out = tuple(p.with_weight(round(float(w), 12)) for (p, _), w in zip(kept, weights, strict=True))
    people = tuple(sorted({_participant(p) or "" for p in out} - {""}))
    details.update({"pairs_in": len(pairs), "pairs_out": len(out), "people": len(people)})
    return WeightingResult(out, mode, people, details)
