"""The report as a run stage: ``run(inputs, settings, seed) -> ReportResult``.

One self-contained HTML page of a run folder (sections for the files present:
:func:`~pluralign.report.build.write_report`), written to ``inputs.out`` (a run's is
``RUN/report.html``, beside the stage folders it reports on). The result is the page's path and
the sections it shows; ``write`` records the section ids in the stage's ``sections.json`` (a
JSON list), which ``read`` reads back (the page is the run's ``report.html``, beside the
stage's folder). ``pluralign report`` runs the same stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pluralign.contract import StageSpec
from pluralign.report.settings import ReportSettings


@dataclass(frozen=True)
class ReportInputs:
    """The run folder to report on and the HTML file to write."""

    run_dir: Path
    out: Path


@dataclass(frozen=True)
class ReportResult:
    """Where the report is and which sections it shows (their ids, in order)."""

    path: Path
    sections: tuple[str, ...]

    def write(self, folder: str | Path) -> Path:
        from pluralign.io import write_json_atomic

        path = Path(folder) / "sections.json"
        write_json_atomic(path, list(self.sections), sort_keys=True)
        return path

    @classmethod
    def read(cls, folder: str | Path) -> ReportResult:
        from pluralign.io import read_json

        folder = Path(folder)
        ids = read_json(folder / "sections.json", what="report record")
        return cls(folder.parent / "report.html", tuple(ids))


def run(inputs: ReportInputs, settings: ReportSettings, seed: int) -> ReportResult:
    """One self-contained HTML report of the run: ``RUN/report.html``."""
    from pluralign.report.build import write_report

    path, sections = write_report(inputs.run_dir, inputs.out, settings.title)
    return ReportResult(Path(path), tuple(s.id for s in sections))


STAGE = StageSpec("report", ReportSettings, run, ReportResult, reads=("*",))
