"""Settings of the report stage: ``pipeline.yaml``'s ``report:`` section and ``pluralign
report``'s options take theirs from :class:`ReportSettings`."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting


@dataclass(frozen=True)
class ReportSettings(Settings):
    """What the HTML report of a run is called."""

    section = "report"

    title: str | None = setting(
        None, "Report title (when none is given: one made from the run, e.g. its deliberation "
        "and model).")
