"""The run report: one self-contained HTML file (figures embedded) built from a run folder whose
layout is documented in docs/run_folder.md. Names load lazily (``pluralign --help`` stays fast)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "Section": "pluralign.report.build",
    "build_sections": "pluralign.report.build",
    "render_report": "pluralign.report.build",
    "write_report": "pluralign.report.build",
}
__all__ = [
    "Section",
    "build_sections",
    "render_report",
    "write_report",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.report.build import Section, build_sections, render_report, write_report
