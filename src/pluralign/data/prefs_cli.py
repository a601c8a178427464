"""``pluralign data prefs | import-prism | weight | check | to-hf``: preference pair files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
from pluralign.contract import default, from_options, help_of
from pluralign.data.settings import DataSettings
from pluralign.errors import InputError

_D = DataSettings

WeightingOption = Annotated[str, typer.Option("--weighting", help=help_of(_D, "weighting"))]
PanelOption = Annotated[
    Path | None,
    typer.Option("--panel", help="Panel CSV: id, feature columns, optional weight column."),
]
WeightsOption = Annotated[
    Path | None,
    typer.Option("--weights", help="Person weights CSV (id,weight) for --weighting soft."),
]
HistoryOption = Annotated[
    bool,
    typer.Option("--history/--no-history", help="Prefix later turns with the conversation so far."),
]
MaxTurnOption = Annotated[
    int | None,
    typer.Option("--max-turn", help="Last conversation turn to use (0 = the first turn only)."),
]
TargetsOption = Annotated[
    Path | None,
    typer.Option(
        "--targets",
        help="Population targets for --weighting representative: CSV feature,value,share "
        "a quotas CSV feature,value,min,max, or population.json.",
    ),
]


def prefs_cmd(
    from_sim: Annotated[Path, typer.Option("--from-sim", help="Simulator output folder.")],
    out: Annotated[Path, typer.Option("--out", help="Training pairs JSONL to write.")],
    heldout_out: Annotated[
        Path | None,
        typer.Option(
            "--heldout-out", help="Held-out pairs JSONL (default: OUT with .heldout.jsonl)."
        ),
    ] = None,
    panel: PanelOption = None,
    weighting: WeightingOption = default(_D, "weighting"),
    weights: WeightsOption = None,
    targets: TargetsOption = None,
    groups: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            help="Opinion groups CSV (participant,group) from aggregation; default: "
            "the simulator's latent groups.",
        ),
    ] = None,
    bank: Annotated[Path | None, typer.Option("--bank", help="Prompt bank YAML.")] = None,
    templates: Annotated[str, typer.Option("--templates", help=help_of(_D, "templates"))
                         ] = default(_D, "templates"),
    heldout_fraction: Annotated[float, typer.Option(
        "--heldout-fraction", help=help_of(_D, "heldout_fraction"))] = default(
        _D, "heldout_fraction"),
    prompts_per_member: Annotated[int | None, typer.Option(
        "--prompts-per-member", help=help_of(_D, "prompts_per_member").replace("null", "default"))
    ] = default(_D, "prompts_per_member"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same output.")] = 0,
) -> None:
    """Preference pairs from a simulated assembly: each panel member's choices."""
    from pluralign.data.stage import DataInputs
    from pluralign.data.stage import run as data_run

    settings = from_options(DataSettings, weighting=weighting, templates=templates,
                            heldout_fraction=heldout_fraction,
                            prompts_per_member=prompts_per_member)
    result = data_run(DataInputs(simulation=from_sim, panel=panel, weights=weights,
                                 targets=targets, groups=groups, bank=bank), settings, seed)
    heldout_out = heldout_out or out.with_name(out.name.removesuffix(".jsonl") + ".heldout.jsonl")
    train_path, heldout_path = result.write_files(out, heldout_out)
    d = result.train.provenance["builder"]
    console.print(
        f"{len(result.train)} training and {len(result.heldout)} held-out pairs from "
        f"{d['members']} members, {d['prompts']} prompts {d['kinds']}"
    )
    console.print(f"wrote {train_path} and {heldout_path}")


def import_prism_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with survey.jsonl, conversations.jsonl")],
    out: Annotated[Path, typer.Option("--out", help="Pairs JSONL to write.")],
    group_by: Annotated[
        str, typer.Option("--group-by", help="Survey feature used as the pair's group.")
    ] = "gender",
    pairs: Annotated[
        str, typer.Option("--pairs", help="best-vs-rest | best-vs-worst | all")
    ] = "best-vs-rest",
    history: HistoryOption = True,
    max_turn: MaxTurnOption = None,
) -> None:
    """Import PRISM (survey.jsonl + conversations.jsonl) as preference pairs."""
    from pluralign.data.prism import import_prism

    rows = import_prism(folder, group_by=group_by, pairs=pairs, history=history, max_turn=max_turn)
    if not rows:
        raise InputError(
            "no preference pairs found (every turn tied or had one response)", where=str(folder)
        )
    _write_imported(
        out, rows, "prism", folder, "participants",
        {"group_by": group_by, "pairs": pairs, "history": history, "max_turn": max_turn},
        "PRISM: human text CC BY 4.0, model responses CC BY-NC 4.0 (Kirk et al. 2024)",
    )


def _write_imported(out, rows, kind: str, source: Path, who: str, settings: dict,
                    license: str) -> None:
    """Write an imported dataset's pairs with their provenance and say how many people made
    them (``who``: what the dataset calls them)."""
    from pluralign.data.preferences import make_provenance, write_jsonl

    prov = make_provenance(f"preferences.{kind}", inputs={kind: source}, settings=settings,
                           license=license)
    write_jsonl(out, rows, prov)
    people = len({p.provenance["participant"] for p in rows})
    console.print(f"{len(rows)} pairs from {people} {who} → {out}")


def import_community_alignment_cmd(
    path: Annotated[
        Path, typer.Argument(help="The dataset's CSV (e.g. filtered_community_alignment.csv).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Pairs JSONL to write.")],
    group_by: Annotated[
        str,
        typer.Option(
            "--group-by",
            help="Annotator feature used as the pair's group: country, language, age, gender, "
            "education_level, political, ethnicity.",
        ),
    ] = "country",
    language: Annotated[
        list[str] | None,
        typer.Option("--language", help="Keep only this assigned language (repeatable)."),
    ] = None,
    pregenerated_only: Annotated[
        bool,
        typer.Option(
            "--pregenerated-only",
            help="Drop conversations whose first prompt the annotator wrote themselves.",
        ),
    ] = False,
    history: HistoryOption = True,
    max_turn: MaxTurnOption = None,
) -> None:
    """Import Community Alignment (Meta 2025, CC BY 4.0) as preference pairs with annotator
    groups."""
    from pluralign.data.community_alignment import LICENSE, import_community_alignment

    rows = import_community_alignment(
        path,
        group_by=group_by,
        languages=language,
        pregenerated_only=pregenerated_only,
        history=history,
        max_turn=max_turn,
    )
    if not rows:
        raise InputError("no preference pairs found (check --language)", where=str(path))
    settings = {
        "group_by": group_by,
        "languages": language,
        "pregenerated_only": pregenerated_only,
        "history": history,
        "max_turn": max_turn,
    }
    _write_imported(out, rows, "community_alignment", path, "annotators", settings, LICENSE)


def steer_cmd(
    data: Annotated[Path, typer.Argument(help="Preference JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="Steered JSONL to write.")],
    views: Annotated[
        str,
        typer.Option(
            "--views",
            help="YAML/JSON mapping {group: view text}, or 'sim' (the simulator's latent groups).",
        ),
    ],
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Grouping whose view each pair gets: group, latent, opinion, demographic:FEATURE.",
        ),
    ] = "group",
) -> None:
    """Put a line naming each pair's group view before its prompt (steerable pluralism:
    train a model that follows the view it is given; docs/evaluation.md)."""
    from pluralign.data.preferences import PreferencePair, make_provenance, read_jsonl, write_jsonl
    from pluralign.data.steer import load_views, steer_rows

    prefs = read_jsonl(data)
    rows = steer_rows([p.to_dict() for p in prefs.pairs], load_views(views), by)
    prov = make_provenance(
        "preferences.steer",
        inputs={"data": data, **({} if views == "sim" else {"views": Path(views)})},
        settings={"views": views, "by": by},
        upstream=dict(prefs.provenance),
    )
    write_jsonl(out, [PreferencePair.from_dict(r) for r in rows], prov)
    console.print(f"{len(rows)} pairs steered by {by} → {out}")


def weight_cmd(
    data: Annotated[Path, typer.Argument(help="Preference JSONL (any source).")],
    out: Annotated[Path, typer.Option("--out", help="Weighted JSONL to write.")],
    panel: PanelOption = None,
    weighting: WeightingOption = default(_D, "weighting"),
    weights: WeightsOption = None,
    targets: TargetsOption = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the representative subset's visiting order.")
    ] = 0,
) -> None:
    """Apply a panel weighting mode to any preference file (PRISM, LLM-generated ...)."""
    from pluralign.data.preferences import make_provenance, read_jsonl, write_jsonl
    from pluralign.data.prefsets import resolve_weighting, weighting_inputs
    from pluralign.data.weighting import apply_weighting

    weighting = from_options(DataSettings, weighting=weighting).weighting
    prefs = read_jsonl(data)
    kwargs = weighting_inputs(weighting, panel, weights, targets)
    weighting = resolve_weighting(weighting, kwargs)
    result = apply_weighting(prefs.pairs, weighting, seed=seed, **kwargs)
    prov = make_provenance(
        "preferences.weight",
        inputs={"data": data, **({"panel": panel} if panel else {})},
        seed=seed,
        settings={"weighting": weighting},
        weighting=dict(result.details),
        upstream=dict(prefs.provenance),
    )
    write_jsonl(out, result.pairs, prov)
    console.print(f"{len(result.pairs)} of {len(prefs.pairs)} pairs kept ({weighting}) → {out}")


def check_cmd(data: Annotated[Path, typer.Argument(help="Preference JSONL to validate.")]) -> None:
    """Validate a preference file and summarise it (rows, groups, sources, weights)."""
    from collections import Counter

    from pluralign.data.preferences import read_jsonl

    prefs = read_jsonl(data)
    weights = [p.weight for p in prefs.pairs]
    console.print(
        f"{len(prefs.pairs)} valid pairs; mean weight {sum(weights) / max(len(weights), 1):.3f}"
    )
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
    group = typer.Typer(
        help="Data in and out: preference pairs, PRISM and Community Alignment import, weighting.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="data")
    return group


def register(app: typer.Typer) -> None:
    group = _data_group(app)
    group.command("prefs")(prefs_cmd)
    group.command("import-prism")(import_prism_cmd)
    group.command("import-community-alignment")(import_community_alignment_cmd)
    group.command("steer")(steer_cmd)
    group.command("weight")(weight_cmd)
    group.command("check")(check_cmd)
    group.command("to-hf")(to_hf_cmd)
