"""``pluralign run pipeline.yaml [--from STAGE]`` and ``pluralign init [PATH]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
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


def run_cmd(
    config: Annotated[Path, typer.Argument(
        help="pipeline.yaml (write one with `pluralign init`).")],
    from_stage: Annotated[str | None, typer.Option(
        "--from", help="Run this stage and all later ones again even if up to date.")] = None,
) -> None:
    """Run the pipeline a YAML file describes; re-runs skip stages that are up to date."""
    from pluralign.config import load_pipeline_config
    from pluralign.pipeline import run_pipeline

    cfg = load_pipeline_config(config)
    with progress_bar() as progress:
        result = run_pipeline(cfg, from_stage=from_stage, progress=progress)
    print_outcomes(result, f"pluralign run → {cfg.run_dir}")
    report = Path(cfg.run_dir) / "report.html"
    if report.is_file():
        console.print(str(report.resolve()), soft_wrap=True)


def init_cmd(
    path: Annotated[Path, typer.Argument(help="File to write.")] = Path("pipeline.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example pipeline.yaml."""
    from pluralign.config import EXAMPLE_YAML
    from pluralign.io import atomic_write_text

    if path.exists() and not force:
        raise InputError("file exists", where=str(path), hint="use --force to overwrite it")
    atomic_write_text(path, EXAMPLE_YAML)
    console.print(f"wrote {path}; edit inputs: and model:, then `pluralign run {path}`")


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
    app.command("init")(init_cmd)
