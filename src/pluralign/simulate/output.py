"""Writing a simulated assembly to a folder: Polis CSVs, pool.csv, population.json, truth.json.

Every file is a pure function of the config (seed included) and the code version, so the same
seed gives byte-identical files. Formats: ``docs/formats.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pluralign import __version__
from pluralign.data.polis_format import write_polis
from pluralign.simulate.model import SimulatedAssembly

POOL_FILE = "pool.csv"
POPULATION_FILE = "population.json"
TRUTH_FILE = "truth.json"


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; these are ordinary outputs
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_simulation(sim: SimulatedAssembly, out_dir: str | Path) -> list[Path]:
    """Write the simulation's files into ``out_dir`` (created if missing); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_polis(sim.polis, out)
    _write_text(out / POOL_FILE, sim.pool.to_csv(index=False, lineterminator="\n"))
    population = {
        "provenance": {
            "generator": "pluralign.simulate",
            "pluralign": __version__,
            "seed": sim.config.seed,
            "bank_sha256": sim.bank.sha256,
        },
        "note": "Illustrative shares of an adult population (not a census). The volunteer pool "
        "is drawn from share x volunteer_propensity, renormalised per feature.",
        **sim.population.to_json(),
        "latent_group_shares": {
            g: round(float(s), 6)
            for g, s in zip(sim.group_ids, sim.population.group_shares(), strict=True)
        },
    }
    _write_text(out / POPULATION_FILE, _json(population))
    _write_text(out / TRUTH_FILE, _json(sim.truth))
    return [*written, out / POOL_FILE, out / POPULATION_FILE, out / TRUTH_FILE]
