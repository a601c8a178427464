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
    from pluralign.contract import from_options
    from pluralign.report.stage import STAGE, ReportInputs

    settings = from_options(_R, title=title)
    with console.status("rendering the report"):
        result = STAGE.run(ReportInputs(run_dir, out or run_dir / "report.html"), settings, 0)
    console.print(f"sections: {', '.join(result.sections) or 'none'}")
    console.print(str(result.path.resolve()))


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
