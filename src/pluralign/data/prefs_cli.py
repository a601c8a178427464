"""``pluralign data prefs | import-prism | weight | check | to-hf``: preference pair files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from pluralign.clikit import console
from pluralign.errors import InputError, at

WeightingOption = Annotated[str, typer.Option(
    "--weighting", help="hard (panel members only, weight 1) | soft (person weights from "
    "sortition) | representative (quota-matching subset).")]
PanelOption = Annotated[Path | None, typer.Option(
    "--panel", help="Panel CSV: id, feature columns, optional weight column.")]
WeightsOption = Annotated[Path | None, typer.Option(
    "--weights", help="Person weights CSV (id,weight) for --weighting soft.")]
TargetsOption = Annotated[Path | None, typer.Option(
    "--targets", help="Population targets for --weighting representative: CSV feature,value,share "
    "or a quotas CSV feature,value,min,max.")]


def _csv(path: Path):
    import pandas as pd

    if not path.is_file():
        raise InputError("file not found", where=str(path))
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV ({exc})", where=str(path)) from exc


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", where=at(path, line, column)) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"must be a finite number >= 0, got {text!r}",
                         where=at(path, line, column))
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
        weights = {i: _number(w, path, n + 2, "weight") for n, (i, w) in
                   enumerate(zip(ids, df["weight"], strict=True))}
    features = [c for c in df.columns if c not in ("id", "weight", "probability", "selected")]
    demo = {i: {f: str(r[f]) for f in features} for i, r in zip(ids, df.to_dict("records"),
                                                               strict=True)}
    return ids, weights, demo


def read_weights(path: Path) -> dict[str, float]:
    df = _csv(path)
    for col in ("id", "weight"):
        if col not in df.columns:
            raise InputError(f"weights file has no '{col}' column", where=at(path, 1))
    return {str(i): _number(w, path, n + 2, "weight")
            for n, (i, w) in enumerate(zip(df["id"], df["weight"], strict=True))}


def read_targets(path: Path) -> dict[str, dict[str, float]]:
    """feature → value → share, from ``feature,value,share`` or quota ``feature,value,min,max``
    (share = the midpoint (min+max)/2, renormalised per feature)."""
    df = _csv(path)
    cols = set(df.columns)
    if not {"feature", "value"} <= cols or not ({"share"} <= cols or {"min", "max"} <= cols):
        raise InputError("targets need columns feature,value,share or feature,value,min,max",
                         where=at(path, 1))
    out: dict[str, dict[str, float]] = {}
    for n, r in enumerate(df.to_dict("records"), start=2):
        if "share" in cols:
            share = _number(r["share"], path, n, "share")
        else:
            share = (_number(r["min"], path, n, "min") + _number(r["max"], path, n, "max")) / 2
        out.setdefault(str(r["feature"]), {})[str(r["value"])] = share
    return out


def _weighting_inputs(weighting: str, panel: Path | None, weights: Path | None,
                      targets: Path | None) -> dict[str, Any]:
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
        raise InputError("--weighting soft needs person weights",
                         hint="give --weights weights.csv or a --panel file with a weight column")
    if weighting == "representative" and ("targets" not in kwargs or panel is None):
        raise InputError("--weighting representative needs --panel (with feature columns) and "
                         "--targets")
    return kwargs


def _split_weighted(pairs, weighting: str, seed: int, kwargs: dict[str, Any]):
    """Weight all pairs together (one representative subset), then renormalise each split."""
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


def prefs_cmd(
    from_sim: Annotated[Path, typer.Option("--from-sim", help="Simulator output folder.")],
    out: Annotated[Path, typer.Option("--out", help="Training pairs JSONL to write.")],
    heldout_out: Annotated[Path | None, typer.Option(
        "--heldout-out", help="Held-out pairs JSONL (default: OUT with .heldout.jsonl).")] = None,
    panel: PanelOption = None,
    weighting: WeightingOption = "hard",
    weights: WeightsOption = None,
    targets: TargetsOption = None,
    groups: Annotated[Path | None, typer.Option(
        "--groups", help="Opinion groups CSV (participant,group) from aggregation; default: "
        "the simulator's latent groups.")] = None,
    bank: Annotated[Path | None, typer.Option("--bank", help="Prompt bank YAML.")] = None,
    templates: Annotated[str, typer.Option(
        "--templates", help="Template prompts for: all statements | missing ones | none.")] = "all",
    heldout_fraction: Annotated[float, typer.Option("--heldout-fraction")] = 0.3,
    prompts_per_member: Annotated[int | None, typer.Option(
        "--prompts-per-member", help="Random prompts each member answers (default: all).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same output.")] = 0,
) -> None:
    """Preference pairs from a simulated assembly: each panel member's choices."""
    from pluralign.data.preferences import make_provenance, write_jsonl
    from pluralign.data.prompt_bank import load_bank
    from pluralign.data.simprefs import build_sim_preferences, load_simulation

    kwargs = _weighting_inputs(weighting, panel, weights, targets)
    assembly = load_simulation(from_sim)
    opinion = None
    if groups is not None:
        df = _csv(groups)
        for col in ("participant", "group"):
            if col not in df.columns:
                raise InputError(f"groups file has no '{col}' column", where=at(groups, 1))
        opinion = dict(zip(df["participant"].astype(str), df["group"].astype(str), strict=True))
    members = kwargs.get("panel")
    sim = build_sim_preferences(assembly, load_bank(bank), members=members, seed=seed,
                                heldout_fraction=heldout_fraction, templates=templates,
                                prompts_per_member=prompts_per_member, opinion_groups=opinion)
    result, parts = _split_weighted([*sim.train, *sim.heldout], weighting, seed, kwargs)
    inputs = {"sim": from_sim, **{k: v for k, v in (("panel", panel), ("weights", weights),
              ("targets", targets), ("groups", groups), ("bank", bank)) if v is not None}}
    settings = {"weighting": weighting, "templates": templates,
                "heldout_fraction": heldout_fraction, "prompts_per_member": prompts_per_member}
    held_path = heldout_out or out.with_name(out.name.removesuffix(".jsonl") + ".heldout.jsonl")
    for split, path in (("train", out), ("heldout", held_path)):
        prov = make_provenance("preferences.sim", inputs=inputs, seed=seed, settings=settings,
                               split=split, builder=dict(sim.details),
                               weighting=dict(result.details))
        write_jsonl(path, parts[split], prov)
    console.print(f"{len(parts['train'])} training and {len(parts['heldout'])} held-out pairs "
                  f"from {sim.details['members']} members, {sim.details['prompts']} prompts "
                  f"{sim.details['kinds']}")
    console.print(f"wrote {out} and {held_path}")


def import_prism_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with survey.jsonl, conversations.jsonl")],
    out: Annotated[Path, typer.Option("--out", help="Pairs JSONL to write.")],
    group_by: Annotated[str, typer.Option(
        "--group-by", help="Survey feature used as the pair's group.")] = "gender",
    pairs: Annotated[str, typer.Option(
        "--pairs", help="best-vs-rest | best-vs-worst | all")] = "best-vs-rest",
    history: Annotated[bool, typer.Option(
        "--history/--no-history", help="Prefix later turns with the conversation so far.")] = True,
    max_turn: Annotated[int | None, typer.Option("--max-turn")] = None,
) -> None:
    """Import PRISM (survey.jsonl + conversations.jsonl) as preference pairs."""
    from pluralign.data.preferences import make_provenance, write_jsonl
    from pluralign.data.prism import import_prism

    rows = import_prism(folder, group_by=group_by, pairs=pairs, history=history,
                        max_turn=max_turn)
    if not rows:
        raise InputError("no preference pairs found (every turn tied or had one response)",
                         where=str(folder))
    prov = make_provenance("preferences.prism", inputs={"prism": folder}, settings={
        "group_by": group_by, "pairs": pairs, "history": history, "max_turn": max_turn},
        license="PRISM: human text CC BY 4.0, model responses CC BY-NC 4.0 (Kirk et al. 2024)")
    write_jsonl(out, rows, prov)
    console.print(f"{len(rows)} pairs from {len({p.provenance['participant'] for p in rows})} "
                  f"participants → {out}")


def weight_cmd(
    data: Annotated[Path, typer.Argument(help="Preference JSONL (any source).")],
    out: Annotated[Path, typer.Option("--out", help="Weighted JSONL to write.")],
    panel: PanelOption = None,
    weighting: WeightingOption = "hard",
    weights: WeightsOption = None,
    targets: TargetsOption = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Apply a panel weighting mode to any preference file (PRISM, LLM-generated ...)."""
    from pluralign.data.preferences import make_provenance, read_jsonl, write_jsonl
    from pluralign.data.weighting import apply_weighting

    prefs = read_jsonl(data)
    kwargs = _weighting_inputs(weighting, panel, weights, targets)
    result = apply_weighting(prefs.pairs, weighting, seed=seed, **kwargs)
    prov = make_provenance("preferences.weight", inputs={"data": data, **(
        {"panel": panel} if panel else {})}, seed=seed, settings={"weighting": weighting},
        weighting=dict(result.details), upstream=dict(prefs.provenance))
    write_jsonl(out, result.pairs, prov)
    console.print(f"{len(result.pairs)} of {len(prefs.pairs)} pairs kept ({weighting}) → {out}")


def check_cmd(data: Annotated[Path, typer.Argument(help="Preference JSONL to validate.")]) -> None:
    """Validate a preference file and summarise it (rows, groups, sources, weights)."""
    from collections import Counter

    from pluralign.data.preferences import read_jsonl

    prefs = read_jsonl(data)
    weights = [p.weight for p in prefs.pairs]
    console.print(f"{len(prefs.pairs)} valid pairs; mean weight "
                  f"{sum(weights) / max(len(weights), 1):.3f}")
    console.print(f"groups: {dict(Counter(p.group for p in prefs.pairs))}")
    console.print(f"sources: {dict(Counter(p.source for p in prefs.pairs))}")


def to_hf_cmd(
    data: Annotated[Path, typer.Argument(help="Preference JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for datasets' save_to_disk.")],
) -> None:
    """Save a preference file as a Hugging Face dataset folder (load with load_from_disk)."""
    from pluralign.data.preferences import read_jsonl, to_hf_dataset

    ds = to_hf_dataset(read_jsonl(data))
    ds.save_to_disk(str(out))
    console.print(f"{len(ds)} rows → {out}")


def _data_group(app: typer.Typer) -> typer.Typer:
    for info in app.registered_groups:
        if info.name == "data" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="Data in and out: preference pairs, PRISM import, weighting.",
                        no_args_is_help=True)
    app.add_typer(group, name="data")
    return group


def register(app: typer.Typer) -> None:
    group = _data_group(app)
    group.command("prefs")(prefs_cmd)
    group.command("import-prism")(import_prism_cmd)
    group.command("weight")(weight_cmd)
    group.command("check")(check_cmd)
    group.command("to-hf")(to_hf_cmd)
