"""Section loaders of the report: one function per section, reading its files from the run folder
(layout in docs/run_folder.md) and returning ``None`` when they are absent.

The loaders live by family: :mod:`.selection` (run, panel, probabilities), :mod:`.deliberation`
(opinions, consensus, constitution, moral graph) and :mod:`.outcomes` (training, evaluation,
judge); :data:`SECTIONS` lists them in report order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pluralign.report.public_section import public_eval_section
from pluralign.report.section import Section
from pluralign.report.sections.deliberation import (
    consensus_section,
    constitution_section,
    moral_graph_section,
    opinion_section,
)
from pluralign.report.sections.outcomes import (
    SUBSET_NOTES,
    evaluation_section,
    judge_section,
    training_section,
)
from pluralign.report.sections.selection import (
    panel_section,
    probabilities_section,
    run_section,
)

__all__ = [
    "SECTIONS",
    "SUBSET_NOTES",
    "consensus_section",
    "constitution_section",
    "evaluation_section",
    "judge_section",
    "moral_graph_section",
    "opinion_section",
    "panel_section",
    "probabilities_section",
    "public_eval_section",
    "run_section",
    "training_section",
]

SECTIONS: tuple[Callable[[Path], Section | None], ...] = (
    run_section,
    panel_section,
    probabilities_section,
    opinion_section,
    consensus_section,
    constitution_section,
    moral_graph_section,
    training_section,
    evaluation_section,
    judge_section,
    public_eval_section,
)
