"""``pluralign report RUN_DIR --out report.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
from pluralign.contract import default, help_of
from pluralign.report.settings import ReportSettings

_R = ReportSettings


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Run folder (layout: docs/run_folder.md).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file to write (default: RUN_DIR/report.html)."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help=help_of(_R, "title"))] = default(
        _R, "title"),
) -> None:
    """Write one self-contained HTML report of a run (sections for the files present)."""
    from pluralign.report.build import write_report

    target = out or run_dir / "report.html"
    with console.status("rendering the report"):
        path, sections = write_report(run_dir, target, title)
    names = ", ".join(s.id for s in sections) or "none"
    console.print(f"sections: {names}")
    console.print(str(path.resolve()))


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
