"""``pluralign panel``: select a panel by sortition; make quotas from population shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, OutOption, SeedOption, console

panel_app = typer.Typer(
    help="Panel selection by sortition (leximin, maximin, nash, legacy).",
    no_args_is_help=True,
)


@panel_app.command("select")
def select_cmd(
    pool: Annotated[Path, typer.Option("--pool", help="Pool CSV: id + one column per feature.")],
    quotas: Annotated[Path, typer.Option("--quotas", help="Quotas CSV: feature,value,min,max.")],
    size: Annotated[int, typer.Option("--size", "-k", help="Panel size k.")],
    out: OutOption,
    method: Annotated[
        str, typer.Option("--method", help="leximin, maximin, nash or legacy.")
    ] = "leximin",
    seed: SeedOption = 0,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            help="Population shares JSON {feature: {value: share}} for the weights "
            "(default: the pool's shares).",
        ),
    ] = None,
    gap: Annotated[
        float,
        typer.Option(
            "--gap", help="Proven optimality gap at which each column-generation level stops."
        ),
    ] = 1e-6,
    samples: Annotated[
        int, typer.Option("--samples", help="legacy: runs used to estimate probabilities.")
    ] = 1000,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", help="Stop the solver after this many seconds (gap reported)."
        ),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Also store the result in the database (--db).")
    ] = False,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Panel name in the store.")] = None,
    assembly: Annotated[
        str | None, typer.Option("--assembly", help="Assembly slug to attach the stored panel to.")
    ] = None,
) -> None:
    """Select a panel of SIZE from POOL meeting QUOTAS; write panel.csv, probabilities.csv and
    report.json to OUT."""
    from pluralign.panel.run import run_select

    with console.status("selecting panel") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"{method}: {100 * done / max(total, 1):.0f}% done")

        summary = run_select(
            pool_path=pool,
            quotas_path=quotas,
            k=size,
            method=method,
            seed=seed,
            out=out,
            population_path=population,
            gap=gap,
            samples=samples,
            time_limit=time_limit,
            db=db if save else None,
            save=save,
            name=name,
            assembly=assembly,
            progress=progress,
        )
    r = summary["report"]
    console.print(
        f"{r['method']}: panel of {r['k']} from {r['pool_size']}; min probability "
        f"{r['min_probability']:.4f}, gini {r['gini']:.4f}, geometric mean "
        f"{r['geometric_mean']:.4f}, {r['support_size']} compositions, "
        f"{r['solver_time_s']:.1f} s"
    )
    if r.get("timed_out"):
        console.print(
            f"[yellow]time limit reached: every panel of the lottery meets the quotas, but its "
            f"fairness is not proven optimal (gap {r.get('gap', float('nan')):.2g}); "
            f"raise --time-limit for the optimum[/yellow]"
        )
    console.print(f"wrote {', '.join(summary['files'])} to {out}")
    if summary.get("panel_id") is not None:
        console.print(f"stored as panel {summary['panel_id']}")


@panel_app.command("quotas")
def quotas_cmd(
    population: Annotated[Path, typer.Option("--population", help="Population shares JSON.")],
    size: Annotated[int, typer.Option("--size", "-k", help="Panel size k.")],
    out: Annotated[Path, typer.Option("--out", help="Quotas CSV to write.")],
    slack: Annotated[float, typer.Option("--slack", help="Relative slack around share*k.")] = 0.1,
) -> None:
    """Write quotas (feature,value,min,max) keeping a panel of SIZE close to population shares."""
    from pluralign.io import atomic_write_text
    from pluralign.panel.inputs import quotas_from_population, read_population

    q = quotas_from_population(read_population(population), size, slack)
    atomic_write_text(out, q.to_frame().to_csv(index=False))
    console.print(f"wrote {len(q.items)} quotas to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(panel_app, name="panel")
