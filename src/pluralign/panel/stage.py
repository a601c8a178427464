"""The panel as a run stage: ``run(inputs, settings, seed) -> PanelResult``.

Sortition from a volunteer pool, with quotas given or made from population shares
(:func:`~pluralign.panel.inputs.quotas_from_population`), or an existing panel taken as it is.
The selection works in its folder (the solver reads the pool and quotas files and writes
``panel.csv`` (with soft weights), ``probabilities.csv``, ``report.json`` and ``audit.json``:
:func:`~pluralign.panel.run.run_select`); a run also keeps there the quotas it used, the
population shares, a copy of the pool and ``weights.csv`` (``docs/run_folder.md``; the report
reads them). ``pluralign panel select`` runs the same stage. :class:`PanelResult` holds every
file's bytes, so ``read`` gives back what ``write`` wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.contract import FilesResult, StageSpec
from pluralign.panel.settings import PanelSettings


@dataclass(frozen=True)
class PanelInputs:
    """What the panel is drawn from, and where: the volunteer ``pool`` with ``quotas`` or
    ``population`` shares (quotas made from them; also the weights' target), or an existing
    ``panel``. ``folder``: where the selection works and writes. ``keep_pool``: also write the
    run's files (the pool's copy, ``weights.csv``). ``save``: store the panel in this database
    (with ``name`` and ``assembly``); ``progress(done, total)``: the solver's progress."""

    folder: Path
    pool: Path | None = None
    quotas: Path | None = None
    population: Path | None = None
    panel: Path | None = None
    keep_pool: bool = False
    save: str | None = None
    name: str | None = None
    assembly: str | None = None
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True)
class PanelResult(FilesResult):
    """The files of the panel's folder (name -> bytes)."""

    @property
    def report(self) -> dict[str, Any]:
        """``report.json`` (the selection's fairness figures; empty for a given panel)."""
        raw = self.files.get("report.json")
        return json.loads(raw) if raw is not None else {}

    @property
    def panel_id(self) -> int | None:
        """The stored panel's id (when the selection was saved)."""
        return self.report.get("panel_id")


def run(inputs: PanelInputs, settings: PanelSettings, seed: int) -> PanelResult:
    """Select the panel by sortition (quotas given, or made from population shares), or take
    an existing panel as it is."""
    from pluralign.errors import InputError
    from pluralign.io import atomic_write_bytes, write_json_atomic
    from pluralign.panel.inputs import (
        quotas_from_population,
        read_pool,
        read_population,
        write_quotas,
    )
    from pluralign.panel.run import run_select

    out = Path(inputs.folder)
    if inputs.keep_pool or inputs.panel is not None:  # (a command's bad input: no folder)
        out.mkdir(parents=True, exist_ok=True)
    names = ["panel.csv"]
    if inputs.panel is not None:
        panel = read_pool(inputs.panel)
        panel.to_csv(out / "panel.csv", index=False)
    else:
        if inputs.pool is None:
            raise InputError("a panel needs a volunteer pool (with quotas or population "
                             "shares) or an existing panel")
        quotas_path = inputs.quotas
        pop_path = inputs.population
        if inputs.keep_pool and pop_path is not None:  # the run keeps the shares it used
            pop_path = out / "population.json"
            write_json_atomic(pop_path, read_population(inputs.population), sort_keys=True,
                              default=str)
        if quotas_path is None:
            if pop_path is None:
                raise InputError("quotas need a quotas CSV or population shares")
            quotas_path = out / "quotas.csv"
            write_quotas(quotas_from_population(read_population(pop_path), settings.size,
                                                settings.slack), quotas_path)
        elif inputs.keep_pool:
            atomic_write_bytes(out / "quotas.csv", Path(quotas_path).read_bytes())
            quotas_path = out / "quotas.csv"
        names = run_select(pool_path=inputs.pool, quotas_path=quotas_path, k=settings.size,
                   method=settings.method, seed=seed, out=out, population_path=pop_path,
                   gap=settings.gap, samples=settings.samples, time_limit=settings.time_limit,
                   db=inputs.save, save=inputs.save is not None, name=inputs.name,
                   assembly=inputs.assembly, progress=inputs.progress,
                   households=settings.households, relax=settings.relax,
                   uniform=settings.uniform, seed_text=settings.seed_text,
                   alternates=settings.alternates)["files"]
        if inputs.keep_pool:
            atomic_write_bytes(out / "pool.csv", Path(inputs.pool).read_bytes())
        panel = read_pool(out / "panel.csv")
    if inputs.keep_pool and "weight" in panel.columns:
        panel[["id", "weight"]].to_csv(out / "weights.csv", index=False)
    if inputs.keep_pool:
        names += [n for n in RUN_FILES if (out / n).is_file()]
    return PanelResult.of_folder(out, names)


RUN_FILES = ("quotas.csv", "population.json", "pool.csv", "weights.csv")
"""What a run keeps beside the selection's files (``keep_pool``)."""


STAGE = StageSpec("panel", PanelSettings, run, PanelResult, reads=("simulate",))
