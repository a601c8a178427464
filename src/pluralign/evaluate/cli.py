"""``pluralign evaluate``: held-out preference accuracy per group, before vs after training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
from pluralign.contract import default, from_options, help_of
from pluralign.errors import InputError, at
from pluralign.evaluate.settings import EvaluateSettings

_S = EvaluateSettings


def _read_margins(path: Path, n: int) -> tuple[list[float], list[float] | None]:
    from pluralign.io import read_json

    obj = read_json(path, what="margins file")
    if not isinstance(obj, dict) or not isinstance(obj.get("after"), list):
        raise InputError('expected an object {"after": [...], "before": [...]}', where=str(path))
    for key in ("after", "before"):
        values = obj.get(key)
        if values is None:
            continue
        if len(values) != n:
            raise InputError(
                f"'{key}' has {len(values)} margins but the data has {n} pairs",
                where=at(path, column=key),
            )
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise InputError(f"'{key}' must hold numbers", where=at(path, column=key))
    return obj["after"], obj.get("before")


def evaluate_cmd(
    data: Annotated[Path | None, typer.Option("--data", help="Held-out preference JSONL.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (metrics.json, margins.json; with --compare: compare.json, "
            "tradeoff.png).",
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--compare",
            metavar="RUN_A RUN_B",
            help="Compare two evaluated runs (run or evaluate folders) on the same held-out "
            "pairs: per-group, mean and worst-group accuracy, B - A with paired intervals.",
        ),
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Trained model folder.")] = None,
    ref: Annotated[
        Path | None,
        typer.Option("--ref", help="Reference (untrained) model; 'smollm2' for the embedded one."),
    ] = None,
    before: Annotated[
        Path | None,
        typer.Option(
            "--before", help="Model to report as 'before' (default: the reference itself)."
        ),
    ] = None,
    margins: Annotated[
        Path | None,
        typer.Option(
            "--margins",
            help="Precomputed margins JSON {after: [...], before: [...]} instead of "
            "scoring with models.",
        ),
    ] = None,
    beta: Annotated[float, typer.Option("--beta", help=help_of(_S, "beta"))] = default(
        _S, "beta"),
    margin: Annotated[str, typer.Option("--margin", help=help_of(_S, "margin"))] = default(
        _S, "margin"),
    group_by: Annotated[
        list[str] | None,
        typer.Option(
            "--group-by",
            help="group | opinion | latent | clause | demographic:FEATURE (repeatable; "
            "default: all found).",
        ),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help=help_of(_S, "n_boot"))] = default(
        _S, "n_boot"),
    alpha: Annotated[float, typer.Option("--alpha", help=help_of(_S, "alpha"))] = default(
        _S, "alpha"),
    min_group_size: Annotated[int, typer.Option(
        "--min-group-size", help=help_of(_S, "min_group_size"))] = default(_S, "min_group_size"),
    cluster: Annotated[str, typer.Option(
        "--cluster", help=help_of(_S, "cluster").replace("(null:", "('none':"))] = default(
        _S, "cluster"),
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    steer: Annotated[
        str | None,
        typer.Option(
            "--steer",
            help="Steerable pluralism: YAML/JSON {group: view text} or 'sim'; each group's "
            "accuracy with its view before the prompt (after) vs without (before), same --model.",
        ),
    ] = None,
    steer_by: Annotated[
        str,
        typer.Option("--steer-by", help="Grouping whose view each pair gets (with --steer)."),
    ] = "group",
) -> None:
    """Held-out preference accuracy per group: base model (before) vs trained model (after);
    with --compare, the differences between two evaluated runs."""
    settings_ = from_options(EvaluateSettings, margin=margin, beta=beta, n_boot=n_boot,
                             alpha=alpha, min_group_size=min_group_size,
                             cluster=None if cluster == "none" else cluster)
    if compare is not None:
        if data is not None or model is not None or margins is not None:
            raise InputError(
                "--compare reads two evaluated runs: leave out --data, --model and --margins"
            )
        _compare(compare, out, group_by, n_boot, alpha, seed, min_group_size)
        return
    if data is None or out is None:
        raise InputError("give --data and --out (or --compare RUN_A RUN_B)")
    from pluralign.data.preferences import make_provenance, read_jsonl
    from pluralign.evaluate.run import evaluate_margins, evaluate_models

    prefs = read_jsonl(data)
    if not prefs.pairs:
        raise InputError("no preference pairs in the held-out file", where=str(data))
    rows = [p.to_dict() for p in prefs.pairs]
    inputs: dict[str, Path] = {"data": data}
    settings = {
        "beta": beta,
        "margin": margin,
        "model": str(model) if model else None,
        "ref": str(ref) if ref else None,
        "before": str(before) if before else None,
    }
    opts = {
        "groupings": group_by or None,
        "n_boot": settings_.n_boot,
        "alpha": settings_.alpha,
        "seed": seed,
        "min_group_size": settings_.min_group_size,
        "cluster": settings_.cluster,
    }
    if steer is not None:
        _steer(rows, steer, steer_by, model, ref, beta, data, out, inputs, settings, opts, seed)
        return
    if margins is not None:
        inputs["margins"] = margins
        after_m, before_m = _read_margins(margins, len(rows))
        prov = make_provenance("evaluate", inputs=inputs, seed=seed, settings=settings)
        result = evaluate_margins(
            rows,
            before_m if before_m is not None else [0.0] * len(rows),
            after_m,
            provenance=prov,
            **opts,
        )
    else:
        if model is None or ref is None:
            raise InputError("give --model and --ref (or precomputed --margins)")
        from pluralign.models import is_embedded_name

        for name, path in (("--model", model), ("--ref", ref), ("--before", before)):
            if path is not None and not is_embedded_name(path) and not path.is_dir():
                raise InputError(f"{name} folder not found", where=str(path))
        prov = make_provenance("evaluate", inputs=inputs, seed=seed, settings=settings)
        with console.status("scoring held-out pairs with the model and its reference"):
            result = evaluate_models(
                model,
                ref,
                prefs.pairs,
                settings_,
                seed=seed,
                before_dir=before,
                groupings=group_by or None,
                provenance=prov,
            )
    path = result.write(out)
    _print_summary(result)
    console.print(f"wrote {path}")


def _steer(rows, steer, steer_by, model, ref, beta, data, out, inputs, settings, opts, seed):
    """``--steer VIEWS``: unsteered (before) vs steered (after) accuracy of one model."""
    from pluralign.data.preferences import make_provenance
    from pluralign.data.steer import SIM_VIEWS, load_views
    from pluralign.evaluate.steer import evaluate_steering

    if model is None:
        raise InputError("--steer needs --model (the model to steer)")
    for name, path in (("--model", model), ("--ref", ref)):
        if path is not None and not path.is_dir():
            raise InputError(f"{name} folder not found", where=str(path))
    views = load_views(steer)
    if steer != SIM_VIEWS:
        inputs["views"] = Path(steer)
    settings = {
        **settings,
        "steer": steer,
        "steer_by": steer_by,
        "before": "unsteered",
        "after": "steered",
    }
    prov = make_provenance("evaluate.steer", inputs=inputs, seed=seed, settings=settings)
    opts = {**opts, "groupings": opts["groupings"] or [steer_by]}
    with console.status("scoring held-out pairs with and without each group's view"):
        result = evaluate_steering(
            model, rows, views, steer_by, ref_dir=ref, beta=beta, provenance=prov, **opts
        )
    path = result.write(out)
    console.print("before = unsteered, after = steered by each group's own view")
    _print_summary(result, steer_by)
    console.print(f"wrote {path}")


def _compare(runs, out, group_by, n_boot, alpha, seed, min_group_size) -> None:
    """``--compare RUN_A RUN_B``: print B - A per group, worst first; write compare.json and
    the trade-off plot into ``--out`` when given."""
    from rich.table import Table

    from pluralign.evaluate.compare import compare_runs, load_run, tradeoff_png, tradeoff_points
    from pluralign.io import atomic_write_text

    a, b = (load_run(r) for r in runs)
    if a.label == b.label:
        a, b = load_run(runs[0], str(runs[0])), load_run(runs[1], str(runs[1]))
    result = compare_runs(
        a,
        b,
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
        min_group_size=min_group_size,
        groupings=group_by or None,
    )
    pct = round(100 * (1 - alpha))
    A, B = result.labels

    def cell(i) -> str:
        return f"{i.estimate:.3f}"

    def ci(i) -> str:
        return f"{i.estimate:+.3f} [{i.low:+.3f}, {i.high:+.3f}]"

    console.print(
        f"A = {A}, B = {B}: held-out accuracy after training, B - A with {pct}% paired "
        "intervals, worst group (by A) first"
    )
    for o in result.overall:
        table = Table("group", "n", "A", "B", "B - A", title=f"{o.subset} prompts")
        table.add_row("mean", str(o.n), cell(o.a), cell(o.b), ci(o.difference))
        for w in (w for w in result.worst if w.subset == o.subset):
            name = f"worst {w.grouping} ({w.worst_a} / {w.worst_b})"
            table.add_row(name, "", cell(w.a), cell(w.b), ci(w.difference))
        for g in (g for g in result.groups if g.subset == o.subset):
            name = f"{g.grouping}: {g.group}"
            table.add_row(name, str(g.n), cell(g.a), cell(g.b), ci(g.difference))
        console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "compare.json", result.to_json())
        subset = "divisive" if any(o.subset == "divisive" for o in result.overall) else "all"
        grouping = next((w.grouping for w in result.worst if w.subset == subset), None)
        if grouping is not None:
            tradeoff_png(
                tradeoff_points(result, subset, grouping),
                out / "tradeoff.png",
                title=f"{subset} prompts, worst {grouping} group",
            )
        console.print(f"wrote {out / 'compare.json'}")


def _print_summary(result, grouping: str = "group") -> None:
    from rich.table import Table

    table = Table("subset", "grouping", "group", "n", "before", "after (95% CI)")
    for g in (*result.overall, *(g for g in result.groups if g.grouping == grouping)):
        table.add_row(
            g.subset,
            g.grouping,
            g.group,
            str(g.n),
            f"{g.before.estimate:.3f}",
            f"{g.after.estimate:.3f} [{g.after.low:.3f}, {g.after.high:.3f}]",
        )
    console.print(table)
    for gap in result.gaps:
        if gap.after is not None and gap.grouping == grouping:
            console.print(
                f"worst-group gap {gap.subset}/{gap.grouping}: "
                f"{gap.after.gap.estimate:.3f} (worst: {gap.after.worst_group})"
            )


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_cmd)
