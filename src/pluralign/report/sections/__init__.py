"""Section loaders of the report: one function per section, reading its files from the run folder
(layout in docs/run_folder.md) and returning ``None`` when they are absent.

The report reads as a result first: :mod:`.headline` (what ran, which model, before → after per
group, worst group named), :mod:`.rounds` (the per-round curve of a run of several rounds),
then the result in detail (:mod:`.evaluation`, :mod:`.generations`,
the judge and the public evaluation), then how it was made (:mod:`.selection`,
:mod:`.deliberation` with :mod:`.summary`, training), then the appendix (:mod:`.appendix`:
manifests in pipeline order, stage summaries in full, glossary). :data:`SECTIONS` lists them in
report order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pluralign.report.blocks import Section
from pluralign.report.public_section import public_eval_section
from pluralign.report.sections.appendix import files_section, glossary_section, run_section
from pluralign.report.sections.deliberation import (
    consensus_section,
    constitution_section,
    moral_graph_section,
    opinion_section,
)
from pluralign.report.sections.evaluation import SUBSET_NOTES, evaluation_section
from pluralign.report.sections.generations import generations_section
from pluralign.report.sections.headline import headline_section
from pluralign.report.sections.outcomes import judge_section, training_section
from pluralign.report.sections.rounds import rounds_section
from pluralign.report.sections.selection import panel_section, probabilities_section
from pluralign.report.sections.summary import summary_section

__all__ = [
    "SECTIONS",
    "SUBSET_NOTES",
    "consensus_section",
    "constitution_section",
    "evaluation_section",
    "files_section",
    "generations_section",
    "glossary_section",
    "headline_section",
    "judge_section",
    "moral_graph_section",
    "opinion_section",
    "panel_section",
    "probabilities_section",
    "public_eval_section",
    "rounds_section",
    "run_section",
    "summary_section",
    "training_section",
]

SECTIONS: tuple[Callable[[Path], Section | None], ...] = (
    headline_section,
    rounds_section,
    evaluation_section,
    generations_section,
    judge_section,
    public_eval_section,
    panel_section,
    probabilities_section,
    opinion_section,
    consensus_section,
    summary_section,
    constitution_section,
    moral_graph_section,
    training_section,
    run_section,
    files_section,
)
"""Report order; the glossary follows whenever any of these is present."""
