"""``pluralign demo``: the whole pipeline on a simulated assembly, in seconds, offline.

The demo is a list of stages run by :mod:`pluralign.runner` into ``--out``: each stage is a
function taking a :class:`~pluralign.runner.StageContext` (its own folder ``ctx.out``, the run
folder, the seed, its settings, and ``ctx.shared`` for objects handed to later stages in the same
process). A later stage plugs in by adding one entry to :data:`DEMO_STAGES`; since a re-run skips
up-to-date stages, every stage must be able to work from the files earlier stages wrote (the
``shared`` objects are a shortcut, never a requirement).

Stages so far: ``simulate`` (synthetic assembly → ``simulate/``), ``store`` (load it into the
SQLite store ``OUT/pluralign.db``), ``summary`` (counts from the store, ``summary/summary.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from pluralign.clikit import OutOption, SeedOption, console
from pluralign.runner import Stage, StageContext

DB_FILE = "pluralign.db"
SLUG = "demo"
DEMO_SETTINGS: dict[str, Any] = {"participants": 240, "statements": 60}


def db_path(ctx: StageContext) -> Path:
    """The demo's SQLite store (one per run folder)."""
    return ctx.run_dir / DB_FILE


def stage_simulate(ctx: StageContext) -> None:
    """Simulate the assembly and write its files into ``simulate/``."""
    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    sim = simulate_assembly(
        SimulationConfig(
            participants=ctx.settings["participants"],
            statements=ctx.settings["statements"],
            seed=ctx.seed,
        )
    )
    write_simulation(sim, ctx.out)
    ctx.shared["simulation"] = sim


def stage_store(ctx: StageContext) -> None:
    """Load the simulated conversation (with pool demographics) into ``OUT/pluralign.db``."""
    from pluralign.data.cli import _simulated_people
    from pluralign.data.polis import import_polis
    from pluralign.store import open_store

    path = db_path(ctx)
    for suffix in ("", "-wal", "-shm"):  # the demo owns its store: start it fresh
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sim_dir = ctx.stage_dir("simulate")
    store = open_store(str(path))
    try:
        import_polis(store, sim_dir, SLUG, participants=_simulated_people(sim_dir))
    finally:
        store.dispose()
    (ctx.out / "store.json").write_text(json.dumps({"db": str(path), "slug": SLUG}) + "\n")


def stage_summary(ctx: StageContext) -> None:
    """Count what the store holds and what the simulation's truth says."""
    from sqlalchemy import func, select

    from pluralign.store import Participant, Statement, Vote, open_store
    from pluralign.store.queries import get_assembly, latest_votes

    store = open_store(str(db_path(ctx)))
    try:
        with store.session() as s:
            assembly = get_assembly(s, SLUG)
            count = lambda m: s.scalar(  # noqa: E731
                select(func.count()).select_from(m).where(m.assembly_id == assembly.id)
            )
            latest = latest_votes(s, assembly.id)
            accepted = s.scalar(
                select(func.count())
                .select_from(Statement)
                .where(Statement.assembly_id == assembly.id, Statement.moderation == "accepted")
            )
            summary = {
                "participants": count(Participant),
                "statements": count(Statement),
                "accepted_statements": accepted,
                "vote_events": count(Vote),
                "votes_counted": len(latest),
            }
    finally:
        store.dispose()
    truth = json.loads((ctx.stage_dir("simulate") / "truth.json").read_text())
    summary["true_consensus"] = len(truth["consensus"])
    summary["true_divisive"] = len(truth["divisive"])
    summary["latent_groups"] = len(truth["groups"])
    (ctx.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ctx.shared["summary"] = summary


DEMO_STAGES: list[tuple[str, Callable[[StageContext], None], tuple[str, ...], dict[str, Any]]] = [
    ("simulate", stage_simulate, (), DEMO_SETTINGS),
    ("store", stage_store, ("simulate",), {}),
    ("summary", stage_summary, ("store",), {}),
]
"""(name, function, stages it reads, settings) in run order. Later stages append here."""


def _moralgraph_stage(ctx: StageContext) -> None:
    """Simulate a small values assembly and summarise its moral graph (``moralgraph/``)."""
    from pluralign.moralgraph.demo import stage_moralgraph

    stage_moralgraph(ctx)


def _moralgraph_settings() -> dict[str, Any]:
    from pluralign.moralgraph.demo import MORALGRAPH_SETTINGS

    return dict(MORALGRAPH_SETTINGS)


DEMO_STAGES.append(("moralgraph", _moralgraph_stage, (), _moralgraph_settings()))


def _panel_stage(ctx: StageContext) -> None:
    """Select a LEXIMIN panel from the simulated pool (``panel/``; stored in the demo database)."""
    from pluralign.panel.demo import stage_panel

    stage_panel(ctx)


DEMO_STAGES.append(("panel", _panel_stage, ("simulate", "store"), {"size": 24, "slack": 0.25}))


def demo_stages() -> list[Stage]:
    return [
        Stage(name, fn, settings=dict(settings), after=after, description=fn.__doc__ or "")
        for name, fn, after, settings in DEMO_STAGES
    ]


def run_demo(out: Path, *, seed: int = 0, from_stage: str | None = None, progress=None):
    """Run the demo stages into ``out``; returns the :class:`~pluralign.runner.RunResult`."""
    from pluralign.runner import run_stages

    stages = demo_stages()
    on_start = on_done = None
    if progress is not None:
        task = progress.add_task("demo", total=len(stages))
        on_start = lambda st: progress.update(task, description=f"{st.name}…")  # noqa: E731
        on_done = lambda st, outcome: progress.advance(task)  # noqa: E731
    return run_stages(
        stages, out, seed=seed, from_stage=from_stage, on_start=on_start, on_done=on_done
    )


def demo_cmd(
    out: OutOption = Path("pluralign-demo"),
    seed: SeedOption = 0,
    from_stage: Annotated[
        str | None,
        typer.Option("--from", help="Run this stage and all later ones again even if up to date."),
    ] = None,
) -> None:
    """Run every stage that exists on a simulated assembly: simulate → store → summary …"""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        result = run_demo(out, seed=seed, from_stage=from_stage, progress=progress)
    stages = Table("stage", "status", "seconds", title=f"pluralign demo → {out}")
    for o in result.outcomes:
        stages.add_row(o.name, o.status, f"{o.seconds:.2f}")
    console.print(stages)
    summary = json.loads((Path(out) / "summary" / "summary.json").read_text())
    table = Table(
        "participants",
        "statements",
        "vote events",
        "true consensus",
        "true divisive",
        "latent groups",
        title="assembly",
    )
    table.add_row(
        *(
            str(summary[k])
            for k in (
                "participants",
                "statements",
                "vote_events",
                "true_consensus",
                "true_divisive",
                "latent_groups",
            )
        )
    )
    console.print(table)
    console.print(f"store: {Path(out) / DB_FILE} (assembly '{SLUG}')")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
