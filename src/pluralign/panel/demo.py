"""The ``panel`` stage of ``pluralign demo``: a LEXIMIN panel from the simulated pool.

Reads ``simulate/pool.csv`` and ``simulate/population.json``, builds quotas around the population
shares, selects the panel, writes ``panel/`` (``quotas.csv``, ``panel.csv``, ``probabilities.csv``,
``report.json``) and stores it in the demo's database attached to the demo assembly.
"""

from __future__ import annotations

from typing import Any

PANEL_SETTINGS: dict[str, Any] = {"size": 24, "method": "leximin", "slack": 0.25, "gap": 1e-5}


def stage_panel(ctx) -> None:
    """Select a panel by sortition from the simulated pool (quotas from population shares)."""
    from pluralign.panel.inputs import quotas_from_population, read_population
    from pluralign.panel.run import atomic_write_text, run_select

    sim = ctx.stage_dir("simulate")
    settings = {**PANEL_SETTINGS, **ctx.settings}
    population = sim / "population.json"
    quotas = quotas_from_population(
        read_population(population), settings["size"], settings["slack"]
    )
    atomic_write_text(ctx.out / "quotas.csv", quotas.to_frame().to_csv(index=False))
    db = ctx.run_dir / "pluralign.db"
    summary = run_select(
        pool_path=sim / "pool.csv",
        quotas_path=ctx.out / "quotas.csv",
        k=settings["size"],
        method=settings["method"],
        seed=ctx.seed,
        out=ctx.out,
        population_path=population,
        gap=settings["gap"],
        db=str(db),
        save=db.exists(),
        name="demo panel",
        assembly="demo" if db.exists() else None,
    )
    ctx.shared["panel_report"] = summary["report"]
