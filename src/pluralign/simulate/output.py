"""Writing a simulated assembly to a folder: Polis CSVs, pool.csv, population.json, truth.json.

Every file is a pure function of the config (seed included) and the code version, so the same
seed gives byte-identical files. Formats: ``docs/formats.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pluralign import __version__
from pluralign.formats.polis import write_polis
from pluralign.io import atomic_write_text
from pluralign.simulate.model import SimulatedAssembly

POOL_FILE = "pool.csv"
POPULATION_FILE = "population.json"
TRUTH_FILE = "truth.json"


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_simulation(sim: SimulatedAssembly, out_dir: str | Path) -> list[Path]:
    """Write the simulation's files into ``out_dir`` (created if missing); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_polis(sim.polis, out)
    atomic_write_text(out / POOL_FILE, sim.pool.to_csv(index=False, lineterminator="\n"))
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
    atomic_write_text(out / POPULATION_FILE, _json(population))
    atomic_write_text(out / TRUTH_FILE, _json(sim.truth))
    return [*written, out / POOL_FILE, out / POPULATION_FILE, out / TRUTH_FILE]


def panel_conversation(sim_dir: str | Path, panel_ids: set[str], out_dir: str | Path) -> Path:
    """The simulated conversation restricted to the votes of the pool members ``panel_ids`` (a
    Polis folder in ``out_dir``: the simulation's ``comments.csv`` and the panel's rows of
    ``votes.csv``); ``truth.json`` maps pool ids to the conversation's voter ids."""
    import shutil

    import pandas as pd

    sim, out = Path(sim_dir), Path(out_dir)
    truth = json.loads((sim / TRUTH_FILE).read_text(encoding="utf-8"))
    voters = {int(p["participant"]) for p in truth["participants"] if p["id"] in panel_ids}
    votes = pd.read_csv(sim / "votes.csv")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sim / "comments.csv", out / "comments.csv")
    votes[votes["voter-id"].isin(voters)].to_csv(out / "votes.csv", index=False)
    return out
