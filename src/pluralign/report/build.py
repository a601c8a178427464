"""Build the run report: one self-contained HTML file from a run folder.

Each section has a loader that looks for its inputs in the run folder (layout in
``docs/run_folder.md``) and returns ``None`` when they are absent, so a partial run still gives
a report of what exists. A file that exists but cannot be read is an :class:`InputError` naming
it. Figures are embedded as base64 PNG data URIs; the HTML has no external assets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pluralign.errors import InputError
from pluralign.report.blocks import PARTS, Section
from pluralign.report.sections import SECTIONS, glossary_section


def build_sections(run_dir: str | Path) -> list[Section]:
    """Every section whose inputs exist in the run folder, in report order (the glossary last,
    when there is anything to explain)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise InputError(
            "run folder not found",
            where=str(run),
            hint="give the folder a `pluralign demo --out DIR` run wrote",
        )
    sections = [s for s in (f(run) for f in SECTIONS) if s is not None]
    return [*sections, glossary_section(run)] if sections else []


def render_report(
    run_dir: str | Path, title: str | None = None, sections: Sequence[Section] | None = None
) -> str:
    """The report's HTML text (``sections``: already built ones, else built here)."""
    import jinja2

    from pluralign import __version__

    if sections is None:
        sections = build_sections(run_dir)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pluralign.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    parts = [(part, heading, [s for s in sections if s.part == part]) for part, heading in PARTS]
    return template.render(
        title=title or f"pluralign report: {Path(run_dir).name}",
        sections=sections,
        parts=[p for p in parts if p[2]],
        version=__version__,
        run_dir=str(run_dir),
    )


def write_report(
    run_dir: str | Path, out: str | Path, title: str | None = None
) -> tuple[Path, list[Section]]:
    """Render the report and write it atomically; returns the path and the sections shown."""
    from pluralign.io import atomic_write_text

    sections = build_sections(run_dir)
    atomic_write_text(out, render_report(run_dir, title, sections))
    return Path(out), sections
