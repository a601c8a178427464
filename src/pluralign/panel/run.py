"""File-level run of a selection (what the CLI and the demo call): read, select, weight, write."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pluralign import __version__
from pluralign.io import atomic_write_text, sha256_file


def outputs(result, pool: pd.DataFrame, weights) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``panel.csv`` (drawn members: pool columns, probability, weight), ``probabilities.csv``."""
    probs = pd.DataFrame({"id": list(result.ids), "probability": result.probabilities})
    chosen = result.selected
    panel = pool[chosen].copy()
    panel["probability"] = result.probabilities[chosen]
    panel["weight"] = weights.weights
    return panel, probs


def run_select(
    *,
    pool_path,
    quotas_path,
    k: int,
    method: str,
    seed: int,
    out,
    population_path=None,
    gap: float = 1e-6,
    samples: int = 1000,
    time_limit: float | None = None,
    db: str | None = None,
    save: bool = False,
    name: str | None = None,
    assembly: str | None = None,
    progress=None,
) -> dict:
    """Select a panel from files and write ``panel.csv``, ``probabilities.csv``, ``report.json``
    into ``out`` (and the store when ``save``). All inputs are validated before anything is
    written. Returns ``{"report", "files", "panel_id"}``."""
    from pluralign.panel.inputs import read_pool, read_population, read_quotas
    from pluralign.panel.select import select_panel
    from pluralign.panel.weights import panel_weights

    pool = read_pool(pool_path)
    quotas = read_quotas(quotas_path)
    population = read_population(population_path) if population_path else None
    result = select_panel(
        pool,
        quotas,
        k,
        method,
        seed,
        gap=gap,
        samples=samples,
        time_limit=time_limit,
        progress=progress,
        pool_source=str(pool_path),
    )
    weights = panel_weights(result, pool, population)
    panel, probs = outputs(result, pool, weights)
    report = result.report()
    report.update(
        {
            "inputs": {
                "pool": {"path": str(pool_path), "sha256": sha256_file(pool_path)},
                "quotas": {"path": str(quotas_path), "sha256": sha256_file(quotas_path)},
            },
            "settings": {"gap": gap, "samples": samples, "time_limit": time_limit},
            "weights": {
                "target": "population" if population else "pool",
                "formula": "w_i = (1/pi_i) * raking factors to the target margins, mean 1",
                "iterations": weights.iterations,
                "converged": weights.converged,
                "max_margin_error": weights.max_error,
                "missing_values": [f"{f}={v}" for f, v in weights.missing],
            },
            "version": __version__,
        }
    )
    if population_path:
        report["inputs"]["population"] = {
            "path": str(population_path),
            "sha256": sha256_file(population_path),
        }
    out = Path(out)
    files = {
        "panel.csv": panel.to_csv(index=False),
        "probabilities.csv": probs.to_csv(index=False, float_format="%.10g"),
        "report.json": json.dumps(_jsonable(report), indent=2) + "\n",
    }
    panel_id = None
    if save:
        from pluralign.panel.store import save_panel
        from pluralign.store import open_store

        store = open_store(db)
        try:
            panel_id = save_panel(
                store,
                result,
                name=name or f"{method}-seed{seed}",
                weights=dict(
                    zip(panel["id"].astype(str).str.strip(), weights.weights, strict=True)
                ),
                assembly=assembly,
                report=_jsonable(report),
            )
        finally:
            store.dispose()
        report["panel_id"] = panel_id
        files["report.json"] = json.dumps(_jsonable(report), indent=2) + "\n"
    for fname, text in files.items():
        atomic_write_text(out / fname, text)
    return {"report": report, "files": list(files), "panel_id": panel_id}


def _jsonable(value):
    from pluralign.panel.store import _jsonable as convert

    return convert(value)
