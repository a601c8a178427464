"""The stage functions of a pluralign run (one way to do each thing; ``pipeline`` and ``demo``
use the same functions).

Each takes a :class:`~pluralign.run.runner.StageContext`, reads its settings (everything that
changes its output is in ``ctx.settings`` or a hashed input, so the runner's fingerprint is
right), reads earlier stages' files from the run folder (never only ``ctx.shared``: a resumed run
has none) and writes into ``ctx.out`` with the layout of ``docs/run_folder.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pluralign.io import write_json_atomic
from pluralign.run.runner import StageContext

DB_FILE = "pluralign.db"
SLUG = "demo"


# -- simulated input ---------------------------------------------------------------------------
def stage_simulate(ctx: StageContext) -> None:
    """Simulate the assembly and write its files into ``simulate/``."""
    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    s = ctx.settings
    sim = simulate_assembly(SimulationConfig(participants=s["participants"],
                                             statements=s["statements"],
                                             vote_rate=s.get("vote_rate", 0.5), seed=ctx.seed))
    write_simulation(sim, ctx.out)


def stage_store(ctx: StageContext) -> None:
    """Load the simulated conversation (with pool demographics) into ``RUN/pluralign.db``."""
    from pluralign.data.polis import import_polis
    from pluralign.store import open_store

    path = ctx.run_dir / DB_FILE
    for suffix in ("", "-wal", "-shm"):  # the run owns this store: start it fresh
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(str(path))
    try:
        import_polis(store, ctx.stage_dir("simulate"), SLUG)
    finally:
        store.dispose()
    (ctx.out / "store.json").write_text(json.dumps({"db": str(path), "slug": SLUG}) + "\n")


def stage_summary(ctx: StageContext) -> None:
    """Count what the store holds and what the simulation's truth says (``summary.json``)."""
    from pluralign.store import open_store
    from pluralign.store.queries import assembly_counts, get_assembly

    store = open_store(str(ctx.run_dir / DB_FILE))
    try:
        with store.session() as s:
            summary: dict[str, Any] = assembly_counts(s, get_assembly(s, SLUG).id)
    finally:
        store.dispose()
    truth = json.loads((ctx.stage_dir("simulate") / "truth.json").read_text())
    summary["true_consensus"] = len(truth["consensus"])
    summary["true_divisive"] = len(truth["divisive"])
    summary["latent_groups"] = len(truth["groups"])
    pool_size = sum(g["pool_count"] for g in truth["groups"]) or 1
    summary["group_shares"] = {
        g["id"]: {"population": g["population_share"],
                  "pool": round(g["pool_count"] / pool_size, 4)} for g in truth["groups"]}
    (ctx.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


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
