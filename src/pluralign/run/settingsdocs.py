"""Each stage page in ``docs/`` starts with its settings table, generated from the settings
dataclass: ``python -m pluralign.run.settingsdocs`` rewrites the tables in place (a test checks
they are current).

The table sits right under the page's title, between ``<!-- settings:NAME -->`` and
``<!-- /settings -->``; a page without the markers gets them inserted there.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from pluralign.contract import settings_table

PAGES: dict[str, tuple[str, ...]] = {
    "algorithms.md": ("pluralign.aggregate.settings:AggregateSettings",),
    "evaluation.md": ("pluralign.evaluate.settings:EvaluateSettings",),
    "sortition.md": ("pluralign.panel.settings:PanelSettings",),
    "moral_graph.md": ("pluralign.moralgraph.settings:MoralGraphSettings",),
    "preferences.md": ("pluralign.data.settings:DataSettings",),
    "training.md": ("pluralign.train.settings:TrainSettings",
                    "pluralign.models.settings:ModelSettings",
                    "pluralign.models.settings:TinySettings"),
    "run_folder.md": ("pluralign.report.settings:ReportSettings",),
    "llm.md": ("pluralign.llm.settings:SynthSettings",),
    "simulator.md": ("pluralign.simulate.settings:SimulateSettings",),
    "sensemaking.md": ("pluralign.constitution.settings:ConstitutionSettings",),
    "pipeline.md": ("pipeline",),
}
"""Stage page (in docs/) -> the settings classes whose tables open it (``pipeline``: the table
of pipeline.yaml's stage sections, :func:`pipeline_block`, where its markers are)."""

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _load(ref: str) -> type:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def block(ref: str) -> str:
    """The marked settings table of the class ``ref`` (``module:Class``)."""
    cls = _load(ref)
    name = cls.__name__
    intro = (f"**Settings** (`{name}`, `{cls.__module__}`; the `{cls.section}:` section of "
             f"pipeline.yaml, and the options of the command that runs the stage):")
    return (f"<!-- settings:{name} (generated: python -m pluralign.run.settingsdocs) -->\n"
            f"{intro}\n\n{settings_table(cls)}\n<!-- /settings -->")


SECTIONS: tuple[tuple[str, str], ...] = (
    ("inputs.simulate", "simulator.md"), ("model", "training.md"), ("panel", "sortition.md"),
    ("aggregate", "algorithms.md"), ("constitution", "sensemaking.md"), ("synth", "llm.md"),
    ("data", "preferences.md"), ("train", "training.md"), ("evaluate", "evaluation.md"),
    ("report", "run_folder.md"), ("moral_graph", "moral_graph.md"))
"""pipeline.yaml's stage sections, in the order of a run, and the page holding each table."""

LONG = 20
"""A section with more fields than this shows its class's table's page instead of a list."""


def _flow(data: dict) -> str:
    from pluralign.contract import _show

    parts = []
    for key, value in data.items():
        shown = _flow(value) if isinstance(value, dict) else _show(value)
        parts.append(f"{key}: {shown}")
    return "{" + ", ".join(parts) + "}"


def pipeline_block() -> str:
    """The marked table of pipeline.yaml's stage sections: each one's settings class and
    defaults, from the section models built from the settings classes (engine fields, such as
    ``aggregate.panel_only``, included)."""
    from pluralign.run.config import Inputs, PipelineConfig

    rows = ["| section | settings | defaults |", "|---|---|---|"]
    for name, page in SECTIONS:
        if name == "inputs.simulate":
            section = typing_arg(Inputs.model_fields["simulate"].annotation)()
        else:
            section = PipelineConfig.model_fields[name].default
        cls = section.settings_cls
        data = section.model_dump(mode="json", exclude={"llm"})
        shown = (f"every field of the table in docs/{page} ({len(data)} settings)"
                 if len(data) > LONG else f"`{_flow(data)}`")
        rows.append(f"| `{name}` | `{cls.__name__}` (docs/{page}) | {shown} |")
    return ("<!-- settings:pipeline (generated: python -m pluralign.run.settingsdocs) -->\n"
            "**Stage sections** (each built from its stage's settings class: the defaults "
            "below are the classes'):\n\n" + "\n".join(rows) + "\n<!-- /settings -->")


def typing_arg(annotation):
    """``X`` of ``X | None``."""
    import typing

    return next(a for a in typing.get_args(annotation) if a is not type(None))


def render(text: str, refs: tuple[str, ...]) -> str:
    """``text`` (a page) with its settings tables current."""
    for ref in refs:
        name = ref.split(":")[-1]
        new = pipeline_block() if ref == "pipeline" else block(ref)
        pattern = re.compile(rf"<!-- settings:{name}\b.*?<!-- /settings -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _, new=new: new, text, count=1)
        elif ref == "pipeline":
            raise ValueError("the pipeline table needs its markers in the page")
        else:  # after the page's last settings table, else under the title
            ends = [m.end() for m in re.finditer(r"<!-- /settings -->", text)]
            if ends and text.splitlines()[2].startswith("<!-- settings:"):
                text = f"{text[:ends[-1]]}\n\n{new}{text[ends[-1]:]}"
            else:
                title, _, rest = text.partition("\n")
                text = f"{title}\n\n{new}\n{rest}"
    return text


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for page, refs in PAGES.items():
        path = DOCS / page
        text = path.read_text(encoding="utf-8")
        new = render(text, refs)
        if new != text:
            stale.append(page)
            if not check:
                path.write_text(new, encoding="utf-8")
    if stale:
        print(("stale: " if check else "updated: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
