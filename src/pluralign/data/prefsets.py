"""Preference files end to end (the API behind ``pluralign data prefs``): read a panel, person
weights and population targets; build, weight, split and write simulator preference pairs.

File formats (docs/preferences.md): panel CSV ``id`` + feature columns (+ optional ``weight``);
weights CSV ``id,weight``; targets CSV ``feature,value,share``, a sortition quotas CSV
``feature,value,min,max`` (midpoints as shares) or the simulator's ``population.json``
(``{"features": {feature: {value: share}}}``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.data.preferences import PreferencePair, PreferenceSet
from pluralign.errors import InputError, at


def _csv(path: Path):
    from pluralign.csvtable import read_table

    return read_table(path).frame()


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", where=at(path, line, column)) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"must be a finite number >= 0, got {text!r}", where=at(path, line, column)
        )
    return value


def read_panel(path: Path) -> tuple[list[str], dict[str, float] | None, dict[str, dict[str, str]]]:
    """Panel ids, their weights (if a ``weight`` column exists) and demographics (other columns
    except ``probability``/``selected``)."""
    df = _csv(path)
    if "id" not in df.columns:
        raise InputError("panel file has no 'id' column", where=at(path, 1))
    ids = [str(i) for i in df["id"]]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"panel member '{dup}' appears twice", where=str(path))
    weights = None
    if "weight" in df.columns:
        weights = {
            i: _number(w, path, n + 2, "weight")
            for n, (i, w) in enumerate(zip(ids, df["weight"], strict=True))
        }
    features = [c for c in df.columns if c not in ("id", "weight", "probability", "selected")]
    demo = {
        i: {f: str(r[f]) for f in features} for i, r in zip(ids, df.to_dict("records"), strict=True)
    }
    return ids, weights, demo


def read_weights(path: Path) -> dict[str, float]:
    df = _csv(path)
    for col in ("id", "weight"):
        if col not in df.columns:
            raise InputError(f"weights file has no '{col}' column", where=at(path, 1))
    return {
        str(i): _number(w, path, n + 2, "weight")
        for n, (i, w) in enumerate(zip(df["id"], df["weight"], strict=True))
    }


def read_targets(path: Path) -> dict[str, dict[str, float]]:
    """feature → value → share, from ``feature,value,share``, quota ``feature,value,min,max``
    (share = the midpoint (min+max)/2, renormalised per feature) or ``population.json``."""
    if path.suffix == ".json":
        from pluralign.io import read_json

        obj = read_json(path)
        features = obj.get("features") if isinstance(obj, dict) else None
        if not isinstance(features, dict) or not all(
            isinstance(v, dict)
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v.values())
            for v in features.values()
        ):
            raise InputError('expected {"features": {feature: {value: share}}}', where=str(path))
        return {str(f): {str(v): float(x) for v, x in vals.items()} for f, vals in features.items()}
    df = _csv(path)
    cols = set(df.columns)
    if not {"feature", "value"} <= cols or not ({"share"} <= cols or {"min", "max"} <= cols):
        raise InputError(
            "targets need columns feature,value,share or feature,value,min,max", where=at(path, 1)
        )
    out: dict[str, dict[str, float]] = {}
    for n, r in enumerate(df.to_dict("records"), start=2):
        if "share" in cols:
            share = _number(r["share"], path, n, "share")
        else:
            share = (_number(r["min"], path, n, "min") + _number(r["max"], path, n, "max")) / 2
        out.setdefault(str(r["feature"]), {})[str(r["value"])] = share
    return out


def weighting_inputs(
    weighting: str,
    panel: Path | None = None,
    weights: Path | None = None,
    targets: Path | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :func:`pluralign.data.weighting.apply_weighting` read from files
    (``panel``, ``person_weights``, ``demographics``, ``targets``); checks the mode has what it
    needs."""
    kwargs: dict[str, Any] = {}
    if panel is not None:
        ids, panel_weights, demo = read_panel(panel)
        kwargs.update(panel=ids, demographics=demo)
        if panel_weights is not None:
            kwargs["person_weights"] = panel_weights
    if weights is not None:
        kwargs["person_weights"] = read_weights(weights)
    if targets is not None:
        kwargs["targets"] = read_targets(targets)
    if weighting == "soft" and "person_weights" not in kwargs:
        raise InputError(
            "--weighting soft needs person weights",
            hint="give --weights weights.csv or a --panel file with a weight column",
        )
    if weighting == "representative" and ("targets" not in kwargs or panel is None):
        raise InputError(
            "--weighting representative needs --panel (with feature columns) and --targets"
        )
    return kwargs


def resolve_weighting(weighting: str, kwargs: Mapping[str, Any]) -> str:
    """The weighting mode ``auto`` stands for: ``soft`` when person weights were given (a
    ``--weights`` file or a panel with a weight column: ``kwargs`` of :func:`weighting_inputs`),
    else ``hard``; any other mode as it is."""
    if weighting != "auto":
        return weighting
    return "soft" if "person_weights" in kwargs else "hard"


def split_weighted(
    pairs: Sequence[PreferencePair], weighting: str, seed: int, kwargs: Mapping[str, Any]
):
    """Weight all pairs together (one representative subset), then renormalise each split
    (``provenance.split``: train / heldout) to mean 1. Returns the weighting result and
    ``{"train": [...], "heldout": [...]}``."""
    from pluralign.data.weighting import apply_weighting, normalise_mean_one

    result = apply_weighting(pairs, weighting, seed=seed, **kwargs)
    parts = {}
    for split in ("train", "heldout"):
        part = [p for p in result.pairs if p.provenance.get("split", "train") == split]
        if part:
            w = normalise_mean_one([p.weight for p in part])
            part = [p.with_weight(round(float(x), 12)) for p, x in zip(part, w, strict=True)]
        parts[split] = part
    return result, parts


@dataclass(frozen=True)
class SimPreferenceFiles:
    """What :func:`write_sim_preferences` wrote."""

    train: Path
    heldout: Path
    train_pairs: int
    heldout_pairs: int
    details: Mapping[str, Any] = field(default_factory=dict)


def sim_preference_sets(
    sim_dir: str | Path,
    *,
    weighting: str = "hard",
    panel: Path | None = None,
    weights: Path | None = None,
    targets: Path | None = None,
    groups: Path | None = None,
    bank: Path | None = None,
    templates: str = "all",
    heldout_fraction: float = 0.3,
    prompts_per_member: int | None = None,
    seed: int = 0,
    balance: bool = True,
    heldout_unseen: str = "none",
    unseen_fraction: float = 0.1,
    group_source: str = "votes",
    balance_unit: str = "pair",
) -> tuple[PreferenceSet, PreferenceSet]:
    """Build simulator preference pairs, weight them and split them: the training and the
    held-out :class:`~pluralign.data.preferences.PreferenceSet`, each with its provenance (the
    builder's details under ``builder``).

    ``balance``: reweight the training pairs so that the agreeing and the disagreeing response
    win with equal total weight (:func:`~pluralign.data.simprefs.balance_choices`; ``balance_unit``
    ``pair`` or ``prompt``: the prompts whose majority agrees and those whose majority
    disagrees, each prompt's own split kept); held-out
    pairs keep the panel's weights. ``heldout_unseen`` (``none``, ``divisive``, ``all``): also
    hold out the statement bank's statements the conversation did not include
    (:func:`~pluralign.data.simprefs.unseen_statements`). ``unseen_fraction``: the share of
    the conversation's statements held back whole, every wording of them
    (:func:`~pluralign.data.split.held_back_statements`). ``group_source``: the pairs' ``group``
    column holds the opinion groups of ``groups`` (``votes``: the aggregation's, from the votes
    alone) or the panel clustered on their votes and training choices together
    (``votes+choices``: :mod:`pluralign.data.choice_groups`; ``groups`` is then kept in
    ``provenance.opinion_group``)."""
    from pluralign.data.preferences import make_provenance
    from pluralign.data.prompt_bank import load_bank
    from pluralign.data.simprefs import (
        balance_choices,
        build_sim_preferences,
        load_simulation,
        unseen_statements,
    )

    kwargs = weighting_inputs(weighting, panel, weights, targets)
    weighting = resolve_weighting(weighting, kwargs)
    assembly = load_simulation(sim_dir)
    opinion = None
    if groups is not None:
        df = _csv(groups)
        for col in ("participant", "group"):
            if col not in df.columns:
                raise InputError(f"groups file has no '{col}' column", where=at(groups, 1))
        opinion = dict(zip(df["participant"].astype(str), df["group"].astype(str), strict=True))
    sim = build_sim_preferences(
        assembly,
        load_bank(bank),
        members=kwargs.get("panel"),
        seed=seed,
        heldout_fraction=heldout_fraction,
        templates=templates,
        prompts_per_member=prompts_per_member,
        opinion_groups=opinion,
        unseen_fraction=unseen_fraction,
        unseen=()
        if heldout_unseen == "none"
        else unseen_statements(sim_dir, assembly, heldout_unseen),
    )
    result, parts = split_weighted([*sim.train, *sim.heldout], weighting, seed, kwargs)
    if balance and parts.get("train"):
        parts["train"] = balance_choices(parts["train"], balance_unit)
    builder = dict(sim.details)
    if group_source == "votes+choices":
        from pluralign.data import choice_groups

        members = sorted({str(p.provenance.get("participant")) for p in sim.train + sim.heldout})
        found = choice_groups.vote_choice_groups(
            choice_groups.sim_votes(sim_dir, assembly), sim.train, members, seed)
        parts = {k: choice_groups.regroup(v, found.labels) for k, v in parts.items()}
        builder["groups"] = dict(found.details)
    elif group_source != "votes":
        raise InputError(f"group_source '{group_source}' is not one of votes, votes+choices")
    inputs = {
        "sim": sim_dir,
        **{
            k: v
            for k, v in (
                ("panel", panel),
                ("weights", weights),
                ("targets", targets),
                ("groups", groups),
                ("bank", bank),
            )
            if v is not None
        },
    }
    settings = {
        "weighting": weighting,
        "templates": templates,
        "heldout_fraction": heldout_fraction,
        "unseen_fraction": unseen_fraction,
        "prompts_per_member": prompts_per_member,
        "balance": balance,
        **({"balance_unit": balance_unit} if balance and balance_unit != "pair" else {}),
        **({"heldout_unseen": heldout_unseen} if heldout_unseen != "none" else {}),
        **({"group_source": group_source} if group_source != "votes" else {}),
    }
    sets = []
    for split in ("train", "heldout"):
        prov = make_provenance(
            "preferences.sim",
            inputs=inputs,
            seed=seed,
            settings=settings,
            split=split,
            builder=builder,
            weighting=dict(result.details),
        )
        sets.append(PreferenceSet.of(parts[split], prov))
    return sets[0], sets[1]


def write_sim_preferences(
    sim_dir: str | Path,
    out: str | Path,
    heldout_out: str | Path | None = None,
    **settings: Any,
) -> SimPreferenceFiles:
    """:func:`sim_preference_sets` (``settings``: its keywords) written as the training and
    held-out JSONL files with their provenance sidecars (held-out default: ``<out
    stem>.heldout.jsonl``)."""
    from pluralign.data.preferences import write_jsonl

    out = Path(out)
    train, heldout = sim_preference_sets(sim_dir, **settings)
    held_path = (
        Path(heldout_out)
        if heldout_out is not None
        else out.with_name(out.name.removesuffix(".jsonl") + ".heldout.jsonl")
    )
    for path, part in ((out, train), (held_path, heldout)):
        write_jsonl(path, part.pairs, part.provenance)
    return SimPreferenceFiles(
        out, held_path, len(train.pairs), len(heldout.pairs), dict(train.provenance["builder"])
    )
