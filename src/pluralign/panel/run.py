"""File-level run of a selection (what the CLI and the demo call): read, select, weight, write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from pluralign import __version__
from pluralign.io import atomic_write_text, sha256_file


def outputs(result, pool: pd.DataFrame, weights, used=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``panel.csv`` (drawn members: pool columns, probability, weight), ``probabilities.csv``.

    ``used`` are the probabilities the panel was really drawn with (a uniform lottery's ticket
    frequencies); they go into ``panel.csv`` and, as ``lottery_probability``, beside the exact
    ones in ``probabilities.csv``."""
    probs = pd.DataFrame({"id": list(result.ids), "probability": result.probabilities})
    chosen = result.selected
    panel = pool[chosen].copy()
    panel["probability"] = (result.probabilities if used is None else used)[chosen]
    panel["weight"] = weights.weights
    if used is not None:
        probs["lottery_probability"] = used
    return panel, probs


def _dump(value) -> str:
    return json.dumps(_jsonable(value), indent=2, ensure_ascii=False) + "\n"


def _file(name: str, text: str) -> dict:
    return {"file": name, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def alternates_file(pool, quotas, panel, count, seed, households, source) -> tuple[str, list]:
    """``alternates.csv`` (rank, id, covers, pool columns) and the ranked list."""
    from pluralign.panel.replace import alternates

    ranked = alternates(
        pool, quotas, panel, count, seed=seed, households=households, pool_source=source
    )
    index = pool.set_index(pool["id"].astype(str).str.strip(), drop=False)
    table = index.loc[[a.id for a in ranked]].reset_index(drop=True)
    table.insert(0, "rank", [a.rank for a in ranked])
    table.insert(2, "covers", [" ".join(a.covers) for a in ranked])
    return table.to_csv(index=False), ranked


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
    households: str | None = None,
    relax: bool = False,
    uniform: int | None = None,
    seed_text: str | None = None,
    alternates: int = 0,
) -> dict:
    """Select a panel from files and write ``panel.csv``, ``probabilities.csv``, ``report.json``
    and ``audit.json`` into ``out`` (with ``uniform`` also ``lottery.csv``, with ``alternates``
    also ``alternates.csv``, after a relaxation ``quotas-relaxed.csv``; and the store when
    ``save``). All inputs are validated before anything is written.
    Returns ``{"report", "files", "panel_id"}``."""
    from dataclasses import replace

    from pluralign.panel.audit import (
        FORMAT,
        draw_history,
        environment,
        quota_rows,
        seed_from_text,
        seed_ticket,
    )
    from pluralign.panel.inputs import read_pool, read_population, read_quotas
    from pluralign.panel.select import select_panel
    from pluralign.panel.weights import pool_shares, soft_weights

    pool = read_pool(pool_path)
    quotas = read_quotas(quotas_path)
    population = read_population(population_path) if population_path else None
    if uniform is not None and uniform < 1:
        from pluralign.errors import InputError

        raise InputError(f"--uniform must be a whole number >= 1, got {uniform}", where="--uniform")
    if seed_text is not None and uniform is None:
        seed = seed_from_text(seed_text)  # a public seed for the draw itself
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
        households=households,
        relax=relax,
    )
    lottery = None
    used = None
    ticket = None
    if uniform is not None:
        from pluralign.panel.lottery import ticket_from_seed, uniform_lottery

        lottery = uniform_lottery(result, uniform)
        ticket = ticket_from_seed(seed_text, uniform) if seed_text else seed_ticket(seed, uniform)
        result = replace(result, panel=lottery.ticket(ticket))
        used = lottery.frequencies()
    chosen = result.selected
    target = population or pool_shares(pool, result.features)
    weights = soft_weights(
        pool[chosen], target, (result.probabilities if used is None else used)[chosen]
    )
    panel, probs = outputs(result, pool, weights, used)
    report = result.report()
    report.update(
        {
            "inputs": {
                "pool": {"path": str(pool_path), "sha256": sha256_file(pool_path)},
                "quotas": {"path": str(quotas_path), "sha256": sha256_file(quotas_path)},
            },
            "settings": {
                "gap": gap,
                "samples": samples,
                "time_limit": time_limit,
                "households": households,
                "relax": relax,
                "uniform": uniform,
            },
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
    }
    if result.stats.get("relaxed"):
        files["quotas-relaxed.csv"] = result.quotas.to_frame().to_csv(index=False)
    if lottery is not None:
        files["lottery.csv"] = lottery.to_csv()
        report["lottery"] = {k: v for k, v in lottery.stats.items()}
        report["lottery"]["ticket"] = ticket
    alt_list = []
    if alternates:
        files["alternates.csv"], alt_list = alternates_file(
            pool, result.quotas, result.panel, alternates, seed, households, str(pool_path)
        )
        report["alternates"] = {"requested": alternates, "listed": len(alt_list)}
    audit = {
        "format": FORMAT,
        "kind": "select",
        "pool": {"path": str(pool_path), "sha256": sha256_file(pool_path), "people": len(pool)},
        "households": households,
        "size": k,
        "quotas": {
            "path": str(quotas_path),
            "sha256": sha256_file(quotas_path),
            "rows": quota_rows(quotas),
            "relax": relax,
            "relaxed": result.stats.get("relaxed", []),
            "used": quota_rows(result.quotas),
        },
        "method": method,
        "settings": {"gap": gap, "samples": samples, "time_limit": time_limit},
        "solver": environment(),
        "population": report["inputs"].get("population"),
        "probabilities": _file("probabilities.csv", files["probabilities.csv"]),
        "lottery": None
        if lottery is None
        else {
            **_file("lottery.csv", files["lottery.csv"]),
            "tickets": lottery.size,
            "largest_change": lottery.stats["largest_change"],
            "bound": lottery.stats["bound"],
        },
        "seed": {"integer": seed, "text": seed_text},
        "draw": {"ticket": ticket, "panel": list(result.panel)},
        "panel": _file("panel.csv", files["panel.csv"]),
        "alternates": None
        if not alternates
        else {
            **_file("alternates.csv", files["alternates.csv"]),
            "count": alternates,
            "ids": [a.id for a in alt_list],
        },
    }
    audit["draws"] = draw_history(audit)  # the ticket picked here; public draws are appended
    panel_id = None
    if save:
        from pluralign.panel.store import save_panel
        from pluralign.store import open_store

        store = open_store(db)
        try:
            panel_id = save_panel(
                store,
                result if used is None else replace(result, probabilities=used),
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
    files["report.json"] = _dump(report)
    files["audit.json"] = _dump(audit)
    for fname, text in files.items():
        atomic_write_text(out / fname, text)
    return {"report": report, "files": list(files), "panel_id": panel_id, "audit": audit}


def _jsonable(value):
    from pluralign.panel.store import _jsonable as convert

    return convert(value)
