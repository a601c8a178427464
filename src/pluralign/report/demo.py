"""The ``report`` stage of ``pluralign demo``: ``RUN/report.html`` from everything the run wrote."""

from __future__ import annotations


def stage_report(ctx) -> None:
    """Write the self-contained HTML report of the run to RUN/report.html."""
    from pluralign.report.build import write_report

    path, sections = write_report(ctx.run_dir, ctx.run_dir / "report.html")
    (ctx.out / "sections.txt").write_text("\n".join(s.id for s in sections) + "\n")
    ctx.shared["report"] = path
