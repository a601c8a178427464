"""The run engine's commands: ``pluralign run pipeline.yaml [--from STAGE]``, ``pluralign init
[PATH]`` and ``pluralign demo`` (the demo's configuration is :mod:`pluralign.run.demo`)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import OutOption, SeedOption, console
from pluralign.errors import InputError


def progress_bar():
    """The rich progress bar of a run (one line; finished stages are printed above it)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def print_outcomes(result, title: str) -> None:
    from rich.table import Table

    table = Table("stage", "status", "seconds", title=title)
    for o in result.outcomes:
        table.add_row(o.name, o.status, f"{o.seconds:.1f}")
    console.print(table)


RoundsOption = Annotated[int | None, typer.Option(
    "--rounds", min=1, help="Rounds of iterative bootstrapping: each round after the first "
    "synthesises its data with the previous round's model and trains from it (overrides "
    "rounds.count; docs/rounds.md).")]


def print_rounds(run_dir: Path) -> None:
    """The per-round table of ``RUN/rounds.json`` (nothing for a one-round run)."""
    from rich.table import Table

    from pluralign.run.rounds import ROUNDS_FILE

    path = run_dir / ROUNDS_FILE
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    table = Table("round", "generator", "synth pairs", "train pairs", "accuracy (95% CI)",
                  "gain", "s", title="rounds: held-out accuracy on round 1's pairs (rounds.json)")
    for r in data["rounds"]:
        acc = r["metrics"]["accuracy"]
        gen = r["generator"] or "(no synthesis)"
        with contextlib.suppress(ValueError):  # the run's own models by their folder
            gen = str(Path(gen).relative_to(run_dir.resolve()))
        table.add_row(str(r["round"]), gen, str(r["pairs"]["synthesised"]),
                      str(r["pairs"]["train"]),
                      f"{acc['estimate']:.3f} [{acc['low']:.2f}-{acc['high']:.2f}]",
                      f"{r['metrics']['gain']:+.3f}", f"{r['seconds']:.0f}")
    console.print(table)
    if data.get("stopped"):
        console.print(f"stopped early: {data['stopped']['reason']}", soft_wrap=True)


def run_cmd(
    config: Annotated[Path, typer.Argument(
        help="pipeline.yaml (write one with `pluralign init`).")],
    from_stage: Annotated[str | None, typer.Option(
        "--from", help="Run this stage and all later ones again even if up to date.")] = None,
    rounds: RoundsOption = None,
) -> None:
    """Run the pipeline a YAML file describes; re-runs skip stages that are up to date."""
    from pluralign.run.config import load_pipeline_config, with_rounds
    from pluralign.run.pipeline import run_pipeline

    cfg = with_rounds(load_pipeline_config(config), rounds)
    with progress_bar() as progress:
        result = run_pipeline(cfg, from_stage=from_stage, progress=progress)
    print_outcomes(result, f"pluralign run → {cfg.run_dir}")
    print_rounds(Path(cfg.run_dir))
    report = Path(cfg.run_dir) / "report.html"
    if report.is_file():
        console.print(str(report.resolve()), soft_wrap=True)


def init_cmd(
    path: Annotated[Path, typer.Argument(help="File to write.")] = Path("pipeline.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example pipeline.yaml."""
    from pluralign.io import atomic_write_text
    from pluralign.run.config import EXAMPLE_YAML

    if path.exists() and not force:
        raise InputError("file exists", where=str(path), hint="use --force to overwrite it")
    atomic_write_text(path, EXAMPLE_YAML)
    console.print(f"wrote {path}; edit inputs: and model:, then `pluralign run {path}`")


def demo_cmd(
    out: OutOption = Path("pluralign-demo"),
    seed: SeedOption = 0,
    from_stage: Annotated[
        str | None,
        typer.Option("--from", help="Run this stage and all later ones again even if up to date."),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option("--objective", help="Training objective: weighted (default) | group-robust "
                     "(the worst-off opinion group's loss first; docs/training.md)."),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Fine-tune a tiny random model instead of the embedded "
                     "SmolLM2 (about a minute: the plumbing, not a real model)."),
    ] = False,
    rounds: RoundsOption = None,
) -> None:
    """The whole pipeline on a simulated assembly, fine-tuning the embedded SmolLM2-135M-Instruct
    (a few minutes on 2 CPU cores); ends with the path of OUT/report.html."""
    from rich.table import Table

    with progress_bar() as progress:
        from pluralign.run.demo import run_demo

        result = run_demo(out, seed=seed, from_stage=from_stage, progress=progress,
                          objective=objective, quick=quick, rounds=rounds)
    print_outcomes(result, f"pluralign demo → {out}")
    print_rounds(Path(out))
    summary = json.loads((Path(out) / "summary" / "summary.json").read_text())
    shares = Table("latent group", "population", "volunteer pool",
                   title="who volunteered (why sortition and weights matter)")
    for group, share in summary.get("group_shares", {}).items():
        shares.add_row(group, f"{share['population']:.0%}", f"{share['pool']:.0%}")
    console.print(shares)
    _print_consensus_accuracy(Path(out))
    console.print(str((Path(out) / "report.html").resolve()), soft_wrap=True)


def _print_consensus_accuracy(out: Path) -> None:
    """Held-out accuracy before → after on consensus prompts, per opinion group."""
    from rich.table import Table

    from pluralign.run.rounds import final_round

    out = out / final_round(out)
    path = out / "evaluate" / "metrics.json"
    if not path.is_file():
        return
    metrics = json.loads(path.read_text())
    table = Table("prompts", "group", "pairs", "before", "after", "gain (95% CI)",
                  "implicit reward",
                  title="held-out preference accuracy (opinion groups): base model before, "
                  "trained model after")
    for g in metrics.get("groups", []):
        if g["grouping"] == "group" and g["subset"] in ("consensus", "divisive"):
            gain = g["improvement"]
            implicit = g.get("implicit") or {}
            table.add_row(g["subset"], g["group"], str(g["n"]), f"{g['before']['estimate']:.2f}",
                          f"{g['after']['estimate']:.2f}",
                          f"{gain['estimate']:+.2f} [{gain['low']:+.2f}, {gain['high']:+.2f}]",
                          f"{implicit['estimate']:.2f}" if implicit else "")
    console.print(table)
    gen = out / "evaluate" / "generations.jsonl"
    if gen.is_file():
        from pluralign.io import iter_jsonl

        rows = [row for _, row in iter_jsonl(gen, what="generations")]
        changed = sum(r["changed"] for r in rows)
        loops = [sum(bool(r.get(f"repetitive_{k}")) for r in rows) for k in ("before", "after")]
        console.print(f"greedy answers to {len(rows)} held-out prompts: {changed} changed "
                      f"after training; repetitive before {loops[0]}, after {loops[1]} ({gen})",
                      soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
    app.command("run")(run_cmd)
    app.command("init")(init_cmd)
