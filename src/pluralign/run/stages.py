"""The stage functions of a pluralign run (one way to do each thing; ``pipeline`` and ``demo``
use the same functions).

Each takes a :class:`~pluralign.run.runner.StageContext`, reads its settings (everything that
changes its output is in ``ctx.settings`` or a hashed input, so the runner's fingerprint is
right), reads earlier stages' files from the run folder (never only ``ctx.shared``: a resumed run
has none) and writes into ``ctx.out`` with the layout of ``docs/run_folder.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
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


# -- panel -------------------------------------------------------------------------------------
def _population_shares(path: Path) -> dict[str, dict[str, float]]:
    """Shares from a population JSON: ``{feature: {value: share}}``, or the simulator's file
    (shares under ``features``, with provenance and notes beside them)."""
    from pluralign.panel.inputs import check_population

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read population shares: {exc}", where=str(path)) from exc
    if isinstance(data, dict) and isinstance(data.get("features"), dict):
        data = data["features"]
    return check_population(data, source=str(path))


def stage_panel(ctx: StageContext) -> None:
    """Select the panel by sortition (quotas given, or made from population shares) and write
    ``panel.csv`` (with soft weights), ``probabilities.csv``, ``report.json``, ``quotas.csv``,
    ``weights.csv`` and the pool; or take an existing panel as it is."""
    from pluralign.panel.inputs import quotas_from_population, read_pool, write_quotas
    from pluralign.panel.run import run_select

    s = dict(ctx.settings)
    out = ctx.out
    if s.get("from_simulation"):
        sim = ctx.stage_dir("simulate")
        s.setdefault("pool", str(sim / "pool.csv"))
        if not s.get("quotas"):
            s.setdefault("population", str(sim / "population.json"))
    if s.get("panel"):
        panel = read_pool(s["panel"])
        panel.to_csv(out / "panel.csv", index=False)
    else:
        pool_path = Path(s["pool"])
        pop_path = None
        if s.get("population"):
            pop_path = out / "population.json"
            write_json_atomic(pop_path, _population_shares(Path(s["population"])),
                              sort_keys=True, default=str)
        if s.get("quotas"):
            quotas_path = Path(s["quotas"])
            shutil.copyfile(quotas_path, out / "quotas.csv")
        else:
            if pop_path is None:
                raise InputError("quotas need a quotas CSV or population shares")
            write_quotas(quotas_from_population(json.loads(pop_path.read_text()), s["size"],
                                                s["slack"]), out / "quotas.csv")
        run_select(pool_path=pool_path, quotas_path=out / "quotas.csv", k=s["size"],
                   method=s["method"], seed=ctx.seed, out=out, population_path=pop_path,
                   gap=s["gap"], samples=s["samples"], time_limit=s.get("time_limit"))
        shutil.copyfile(pool_path, out / "pool.csv")
        panel = read_pool(out / "panel.csv")
    if "weight" in panel.columns:
        panel[["id", "weight"]].to_csv(out / "weights.csv", index=False)


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
