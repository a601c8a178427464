"""The run report: one self-contained HTML file (figures embedded) built from a run folder whose
layout is documented in docs/run_folder.md."""

from pluralign.report.build import Section, build_sections, render_report, write_report

__all__ = ["Section", "build_sections", "render_report", "write_report"]
