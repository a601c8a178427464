"""``pluralign panel``: select a panel by sortition; make quotas from population shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, OutOption, SeedOption, console
from pluralign.contract import default, help_of
from pluralign.panel.settings import PanelSettings

_S = PanelSettings

panel_app = typer.Typer(
    help="Panel selection by sortition (legacy, maximin, leximin, nash): quotas, households, "
    "transparent lotteries, replacements, audit.",
    no_args_is_help=True,
)

HouseholdsOption = Annotated[
    str | None,
    typer.Option(
        "--households",
        help=help_of(_S, "households").replace(" (null: no household rule)", ""),
    ),
]


@panel_app.command("select")
def select_cmd(
    pool: Annotated[Path, typer.Option("--pool", help="Pool CSV: id + one column per feature.")],
    quotas: Annotated[Path, typer.Option("--quotas", help="Quotas CSV: feature,value,min,max.")],
    size: Annotated[int, typer.Option("--size", "-k", help=help_of(_S, "size"))],
    out: OutOption,
    method: Annotated[str, typer.Option("--method", help=help_of(_S, "method"))] = default(
        _S, "method"),
    seed: SeedOption = 0,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            help="Population shares JSON {feature: {value: share}} for the weights "
            "(default: the pool's shares).",
        ),
    ] = None,
    gap: Annotated[float, typer.Option("--gap", help=help_of(_S, "gap"))] = default(_S, "gap"),
    samples: Annotated[int, typer.Option("--samples", help=help_of(_S, "samples"))] = default(
        _S, "samples"),
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help=help_of(_S, "time_limit").replace("; null: no limit", ""))
    ] = default(_S, "time_limit"),
    save: Annotated[
        bool, typer.Option("--save", help="Also store the result in the database (--db).")
    ] = False,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Panel name in the store.")] = None,
    assembly: Annotated[
        str | None, typer.Option("--assembly", help="Assembly slug to attach the stored panel to.")
    ] = None,
    households: Annotated[str | None, typer.Option(
        "--households", help=help_of(_S, "households").replace(" (null: no household rule)", ""))
    ] = default(_S, "households"),
    relax: Annotated[bool, typer.Option("--relax", help=help_of(_S, "relax"))] = default(
        _S, "relax"),
    uniform: Annotated[int | None, typer.Option(
        "--uniform", help="Round the lottery to M equally likely panels (lottery.csv: "
        "ticket,ids) that can be drawn in public; the panel is the ticket --seed-text (or "
        "--seed) picks.")] = default(_S, "uniform"),
    seed_text: Annotated[str | None, typer.Option(
        "--seed-text", help=help_of(_S, "seed_text").replace("without uniform",
                                                             "without --uniform"))
    ] = default(_S, "seed_text"),
    alternates: Annotated[int, typer.Option(
        "--alternates", help="Also draw a ranked reserve list of K alternates.")
    ] = default(_S, "alternates"),
) -> None:
    """Select a panel of SIZE from POOL meeting QUOTAS; write panel.csv, probabilities.csv,
    report.json and audit.json to OUT (lottery.csv with --uniform, alternates.csv with
    --alternates)."""
    from pluralign.contract import from_options
    from pluralign.panel.stage import STAGE, PanelInputs

    settings = from_options(_S, size=size, method=method, gap=gap, samples=samples,
                            time_limit=time_limit, households=households, relax=relax,
                            uniform=uniform, seed_text=seed_text, alternates=alternates)
    with console.status("selecting panel") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"{method}: {100 * done / max(total, 1):.0f}% done")

        result = STAGE.run(PanelInputs(Path(out), pool=pool, quotas=quotas,
                                       population=population, save=db if save else None,
                                       name=name, assembly=assembly, progress=progress),
                           settings, seed)
    summary = {"report": result.report, "files": list(result.files),
               "panel_id": result.panel_id}
    r = summary["report"]
    for change in r.get("relaxed", []):
        console.print(f"[yellow]relaxed the quotas: {change['text']}[/yellow]")
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
    lot = r.get("lottery")
    if lot:
        console.print(
            f"uniform lottery of {lot['tickets']} panels: largest probability change "
            f"{lot['largest_change']:.4f} (bound {lot['bound']:.4f}), min probability "
            f"{lot['min_probability']:.4f} (exact {lot['exact_min_probability']:.4f}); "
            f"ticket {lot['ticket']} drawn, {lot['time_s']:.1f} s"
        )
    if r.get("alternates"):
        a = r["alternates"]
        console.print(f"{a['listed']} of {a['requested']} alternates ranked in alternates.csv")
    console.print(f"wrote {', '.join(summary['files'])} to {out}")
    if summary.get("panel_id") is not None:
        console.print(f"stored as panel {summary['panel_id']}")


@panel_app.command("quotas")
def quotas_cmd(
    population: Annotated[Path, typer.Option("--population", help="Population shares JSON.")],
    size: Annotated[int, typer.Option("--size", "-k", help="Panel size k.")],
    out: Annotated[Path, typer.Option("--out", help="Quotas CSV to write.")],
    slack: Annotated[float, typer.Option("--slack", help=help_of(_S, "slack"))] = default(
        _S, "slack"),
) -> None:
    """Write quotas (feature,value,min,max) keeping a panel of SIZE close to population shares."""
    from pluralign.io import atomic_write_text
    from pluralign.panel.inputs import quotas_from_population, read_population

    q = quotas_from_population(read_population(population), size, slack)
    atomic_write_text(out, q.to_frame().to_csv(index=False))
    console.print(f"wrote {len(q.items)} quotas to {out}")


@panel_app.command("draw")
def draw_cmd(
    lottery: Annotated[Path, typer.Option("--lottery", help="lottery.csv (ticket,ids).")],
    seed_text: Annotated[
        str, typer.Option("--seed-text", help="The public seed, e.g. a random beacon value.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for draw.json (default: the lottery's folder)."),
    ] = None,
    pool: Annotated[
        Path | None,
        typer.Option("--pool", help="The pool CSV, if not where audit.json says it is."),
    ] = None,
) -> None:
    """Draw a ticket verifiably from a public seed: ticket = 1 + sha256(TEXT) mod M. In the
    selection's folder it also records the draw in audit.json and rewrites panel.csv."""
    from pluralign.panel.run_after import run_draw

    d = run_draw(lottery_path=lottery, seed_text=seed_text, out=out, pool_path=pool)
    if d["earlier"]:
        last = d["earlier"][-1]
        console.print(
            f"[yellow]this lottery was drawn in public before ({len(d['earlier'])} time(s); "
            f"last: ticket {last['ticket']} from {last['seed_text']!r} at {last['at']}); this "
            f"draw replaces it, and audit.json lists every draw[/yellow]",
            highlight=False,
        )
    console.print(f"ticket {d['ticket']} of {d['tickets']}: {' '.join(d['panel'])}")
    console.print(f"wrote {', '.join(d['files'])} to {d['out']}")


@panel_app.command("replace")
def replace_cmd(
    pool: Annotated[Path, typer.Option("--pool", help="Pool CSV the panel was drawn from.")],
    quotas: Annotated[Path, typer.Option("--quotas", help="Quotas CSV: feature,value,min,max.")],
    panel: Annotated[Path, typer.Option("--panel", help="The panel.csv (column id).")],
    dropouts: Annotated[
        str, typer.Option("--dropouts", help="Ids of the members who dropped out: ID,ID.")
    ],
    out: OutOption,
    method: Annotated[
        str, typer.Option("--method", help="Lottery over the completions: leximin, maximin, ...")
    ] = "leximin",
    seed: SeedOption = 0,
    households: HouseholdsOption = None,
    exclude: Annotated[
        str, typer.Option("--exclude", help="Further pool ids not to call: ID,ID.")
    ] = "",
    relax: Annotated[
        bool, typer.Option("--relax", help="Apply the smallest quota relaxation if needed.")
    ] = False,
    population: Annotated[
        Path | None,
        typer.Option("--population", help="Population shares JSON for the weights."),
    ] = None,
) -> None:
    """Replace dropouts keeping every quota (and households): the replacements are drawn from
    the LEXIMIN lottery over the feasible completions; writes panel.csv, replacements.csv,
    report.json and audit.json to OUT."""
    from pluralign.panel.run_after import run_replace

    with console.status("drawing replacements"):
        s = run_replace(
            pool_path=pool,
            quotas_path=quotas,
            panel_path=panel,
            dropouts=dropouts,
            out=out,
            method=method,
            seed=seed,
            households=households,
            exclude=[e for e in exclude.split(",") if e.strip()],
            relax=relax,
            population_path=population,
        )
    r = s["report"]
    for change in r["relaxed"]:
        console.print(f"[yellow]relaxed the quotas: {change['text']}[/yellow]")
    console.print(
        f"replaced {', '.join(r['dropouts'])} by {', '.join(r['replacements'])} "
        f"({r['candidates']} candidates; chances {r['min_probability']:.4f} to "
        f"{r['max_probability']:.4f})"
    )
    console.print(f"wrote {', '.join(s['files'])} to {out}")


@panel_app.command("verify")
def verify_cmd(
    folder: Annotated[Path, typer.Argument(help="The --out folder of a selection.")],
    pool: Annotated[
        Path | None,
        typer.Option("--pool", help="The pool CSV, if not where audit.json says it is."),
    ] = None,
) -> None:
    """Recompute a selection from its audit.json and check every recorded output (exit 1 if a
    check fails)."""
    from pluralign.errors import PluralignError
    from pluralign.panel.audit import verify_bundle

    with console.status("recomputing the selection"):
        checks = verify_bundle(folder, pool)
    for c in checks:
        mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {c.name}: {c.detail}", highlight=False, soft_wrap=True)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise PluralignError(
            f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}",
            where=str(folder / "audit.json"),
        )
    console.print(f"all {len(checks)} checks passed")


def register(app: typer.Typer) -> None:
    app.add_typer(panel_app, name="panel")
