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
    "training.md": ("pluralign.train.settings:TrainSettings",),
    "llm.md": ("pluralign.llm.settings:SynthSettings",),
    "simulator.md": ("pluralign.simulate.settings:SimulateSettings",),
    "sensemaking.md": ("pluralign.constitution.settings:ConstitutionSettings",),
}
"""Stage page (in docs/) -> the settings classes whose tables open it."""

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


def render(text: str, refs: tuple[str, ...]) -> str:
    """``text`` (a page) with its settings tables current."""
    for ref in refs:
        name = ref.split(":")[1]
        new = block(ref)
        pattern = re.compile(rf"<!-- settings:{name}\b.*?<!-- /settings -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _, new=new: new, text, count=1)
        else:  # under the title
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
