"""The stage functions of a pluralign run (one way to do each thing; ``pipeline`` and ``demo``
use the same functions).

Each takes a :class:`~pluralign.run.runner.StageContext`, reads its settings (everything that
changes its output is in ``ctx.settings`` or a hashed input, so the runner's fingerprint is
right), reads earlier stages' files from the run folder (never only ``ctx.shared``: a resumed run
has none) and writes into ``ctx.out`` with the layout of ``docs/run_folder.md``.
"""

from __future__ import annotations

from pluralign.io import write_json_atomic
from pluralign.run.runner import StageContext

DB_FILE = "pluralign.db"
SLUG = "demo"


# -- deliberation ------------------------------------------------------------------------------
def aggregate_inputs(ctx: StageContext):
    """The votes aggregated in this run: the panel's (simulated input), a Polis folder or the
    store's assembly (``settings['source']``)."""
    from pluralign.aggregate import from_store, read_polis
    from pluralign.aggregate.stage import AggregateInputs

    src = ctx.settings["source"]
    if src["kind"] == "simulate":
        folder = ctx.stage_dir("simulate")
        if src.get("panel_only"):
            import pandas as pd

            from pluralign.simulate import panel_conversation

            panel = set(pd.read_csv(ctx.stage_dir("panel") / "panel.csv", dtype=str)["id"])
            folder = panel_conversation(folder, panel, ctx.out / "panel-votes")
        matrix = read_polis(folder)
    elif src["kind"] == "polis":
        matrix = read_polis(src["path"])
    else:
        matrix = from_store(src["db"], src["slug"])
    return AggregateInputs(matrix, src["title"])


def stage_moral_graph(ctx: StageContext) -> None:
    """A small simulated values assembly and its moral graph (``moral_graph/``)."""
    from pluralign.moralgraph.demo import stage_moralgraph

    stage_moralgraph(ctx)


def stage_report(ctx: StageContext) -> None:
    """One self-contained HTML report of the run: ``RUN/report.html``."""
    from pluralign.report.build import write_report

    path, sections = write_report(ctx.run_dir, ctx.run_dir / "report.html",
                                  ctx.settings.get("title"))
    write_json_atomic(ctx.out / "sections.json", [s.id for s in sections], sort_keys=True,
                      default=str)
